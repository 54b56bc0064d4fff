import https from 'node:https';
import { Pool } from 'undici';
import { createHttpsPool } from '@berth/https-pool';
import { createTlsConfig } from '@berth/tls-config';
import { closedLoop } from '../harness/load.js';
import { compareRounds } from '../harness/rounds.js';
import type { MultiVariant } from '../harness/rounds.js';
import { startServerProcess } from '../harness/server.js';
import type { ServerProcess } from '../harness/server.js';
import { sharedContext, testCa } from '../harness/tls-context.js';
import type { BenchResult, RunMode, Scenario } from '../harness/types.js';

const CONNECTIONS = 50;
const IN_FLIGHT = 50;

/**
 * req/s and client CPU µs/request of one closed-loop run of `op`; with `server`, also the
 * server process's CPU µs/request.
 */
export function throughputVariant(op: () => Promise<void>, durationMs: number, maxOps: number, server?: ServerProcess): MultiVariant {
  return async () => {
    const serverBefore = server === undefined ? 0 : await server.cpuMicros();
    const r = await closedLoop(op, { concurrency: IN_FLIGHT, durationMs, maxOps });
    if (r.completed === 0) throw new Error(`no request completed (${r.failed} failed)`);
    const values: Record<string, number> = { rps: (r.completed / r.elapsedMs) * 1000, cpu: r.cpuMicros / r.completed };
    if (server !== undefined) {
      const serverMicros = (await server.cpuMicros()) - serverBefore;
      values['serverCpu'] = serverMicros / r.completed;
    }
    return values;
  };
}

/** Runs each op `count` times, 50 at once, so every client has its connections open before round one. */
export async function warmUp(ops: readonly (() => Promise<void>)[], count: number): Promise<void> {
  for (const op of ops) await closedLoop(op, { concurrency: IN_FLIGHT, durationMs: 10_000, maxOps: count });
}

/** GET / through node:https with a keep-alive agent, body drained. */
export function httpsAgentGet(agent: https.Agent, port: number): () => Promise<void> {
  return () =>
    new Promise<void>((resolve, reject) => {
      const req = https.get({ agent, host: '127.0.0.1', port, path: '/', servername: 'localhost' }, (res) => {
        res.on('error', reject);
        res.on('end', resolve);
        res.resume();
      });
      req.on('error', reject);
    });
}

async function run(mode: RunMode): Promise<BenchResult[]> {
  const server = await startServerProcess('https');
  const ca = await testCa();
  const secureContext = await sharedContext();
  const connector = createTlsConfig({ ca, useSystemRoots: false, alpnProtocols: ['http/1.1'] });
  const berth = createHttpsPool(server.origin, { tls: connector, maxConnections: CONNECTIONS, minIdle: CONNECTIONS });
  const undici = new Pool(server.origin, { connections: CONNECTIONS, connect: { secureContext, servername: 'localhost' } });
  const agent = new https.Agent({ keepAlive: true, maxSockets: CONNECTIONS, secureContext });
  const durationMs = mode.tiny ? 150 : mode.quick ? 3000 : 8000;
  const maxOps = mode.tiny ? 200 : 5_000_000;
  try {
    await berth.ready();
    const berthGet = async () => {
      const res = await berth.request({ path: '/' });
      await res.dump();
    };
    const undiciGet = async () => {
      const res = await undici.request({ path: '/', method: 'GET' });
      await res.body.dump();
    };
    const agentGet = httpsAgentGet(agent, server.port);
    await warmUp([berthGet, undiciGet, agentGet], mode.tiny ? 50 : 1000);
    return await compareRounds({
      rounds: mode.tiny ? 1 : mode.quick ? 3 : 5,
      berth: throughputVariant(berthGet, durationMs, maxOps, server),
      peers: {
        'undici-pool': throughputVariant(undiciGet, durationMs, maxOps, server),
        'https-agent': throughputVariant(agentGet, durationMs, maxOps, server),
      },
      metrics: {
        rps: {
          id: 'h1-throughput',
          unit: 'req/s',
          better: 'higher',
          goal: (r) => ({
            text: '≥ 1.0× undici-pool and ≥ 2.8× https-agent',
            pass: (r.ratios['undici-pool'] ?? 0) >= 1 && (r.ratios['https-agent'] ?? 0) >= 2.8,
          }),
          notes: `${IN_FLIGHT} GETs in flight, ${CONNECTIONS} keep-alive TLS connections each, 2-byte bodies, ${durationMs} ms per round; server in a child process.`,
        },
        cpu: { id: 'h1-throughput@cpu', unit: 'µs/req', better: 'lower' },
        serverCpu: {
          id: 'h1-throughput@server-cpu',
          unit: 'µs/req',
          better: 'lower',
          notes: "The server process's CPU per request: one Node process, so 10⁶ / this is the most req/s it can answer, whoever calls it.",
        },
      },
    });
  } finally {
    await berth.close();
    await undici.close();
    agent.destroy();
    connector.close();
    await server.close();
  }
}

export const h1Throughput: Scenario = {
  id: 'h1-throughput',
  description: 'HTTP/1.1 req/s with 50 in flight over loopback TLS: https-pool vs undici Pool vs https.Agent',
  quick: true,
  run,
};

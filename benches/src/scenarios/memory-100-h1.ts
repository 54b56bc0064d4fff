import { once } from 'node:events';
import tls from 'node:tls';
import { createHttpsPool } from '@berth/https-pool';
import { createTlsConfig } from '@berth/tls-config';
import { runIsolated } from '../harness/isolated.js';
import { memoryNow } from '../harness/memory.js';
import { compareRounds } from '../harness/rounds.js';
import { startServerProcess } from '../harness/server.js';
import { sharedContext, testCa } from '../harness/tls-context.js';
import type { BenchResult, RunMode, Scenario } from '../harness/types.js';

/** Arguments of a measurement in a fresh process. */
interface Args {
  readonly origin: string;
  readonly port: number;
  readonly connections: number;
}

/** Berth side (run in a fresh process): growth from an https-pool holding `connections` idle TLS connections. */
export async function berthIdle(args: Args): Promise<Record<string, number>> {
  const connector = createTlsConfig({ ca: await testCa(), useSystemRoots: false, alpnProtocols: ['http/1.1'] });
  const before = await memoryNow();
  const pool = createHttpsPool(args.origin, { tls: connector, maxConnections: args.connections, minIdle: args.connections });
  try {
    await pool.ready();
    const after = await memoryNow();
    if (pool.stats().size < args.connections) throw new Error(`pool holds ${pool.stats().size} of ${args.connections}`);
    return { heap: after.heapExternal - before.heapExternal, rss: after.rss - before.rss };
  } finally {
    await pool.close();
    connector.close();
  }
}

/** raw-tls side (run in a fresh process): growth from `connections` tls.connect sockets on one shared context. */
export async function rawIdle(args: Args): Promise<Record<string, number>> {
  const secureContext = await sharedContext();
  const before = await memoryNow();
  const sockets: tls.TLSSocket[] = [];
  try {
    for (let i = 0; i < args.connections; i++) {
      const socket = tls.connect({ host: '127.0.0.1', port: args.port, servername: 'localhost', secureContext, ALPNProtocols: ['http/1.1'] });
      sockets.push(socket);
      await once(socket, 'secureConnect');
    }
    const after = await memoryNow();
    return { heap: after.heapExternal - before.heapExternal, rss: after.rss - before.rss };
  } finally {
    for (const s of sockets) s.destroy();
  }
}

async function run(mode: RunMode): Promise<BenchResult[]> {
  const server = await startServerProcess('https');
  const self = import.meta.url;
  const args: Args = { origin: server.origin, port: server.port, connections: mode.tiny ? 5 : 100 };
  const inChild = (fn: string) => () => runIsolated(self, fn, args, { timeoutMs: 60_000 });
  try {
    return await compareRounds({
      rounds: mode.tiny ? 1 : mode.quick ? 3 : 5,
      berth: inChild('berthIdle'),
      peers: { 'raw-tls': inChild('rawIdle') },
      metrics: {
        heap: {
          id: 'memory-100-h1@heap',
          unit: 'bytes',
          better: 'lower',
          goal: (r) => ({ text: '≤ 1 MB heap+external', pass: r.berth <= 1_000_000 }),
          notes: `Growth (after a forced GC) from opening ${args.connections} idle TLS connections: an https-pool with minIdle ${args.connections} vs ${args.connections} bare tls.connect sockets on one shared SecureContext; each measurement in a fresh client process.`,
        },
        rss: {
          id: 'memory-100-h1@rss',
          unit: 'bytes',
          better: 'lower',
          goal: (r) => ({ text: '≤ 1.1× raw-tls RSS', pass: (r.ratios['raw-tls'] ?? Infinity) <= 1.1 }),
        },
      },
    });
  } finally {
    await server.close();
  }
}

export const memory100H1: Scenario = {
  id: 'memory-100-h1',
  description: 'heap+external and RSS of 100 idle TLS connections: https-pool vs raw tls (each in a fresh process)',
  quick: true,
  run,
};

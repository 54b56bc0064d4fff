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

/** Growth of heap+external and RSS while `open()` holds its connections, then releases them. */
async function growth(open: () => Promise<() => Promise<void>>): Promise<{ heap: number; rss: number }> {
  const before = await memoryNow();
  const release = await open();
  try {
    const after = await memoryNow();
    return { heap: after.heapExternal - before.heapExternal, rss: after.rss - before.rss };
  } finally {
    await release();
  }
}

/**
 * Measures a fresh process twice: cold (the first connections also pay for compiling the
 * code they run and for lazily loaded modules, once per process), then warm, after the first
 * batch is closed (what each further 100 idle connections cost). The heap goal is read on the
 * warm measurement: that is the memory of the connections.
 */
async function coldThenWarm(open: (batch: 0 | 1) => Promise<() => Promise<void>>): Promise<Record<string, number>> {
  const cold = await growth(() => open(0));
  const warm = await growth(() => open(1));
  // RSS is read cold: in a warm process the second batch reuses pages the first one freed.
  return { heap: warm.heap, heapCold: cold.heap, rss: cold.rss };
}

/** Berth side (run in a fresh process): growth from an https-pool holding `connections` idle TLS connections. */
export async function berthIdle(args: Args): Promise<Record<string, number>> {
  // One connector per batch, both made before anything is measured: the warm batch must not
  // resume the tickets the cold one cached (raw-tls never resumes across its batches either).
  const ca = await testCa();
  const connectors = [0, 1].map(() => createTlsConfig({ ca, useSystemRoots: false, alpnProtocols: ['http/1.1'] }));
  try {
    return await coldThenWarm(async (batch) => {
      const connector = connectors[batch] as (typeof connectors)[number];
      const pool = createHttpsPool(args.origin, { tls: connector, maxConnections: args.connections, minIdle: args.connections });
      try {
        await pool.ready();
        if (pool.stats().size < args.connections) throw new Error(`pool holds ${pool.stats().size} of ${args.connections}`);
      } catch (error) {
        await pool.close();
        throw error;
      }
      return () => pool.close();
    });
  } finally {
    for (const connector of connectors) connector.close();
  }
}

/** raw-tls side (run in a fresh process): growth from `connections` tls.connect sockets on one shared context. */
export async function rawIdle(args: Args): Promise<Record<string, number>> {
  const secureContext = await sharedContext();
  return coldThenWarm(async () => {
    const sockets: tls.TLSSocket[] = [];
    const release = async () => {
      await Promise.all(
        sockets.map((s) => {
          const closed = once(s, 'close');
          s.destroy();
          return closed;
        }),
      );
    };
    try {
      for (let i = 0; i < args.connections; i++) {
        const socket = tls.connect({ host: '127.0.0.1', port: args.port, servername: 'localhost', secureContext, ALPNProtocols: ['http/1.1'] });
        sockets.push(socket);
        await once(socket, 'secureConnect');
      }
    } catch (error) {
      await release();
      throw error;
    }
    return release;
  });
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
          notes: `Growth (after a forced GC) from opening ${args.connections} idle TLS connections: an https-pool with minIdle ${args.connections} vs ${args.connections} bare tls.connect sockets on one shared SecureContext, in a fresh client process per round and variant, measured warm: after a first batch of ${args.connections} was opened and closed in that process (its code compiled, its modules loaded; the cold batch is \`@heap-cold\`).`,
        },
        heapCold: {
          id: 'memory-100-h1@heap-cold',
          unit: 'bytes',
          better: 'lower',
          notes: 'The first batch in the fresh process: the connections plus what running their code costs once per process (compiled code, lazily loaded modules).',
        },
        rss: {
          id: 'memory-100-h1@rss',
          unit: 'bytes',
          better: 'lower',
          goal: (r) => ({ text: '≤ 1.1× raw-tls RSS', pass: (r.ratios['raw-tls'] ?? Infinity) <= 1.1 }),
          notes: 'RSS growth of the cold batch: a warm batch reuses pages the first one freed, so its RSS growth says little.',
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

import { performance } from 'node:perf_hooks';
import { createPool } from 'generic-pool';
import { createHttpsPool } from '@berth/https-pool';
import { createTlsConfig } from '@berth/tls-config';
import { compareRounds } from '../harness/rounds.js';
import type { MultiVariant } from '../harness/rounds.js';
import { startServerProcess } from '../harness/server.js';
import { percentile } from '../harness/stats.js';
import { testCa } from '../harness/tls-context.js';
import type { BenchResult, RunMode, Scenario } from '../harness/types.js';

/** p50/p99 in µs of `count` sequential warm acquire+release pairs. */
function acquireVariant(count: number, acquireRelease: () => Promise<void>): MultiVariant {
  return async () => {
    const times = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await acquireRelease();
      times[i] = (performance.now() - t0) * 1000;
    }
    const list = Array.from(times);
    return { p50: percentile(list, 50), p99: percentile(list, 99) };
  };
}

async function run(mode: RunMode): Promise<BenchResult[]> {
  const server = await startServerProcess('https');
  const connector = createTlsConfig({ ca: await testCa(), useSystemRoots: false, alpnProtocols: ['http/1.1'] });
  const berth = createHttpsPool(server.origin, { tls: connector, maxConnections: 4, minIdle: 4 });
  // The peer pools bare objects: what generic-pool itself costs per acquire/release.
  const bare = createPool({ create: () => Promise.resolve({}), destroy: () => Promise.resolve() }, { max: 4, min: 4 });
  const count = mode.tiny ? 200 : mode.quick ? 50_000 : 200_000;
  try {
    await berth.ready();
    return await compareRounds({
      rounds: mode.tiny ? 1 : mode.quick ? 3 : 5,
      berth: acquireVariant(count, async () => {
        const lease = await berth.acquire();
        lease.release();
      }),
      peers: {
        'generic-pool': acquireVariant(count, async () => {
          const resource = await bare.acquire();
          await bare.release(resource);
        }),
      },
      metrics: {
        p50: { id: 'acquire-latency@p50', unit: 'µs', better: 'lower' },
        p99: {
          id: 'acquire-latency@p99',
          unit: 'µs',
          better: 'lower',
          goal: (r) => ({ text: 'p99 ≤ 5 µs', pass: r.berth <= 5 }),
          notes: `${count} sequential warm acquire+release pairs per round on a pool of 4 open TLS connections; the peer is a bare generic-pool of plain objects (no connection behind it).`,
        },
      },
    });
  } finally {
    await berth.close();
    await bare.drain();
    await bare.clear();
    connector.close();
    await server.close();
  }
}

export const acquireLatency: Scenario = {
  id: 'acquire-latency',
  description: 'warm acquire+release p50/p99: https-pool acquire() vs bare generic-pool',
  quick: true,
  run,
};

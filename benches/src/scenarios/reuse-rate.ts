import { createHttpsPool } from '@berth/https-pool';
import { createTlsConfig } from '@berth/tls-config';
import { closedLoop } from '../harness/load.js';
import { single } from '../harness/rounds.js';
import { startServerProcess } from '../harness/server.js';
import { testCa } from '../harness/tls-context.js';
import type { BenchResult, RunMode, Scenario } from '../harness/types.js';

async function run(mode: RunMode): Promise<BenchResult[]> {
  const server = await startServerProcess('https');
  const connector = createTlsConfig({ ca: await testCa(), useSystemRoots: false, alpnProtocols: ['http/1.1'] });
  const pool = createHttpsPool(server.origin, { tls: connector, maxConnections: 50 });
  const durationMs = mode.tiny ? 200 : mode.quick ? 10_000 : 30_000;
  try {
    const load = await closedLoop(
      async () => {
        const res = await pool.request({ path: '/' });
        await res.dump();
      },
      { concurrency: 50, durationMs, maxOps: mode.tiny ? 300 : 10_000_000 },
    );
    const stats = pool.stats();
    return [
      single(
        'reuse-rate',
        '%',
        'higher',
        [stats.reuseRate * 100],
        (v) => ({ text: '≥ 99.9 %', pass: v >= 99.9 }),
        `Steady ${durationMs / 1000} s run from a cold pool, 50 GETs in flight, maxConnections 50: ${stats.requests} requests (${load.failed} failed) over ${stats.created} connections; share of requests sent on an already-used connection (pool.stats().reuseRate).`,
      ),
    ];
  } finally {
    await pool.close();
    connector.close();
    await server.close();
  }
}

export const reuseRate: Scenario = {
  id: 'reuse-rate',
  description: 'share of requests on reused connections over a steady run (30 s full, 10 s quick)',
  quick: true,
  run,
};

import { createHttpsPool } from '@berth/https-pool';
import { collectMetrics, traceRequests } from '@berth/metrics';
import { createTlsConfig } from '@berth/tls-config';
import { closedLoop } from '../harness/load.js';
import { compare } from '../harness/rounds.js';
import { startServerProcess } from '../harness/server.js';
import { testCa } from '../harness/tls-context.js';
import type { BenchResult, RunMode, Scenario } from '../harness/types.js';
import { warmUp } from './h1-throughput.js';

async function run(mode: RunMode): Promise<BenchResult[]> {
  const server = await startServerProcess('https');
  const connector = createTlsConfig({ ca: await testCa(), useSystemRoots: false, alpnProtocols: ['http/1.1'] });
  const pool = createHttpsPool(server.origin, { tls: connector, maxConnections: 50, minIdle: 50 });
  const durationMs = mode.tiny ? 150 : mode.quick ? 3000 : 8000;
  const maxOps = mode.tiny ? 200 : 5_000_000;
  const get = async () => {
    const res = await pool.request({ path: '/' });
    await res.dump();
  };
  const rps = async () => {
    const r = await closedLoop(get, { concurrency: 50, durationMs, maxOps });
    if (r.completed === 0) throw new Error(`no request completed (${r.failed} failed)`);
    return (r.completed / r.elapsedMs) * 1000;
  };
  try {
    await pool.ready();
    // Both variants warm: the metrics and tracing handlers (and the pool's publishing branches)
    // get compiled before round one, which otherwise measured them cold (0.80× in one full run).
    const subscribe = () => {
      const metrics = collectMetrics();
      const tracing = traceRequests();
      return () => {
        tracing.stop();
        metrics.stop();
      };
    };
    await warmUp([get], mode.tiny ? 50 : 1000);
    const unsubscribe = subscribe();
    try {
      await warmUp([get], mode.tiny ? 50 : 1000);
    } finally {
      unsubscribe();
    }
    return [
      await compare({
        id: 'metrics-overhead',
        unit: 'req/s',
        better: 'higher',
        rounds: mode.tiny ? 1 : mode.quick ? 3 : 5,
        berth: async () => {
          // Subscribed only for this variant's run: the other variant publishes to no one.
          const stop = subscribe();
          try {
            return await rps();
          } finally {
            stop();
          }
        },
        peers: { 'no-metrics': rps },
        goal: (r) => ({ text: '≥ 0.95× no-metrics (overhead ≤ 5 %)', pass: (r.ratios['no-metrics'] ?? 0) >= 0.95 }),
        notes: `The same https-pool (50 keep-alive TLS connections, 50 GETs in flight, ${durationMs} ms per round) with collectMetrics() + traceRequests() subscribed (no OpenTelemetry SDK registered: no-op tracer) vs with nothing subscribed.`,
      }),
    ];
  } finally {
    await pool.close();
    connector.close();
    await server.close();
  }
}

export const metricsOverhead: Scenario = {
  id: 'metrics-overhead',
  description: 'https-pool throughput with metrics + tracing subscribed vs not',
  quick: true,
  run,
};

import type { ClientHttp2Session } from 'node:http2';
import { PerformanceObserver } from 'node:perf_hooks';
import { createH2Multiplexer } from '@berth/h2-multiplexer';
import { createTlsConfig } from '@berth/tls-config';
import { closedLoop } from '../harness/load.js';
import { compareRounds } from '../harness/rounds.js';
import type { MultiVariant } from '../harness/rounds.js';
import { startServerProcess } from '../harness/server.js';
import { percentile } from '../harness/stats.js';
import { sharedContext, testCa } from '../harness/tls-context.js';
import type { BenchResult, RunMode, Scenario } from '../harness/types.js';
import { closeSession, rawGet, rawSession } from './h2-common.js';

/** Sessions of the second raw peer: h2-multiplexer's default maxSessions. */
const RAW_SESSIONS = 4;

async function run(mode: RunMode): Promise<BenchResult[]> {
  const server = await startServerProcess('h2', { maxConcurrentStreams: 1000 });
  const connector = createTlsConfig({ ca: await testCa(), useSystemRoots: false, alpnProtocols: ['h2'] });
  const mux = createH2Multiplexer(server.origin, { tls: connector, maxConcurrentStreams: 1000 });
  const secureContext = await sharedContext();
  const session = await rawSession(server.origin, secureContext);
  // A second peer with as many sessions as Berth may open, round-robin: shows how much of the
  // difference is the number of connections rather than the multiplexer.
  const sessions = await Promise.all(Array.from({ length: RAW_SESSIONS }, () => rawSession(server.origin, secureContext)));
  let next = 0;
  const durationMs = mode.tiny ? 150 : mode.quick ? 3000 : 8000;
  const maxOps = mode.tiny ? 300 : 10_000_000;
  const berthGet = async () => {
    const res = await mux.request({ path: '/' });
    await res.dump();
  };
  const rawOp = async () => {
    await rawGet(session, '/');
  };
  const rawSessionsOp = async () => {
    next = (next + 1) % RAW_SESSIONS;
    await rawGet(sessions[next] as ClientHttp2Session, '/');
  };
  const variant =
    (op: () => Promise<void>, concurrency: number): MultiVariant =>
    async () => {
      // The client's GC pauses, the cause of both variants' tail (see the h2-multiplexer README).
      let gcMs = 0;
      const gc = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) gcMs += entry.duration;
      });
      gc.observe({ entryTypes: ['gc'] });
      const r = await closedLoop(op, { concurrency, durationMs, maxOps });
      // GC entries are delivered asynchronously: let the last ones arrive.
      await new Promise((resolve) => setImmediate(resolve));
      gc.disconnect();
      if (r.completed === 0) throw new Error(`no request completed (${r.failed} failed)`);
      return { rps: (r.completed / r.elapsedMs) * 1000, p99: percentile(r.latenciesMs, 99), gc: (gcMs / r.completed) * 1000 };
    };
  const results: BenchResult[] = [];
  try {
    for (const op of [berthGet, rawOp, rawSessionsOp]) await closedLoop(op, { concurrency: 50, durationMs: 5000, maxOps: mode.tiny ? 50 : 2000 });
    for (const inFlight of [50, 500]) {
      results.push(
        ...(await compareRounds({
          rounds: mode.tiny ? 1 : mode.quick ? 3 : 5,
          berth: variant(berthGet, inFlight),
          peers: { 'raw-http2': variant(rawOp, inFlight), [`raw-http2-${RAW_SESSIONS}-sessions`]: variant(rawSessionsOp, inFlight) },
          metrics: {
            rps: {
              id: `h2-throughput@${inFlight}`,
              unit: 'req/s',
              better: 'higher',
              goal: (r) => ({ text: '≥ 1.0× raw-http2', pass: (r.ratios['raw-http2'] ?? 0) >= 1 }),
              notes: `${inFlight} GETs in flight, ${durationMs} ms per round; Berth with maxConcurrentStreams 1000 and its other defaults (a further session once each carries 32 streams, 4 at most), the peer on one node:http2 session (the goal's), a second peer on ${RAW_SESSIONS} sessions round-robin; server SETTINGS_MAX_CONCURRENT_STREAMS 1000, in a child process.`,
            },
            p99: {
              id: `h2-throughput@${inFlight}-p99`,
              unit: 'ms',
              better: 'lower',
              goal: (r) => ({ text: 'p99 ≤ 0.5× raw-http2', pass: (r.ratios['raw-http2'] ?? Infinity) <= 0.5 }),
            },
            gc: {
              id: `h2-throughput@${inFlight}-gc`,
              unit: 'ms GC per 1000 req',
              better: 'lower',
              notes: "Client GC pause time per 1000 requests (PerformanceObserver 'gc' entries over the round).",
            },
          },
        })),
      );
    }
    return results;
  } finally {
    await mux.close();
    await closeSession(session);
    await Promise.all(sessions.map(closeSession));
    connector.close();
    await server.close();
  }
}

export const h2Throughput: Scenario = {
  id: 'h2-throughput',
  description: 'HTTP/2 req/s and p99 with 50 and 500 in flight: h2-multiplexer vs one raw node:http2 session',
  quick: true,
  run,
};

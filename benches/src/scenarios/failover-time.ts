import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { ResponseData, Transport, TransportStats } from '@berth/core-types';
import { createGeoRouter } from '@berth/geo-router';
import { createHttpsPool } from '@berth/https-pool';
import { startFaultProxy } from '@berth/testkit';
import type { FaultProxy } from '@berth/testkit';
import { createTlsConfig } from '@berth/tls-config';
import type { TlsConfig } from '@berth/tls-config';
import { compare, single } from '../harness/rounds.js';
import { startServerProcess } from '../harness/server.js';
import { testCa } from '../harness/tls-context.js';
import type { BenchResult, RunMode, Scenario } from '../harness/types.js';

const RATE_PER_S = 200;

interface Outcome {
  readonly endMs: number;
  readonly region: string | undefined;
  readonly ok: boolean;
}

/**
 * One failover round: a fresh router over two https-pools (region `a` direct, `b` 3 ms further
 * away, each behind its own fault proxy), 200 GET/s open loop; after `beforeMs` region a's
 * proxy refuses new connections and resets the open ones. Returns ms from the last success in
 * `a` to the first success in `b` after it, and the requests that failed.
 */
async function failoverRound(
  origin: { a: FaultProxy; b: FaultProxy },
  connector: TlsConfig,
  timing: { beforeMs: number; afterMs: number },
): Promise<{ failoverMs: number; failed: number; sent: number }> {
  const pool = (proxy: FaultProxy) =>
    createHttpsPool(`https://127.0.0.1:${proxy.port}`, { tls: connector, maxConnections: 16, connectTimeoutMs: 1000 });
  const router = createGeoRouter({
    regions: { a: { transport: pool(origin.a) }, b: { transport: pool(origin.b) } },
    probe: { intervalMs: 500, timeoutMs: 500 },
  });
  const outcomes: Outcome[] = [];
  const inFlight = new Set<Promise<void>>();
  const send = () => {
    const p = router.request({ path: '/', method: 'GET' }).then(
      async (res) => {
        const region = res.meta.region;
        await res.dump();
        outcomes.push({ endMs: performance.now(), region, ok: res.status < 500 });
      },
      () => {
        outcomes.push({ endMs: performance.now(), region: undefined, ok: false });
      },
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const t0 = performance.now();
  const total = timing.beforeMs + timing.afterMs;
  let sent = 0;
  let killed = false;
  try {
    // Open loop: catch up to RATE_PER_S every millisecond or so, whatever the answers do.
    while (performance.now() - t0 < total) {
      const elapsed = performance.now() - t0;
      if (!killed && elapsed >= timing.beforeMs) {
        killed = true;
        // The listener's close waits for open connections, so reset them while it closes.
        const refusing = origin.a.set({ mode: 'refuse' });
        origin.a.cutAll();
        await refusing;
      }
      while (sent < (elapsed / 1000) * RATE_PER_S) {
        sent += 1;
        send();
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all([...inFlight]);
  } finally {
    await router.close();
    await origin.a.set({ mode: 'pass' });
  }
  const lastA = Math.max(...outcomes.filter((o) => o.ok && o.region === 'a').map((o) => o.endMs));
  const firstB = Math.min(...outcomes.filter((o) => o.ok && o.region === 'b' && o.endMs >= lastA).map((o) => o.endMs));
  return { failoverMs: Number.isFinite(lastA) && Number.isFinite(firstB) ? firstB - lastA : Number.NaN, failed: outcomes.filter((o) => !o.ok).length, sent };
}

/** An in-memory transport answering at once: what routing costs, without a network under it. */
function stubTransport(): Transport {
  const response: ResponseData = {
    status: 200,
    headers: {},
    body: Readable.from([]),
    text: () => Promise.resolve(''),
    json: <T>() => Promise.resolve(undefined as T),
    arrayBuffer: () => Promise.resolve(new ArrayBuffer(0)),
    dump: () => Promise.resolve(),
    meta: { protocol: 'http/1.1', reused: true, connectionId: 'stub', attempts: 1, timings: { queuedMs: 0, ttfbMs: 0, totalMs: 0 } },
  };
  let requests = 0;
  const stats: TransportStats = { kind: 'stub', name: 'stub', state: 'ready', requests: 0, inFlight: 0, queued: 0, errors: 0 };
  return {
    request: () => {
      requests += 1;
      return Promise.resolve(response);
    },
    stats: () => ({ ...stats, requests }),
    close: () => Promise.resolve(),
  };
}

/** µs per sequential request through `transport`. */
async function perRequestMicros(transport: Transport, count: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await transport.request({ path: '/' });
  return ((performance.now() - t0) * 1000) / count;
}

async function routingOverhead(mode: RunMode): Promise<BenchResult> {
  const direct = stubTransport();
  const router = createGeoRouter({ regions: { a: { transport: stubTransport() }, b: { transport: stubTransport() } }, probe: false });
  const count = mode.tiny ? 2000 : mode.quick ? 200_000 : 1_000_000;
  try {
    await perRequestMicros(router, Math.min(count, 20_000));
    await perRequestMicros(direct, Math.min(count, 20_000));
    return await compare({
      id: 'failover-time@routing-overhead',
      unit: 'µs/req',
      better: 'lower',
      rounds: mode.tiny ? 1 : 5,
      berth: () => perRequestMicros(router, count),
      peers: { 'direct-transport': () => perRequestMicros(direct, count) },
      goal: (r) => ({ text: '≤ 2 µs added per request', pass: r.berth - (r.peers['direct-transport'] ?? 0) <= 2 }),
      notes: `${count} sequential requests per round through a geo-router over two in-memory transports (no probes) vs the same in-memory transport called directly; the difference is the routing cost.`,
    });
  } finally {
    await router.close();
    await direct.close();
  }
}

async function run(mode: RunMode): Promise<BenchResult[]> {
  const server = await startServerProcess('https');
  const target = { host: '127.0.0.1', port: server.port };
  const a = await startFaultProxy(target);
  const b = await startFaultProxy(target, { latencyMs: 3 });
  const connector = createTlsConfig({ ca: await testCa(), useSystemRoots: false, alpnProtocols: ['http/1.1'] });
  const timing = mode.tiny ? { beforeMs: 300, afterMs: 300 } : { beforeMs: 1500, afterMs: 2000 };
  const rounds = mode.tiny ? 1 : mode.quick ? 3 : 7;
  const times: number[] = [];
  const failures: number[] = [];
  let sent = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      const round = await failoverRound({ a, b }, connector, timing);
      times.push(round.failoverMs);
      failures.push(round.failed);
      sent += round.sent;
    }
    const notes = `${rounds} rounds of ${RATE_PER_S} GET/s (open loop) through a geo-router over two https-pools, each behind a testkit fault proxy (region b 3 ms further each way, probes every 500 ms); after ${timing.beforeMs} ms region a's proxy refuses connects and resets every open connection. Time = last success answered by a → first success answered by b after it; ${sent} requests sent in all.`;
    return [
      single('failover-time', 'ms', 'lower', times, (v) => ({ text: '≤ 1 s', pass: v <= 1000 }), notes),
      single('failover-time@failed', 'requests', 'lower', failures, (v) => ({ text: '0 failed idempotent requests', pass: Math.max(v, ...failures) === 0 })),
      await routingOverhead(mode),
    ];
  } finally {
    connector.close();
    await a.close();
    await b.close();
    await server.close();
  }
}

export const failoverTime: Scenario = {
  id: 'failover-time',
  description: 'geo-router failover when the serving region dies under 200 req/s (ms, failed requests) and routing cost per request',
  quick: true,
  run,
};

/**
 * Soak: mixed HTTP/1.1, HTTP/2 and WebSocket traffic through one facade for N minutes, with a
 * fault every few seconds (connection cuts, a latency spike, GOAWAY, a region refusing, a
 * WebSocket cut), sampling heap and RSS. Prints the samples and the heap slope after warm-up
 * (least squares over post-GC heap samples), so a leak shows as a positive slope.
 *
 *   npx tsx --conditions=@berth/source reliability/scripts/soak.ts --minutes 3
 *
 * Not run in CI. Add `--expose-gc` (NODE_OPTIONS) for steadier samples.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createBerth } from 'berth';
import { createWsPool } from '@berth/ws-pool';
import { startFaultProxy, startHttpServer, startWsServer, testPki } from '@berth/testkit';
import type { RecordedRequest, TestServer } from '@berth/testkit';
import { RESILIENCE_CHANNELS } from '@berth/core-types';
import type { BreakerState, BreakerStateMessage } from '@berth/core-types';
import { codeOf } from '../src/harness.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '8' },
    'sample-seconds': { type: 'string', default: '5' },
    // Turns metrics and tracing off, to tell their memory from the pools'.
    'no-observability': { type: 'boolean', default: false },
    // Prints every circuit-breaker transition and a per-second timeline of fast failures.
    timeline: { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes);
const concurrency = Number(values.concurrency);
const sampleMs = Number(values['sample-seconds']) * 1000;
if (!(minutes > 0) || !(concurrency > 0) || !(sampleMs > 0)) {
  console.error('usage: soak.ts --minutes N [--concurrency C] [--sample-seconds S]');
  process.exit(2);
}

// testkit's HTTP/2 server awaits `once(stream, 'drain')` while writing a large body; when the
// client resets that stream (GOAWAY, cuts) the rejection is unhandled and would end the soak.
// That is the test server's problem, not Berth's: count those, and still fail on anything else.
const serverSideRejections = new Map<string, number>();
process.on('unhandledRejection', (reason) => {
  const stack = reason instanceof Error ? (reason.stack ?? '') : '';
  if (stack.includes('ServerHttp2Stream')) {
    const code = String((reason as { code?: unknown }).code);
    serverSideRejections.set(code, (serverSideRejections.get(code) ?? 0) + 1);
    return;
  }
  console.error('unhandled rejection:', reason);
  process.exit(1);
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const gc = (globalThis as { gc?: () => void }).gc;
/** When the load starts (reset just before the workers do). */
let started = performance.now();

const pki = await testPki();
const h1 = await startHttpServer({ protocol: 'https', keepAliveTimeoutMs: 2000 });
const h2 = await startHttpServer({ protocol: 'h2' });
const ws = await startWsServer();
const p1 = await startFaultProxy({ host: h1.host, port: h1.port });
const p2 = await startFaultProxy({ host: h2.host, port: h2.port });
const berth = createBerth({
  regions: { one: { origin: `https://127.0.0.1:${p1.port}`, protocol: 'h1' }, two: { origin: `https://127.0.0.1:${p2.port}`, protocol: 'h2' } },
  tls: { ca: pki.ca.cert, useSystemRoots: false },
  routing: { strategy: 'p2c', probe: { intervalMs: 1000 }, outlier: { baseEjectionMs: 1000, maxEjectionMs: 5000 } },
  resilience: { breaker: { openMs: 1000, maxOpenMs: 5000 } },
  metrics: !values['no-observability'],
  tracing: !values['no-observability'],
});
// The WebSocket endpoint is its own server, so the pool is built here over the facade's TlsConfig.
const socket = createWsPool(`wss://localhost:${ws.port}/`, { tls: berth.tls, size: 2, pingIntervalMs: 1000, backoffBaseMs: 50, backoffCapMs: 500 });

const outcomes = new Map<string, number>();
/** The first error seen of each code, with its stack, printed at the end. */
const firstError = new Map<string, string>();
/** Per elapsed second: HTTP outcomes, so fast failures can be lined up with breaker states. */
const perSecond = new Map<number, Map<string, number>>();
const count = (key: string) => {
  outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  if (values.timeline && key.startsWith('http')) {
    const second = Math.floor((performance.now() - started) / 1000);
    const bucket = perSecond.get(second) ?? new Map<string, number>();
    bucket.set(key, (bucket.get(key) ?? 0) + 1);
    perSecond.set(second, bucket);
  }
};

/** Breaker states over time: how long every region's breaker was open at once, and how often each opened. */
const breakerStates = new Map<string, BreakerState>();
const opened = new Map<string, number>();
let allOpenSince: number | undefined;
let allOpenMs = 0;
const onBreaker = (message: unknown): void => {
  const m = message as BreakerStateMessage;
  const at = performance.now() - started;
  breakerStates.set(m.key, m.to);
  if (m.to === 'open') opened.set(m.key, (opened.get(m.key) ?? 0) + 1);
  const allOpen = breakerStates.size >= 2 && [...breakerStates.values()].every((s) => s === 'open');
  if (allOpen && allOpenSince === undefined) allOpenSince = at;
  if (!allOpen && allOpenSince !== undefined) {
    allOpenMs += at - allOpenSince;
    allOpenSince = undefined;
  }
  const retry = m.retryAt === undefined ? '' : ` (half-opens in ${Math.round(m.retryAt - Date.now())} ms)`;
  console.log(`  ${(at / 1000).toFixed(2).padStart(7)} s  breaker ${m.key}: ${m.from} -> ${m.to}${retry}${allOpen ? '  [every region open]' : ''}`);
};
if (values.timeline) diagnosticsChannel.subscribe(RESILIENCE_CHANNELS.breaker, onBreaker);
let running = true;

async function worker(index: number): Promise<void> {
  for (let i = 0; running; i++) {
    try {
      const res = await berth.request({
        path: `/w${index}`,
        timeoutMs: 5000,
        headers: { 'x-berth-behaviour': JSON.stringify({ bodyBytes: i % 10 === 0 ? 64 * 1024 : 512 }) },
      });
      await res.arrayBuffer();
      count(`http ok ${res.meta.protocol}`);
    } catch (error) {
      const code = codeOf(error);
      count(`http ${code}`);
      if (!firstError.has(code)) firstError.set(code, error instanceof Error ? (error.stack ?? error.message) : String(error));
      // A caller that is told when the breaker admits again waits for it (at most a second)
      // instead of spinning on fast failures.
      const retryAt = (error as { retryAt?: unknown }).retryAt;
      if (typeof retryAt === 'number') await sleep(Math.min(1000, Math.max(0, retryAt - Date.now())));
    }
  }
}

async function wsSender(): Promise<void> {
  for (let i = 0; running; i++) {
    try {
      await socket.send(`m${i}`, { ttlMs: 2000 });
      count('ws written');
    } catch (error) {
      count(`ws ${codeOf(error)}`);
    }
    await sleep(20);
  }
}

/** One fault every 5 s, in rotation. */
const faults: [string, () => Promise<void>][] = [
  ['cut h1 connections', () => Promise.resolve(p1.cutAll())],
  ['h2 GOAWAY', () => Promise.resolve(h2.goaway())],
  [
    'latency spike 300 ms for 2 s on h2',
    async () => {
      await p2.set({ latencyMs: 300 });
      await sleep(2000);
      await p2.set({ latencyMs: 0 });
    },
  ],
  ['ws cut every socket', () => Promise.resolve(ws.cutAll())],
  [
    'region one refuses for 3 s',
    async () => {
      const refusing = p1.set({ mode: 'refuse' });
      p1.cutAll();
      await refusing;
      await sleep(3000);
      await p1.set({ mode: 'pass' });
    },
  ],
  ['cut h2 connections', () => Promise.resolve(p2.cutAll())],
];
let faultsInjected = 0;
async function faultLoop(): Promise<void> {
  for (let i = 0; running; i++) {
    await sleep(5000);
    if (!running) return;
    const [name, inject] = faults[i % faults.length] ?? faults[0]!;
    if (values.timeline) console.log(`  ${((performance.now() - started) / 1000).toFixed(2).padStart(7)} s  fault: ${name}`);
    await inject();
    faultsInjected += 1;
  }
}

/** The test servers record every request and message; drop the records so only Berth's memory is measured. */
function dropRecords(servers: readonly TestServer[]): void {
  for (const s of servers) (s.requests as RecordedRequest[]).length = 0;
  (ws.received as unknown[]).length = 0;
  (ws.handshakes as unknown[]).length = 0;
}

interface Sample {
  readonly minute: number;
  readonly heapMb: number;
  readonly rssMb: number;
}
const samples: Sample[] = [];
started = performance.now();
const MB = 1024 * 1024;
const work = [...Array.from({ length: concurrency }, (_, i) => worker(i)), wsSender(), faultLoop()];
console.log(`soak: ${minutes} min, ${concurrency} HTTP workers + 1 ws sender, a fault every 5 s, metrics and tracing ${values['no-observability'] ? 'off' : 'on'}${gc === undefined ? ' (no --expose-gc: heap sampled without a forced GC)' : ''}`);
console.log('minute  heapMB  rssMB  requests');
while (performance.now() - started < minutes * 60_000) {
  await sleep(sampleMs);
  dropRecords([h1, h2]);
  gc?.();
  const memory = process.memoryUsage();
  const sample = { minute: (performance.now() - started) / 60_000, heapMb: memory.heapUsed / MB, rssMb: memory.rss / MB };
  samples.push(sample);
  const total = [...outcomes.entries()].filter(([k]) => k.startsWith('http')).reduce((a, [, n]) => a + n, 0);
  console.log(`${sample.minute.toFixed(2).padStart(6)}  ${sample.heapMb.toFixed(1).padStart(6)}  ${sample.rssMb.toFixed(1).padStart(5)}  ${total}`);
}
running = false;
await Promise.all(work);
await socket.close();
await berth.close();
await Promise.all([p1.close(), p2.close()]);
await Promise.all([h1.close(), h2.close(), ws.close()]);

/** Least-squares slope of y over x. */
function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const num = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}
// Warm-up: the first 20 % of the run (at least one sample) — pools, JIT and caches fill.
const warm = samples.slice(Math.max(1, Math.floor(samples.length * 0.2)));
const heapSlope = slope(warm.map((s) => ({ x: s.minute, y: s.heapMb })));
const rssSlope = slope(warm.map((s) => ({ x: s.minute, y: s.rssMb })));
console.log(`faults injected: ${faultsInjected}`);
if (values.timeline) {
  diagnosticsChannel.unsubscribe(RESILIENCE_CHANNELS.breaker, onBreaker);
  if (allOpenSince !== undefined) allOpenMs += performance.now() - started - allOpenSince;
  const fastSeconds = [...perSecond.entries()].filter(([, b]) => (b.get('http ERR_BERTH_CIRCUIT_OPEN') ?? 0) > 0);
  console.log(`breakers opened: ${JSON.stringify(Object.fromEntries(opened))}; every region open at once for ${(allOpenMs / 1000).toFixed(1)} s in all`);
  console.log(`seconds with ERR_BERTH_CIRCUIT_OPEN reaching callers: ${fastSeconds.length}`);
  for (const [second, bucket] of fastSeconds) console.log(`  ${String(second).padStart(5)} s  ${JSON.stringify(Object.fromEntries(bucket))}`);
}
console.log('testkit server-side stream rejections (ignored):', Object.fromEntries(serverSideRejections));
console.log('outcomes:', Object.fromEntries([...outcomes.entries()].sort()));
for (const [code, stack] of firstError) console.log(`first ${code}:\n  ${stack.split('\n').slice(0, 8).join('\n  ')}`);
console.log(`heap slope after warm-up: ${heapSlope.toFixed(3)} MB/min over ${warm.length} samples (rss ${rssSlope.toFixed(3)} MB/min)`);

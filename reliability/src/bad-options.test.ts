/**
 * Bad input, options: ≥ 1000 random configurations per component. Valid ones construct (then
 * close); invalid ones throw one ERR_BERTH_CONFIG naming exactly the invalid fields. Where
 * construction opens sockets or timers (pools, router, scaler), the component's exported
 * resolver — the very function its constructor calls — is the cheap path.
 */
import { describe, expect, it } from 'vitest';
import { createBerth } from 'berth';
import { createTlsConfig, resolveOptions as resolveTlsOptions } from '@berth/tls-config';
import { resolveHttpsPoolOptions } from '@berth/https-pool';
import { resolveH2MultiplexerOptions } from '@berth/h2-multiplexer';
import { resolveWsPoolOptions } from '@berth/ws-pool';
import { resolveGeoRouterOptions } from '@berth/geo-router';
import { createAdaptiveScaler, resolveScalerOptions } from '@berth/adaptive-scaler';
import { createBulkhead, createCircuitBreaker, createRateLimiter, createRetryPolicy, withResilience } from '@berth/resilience';
import { collectMetrics, resolveTraceOptions } from '@berth/metrics';
import type { PoolStats, ResizablePool, Transport } from '@berth/core-types';
import { testPki } from '@berth/testkit';
import { fuzzOptions } from './option-fuzz.js';
import type { FieldSpec } from './option-fuzz.js';

const RUNS = 1000;
const ca = (await testPki()).ca.cert;

/** A transport that is never called: the resolvers only check its shape. */
const idleTransport: Transport = {
  request: () => Promise.reject(new Error('not called')),
  stats: () => ({}) as ReturnType<Transport['stats']>,
  close: () => Promise.resolve(),
};

/** A pool the scaler is built over but never started on. */
const idlePool: ResizablePool = { stats: () => ({}) as PoolStats, resize: () => undefined, bounds: { min: 1, max: 50 } };
const ms = (path: string, lo = 1, hi = 600_000): FieldSpec => ({ path, t: 'int', min: 1, lo, hi });

const TLS: FieldSpec[] = [
  { path: 'minVersion', t: 'enum', values: ['TLSv1.2'] },
  { path: 'maxVersion', t: 'enum', values: ['TLSv1.2', 'TLSv1.3'] },
  { path: 'handshakeTimeoutMs', t: 'int', min: 1, max: 600_000, lo: 1, hi: 600_000 },
  { path: 'maxCachedSessions', t: 'int', min: 0, max: 1_000_000, lo: 0, hi: 1_000_000 },
  { path: 'maxSessionTtlMs', t: 'int', min: 1, max: 7 * 86_400_000, lo: 1, hi: 7 * 86_400_000 },
  { path: 'expiryWarningDays', t: 'num', min: 0, max: 3650, lo: 0, hi: 3650 },
  { path: 'tcpKeepAliveInitialDelayMs', t: 'int', min: 0, lo: 0, hi: 1e9 },
  { path: 'probeCacheTtlMs', t: 'int', min: 0, lo: 0, hi: 1e9 },
  { path: 'probeKeepMs', t: 'int', min: 0, max: 600_000, lo: 0, hi: 600_000 },
  { path: 'useSystemRoots', t: 'bool' },
];

const POOL: FieldSpec[] = [
  { path: 'maxConnections', t: 'int', min: 1, max: 100_000, lo: 2, hi: 100_000 },
  { path: 'minIdle', t: 'int', min: 0, max: 100_000, lo: 0, hi: 1 },
  { path: 'lifetimeJitter', t: 'num', min: 0, max: 0.5, lo: 0, hi: 0.5 },
  { path: 'maxRequestsPerConnection', t: 'int', min: 0, lo: 0, hi: 1e9 },
  { path: 'maxWaiting', t: 'int', min: 0, max: 10_000_000, lo: 0, hi: 10_000_000 },
  ms('connectTimeoutMs'),
  ms('acquireTimeoutMs'),
  ms('headersTimeoutMs'),
  ms('bodyTimeoutMs'),
  { path: 'idleOrder', t: 'enum', values: ['fifo', 'lifo'] },
  { path: 'housekeepingIntervalMs', t: 'int', min: 10, max: 3_600_000, lo: 10, hi: 3_600_000 },
  { path: 'tcpNoDelay', t: 'bool' },
  { path: 'validation.method', t: 'enum', values: ['HEAD', 'GET', 'OPTIONS'] },
  { path: 'dns.dualStack', t: 'bool' },
  { path: 'dns.affinity', t: 'enum', values: [4, 6] },
];

const H2: FieldSpec[] = [
  { path: 'maxSessions', t: 'int', min: 1, max: 1024, lo: 1, hi: 1024 },
  { path: 'maxQueued', t: 'int', min: 1, lo: 1, hi: 1e6 },
  { path: 'preconnectUtilization', t: 'num', min: 0, max: 1, lo: 0, hi: 1 },
  ms('acquireTimeoutMs'),
  ms('connectTimeoutMs'),
  ms('headersTimeoutMs'),
  ms('bodyTimeoutMs'),
  ms('pingTimeoutMs'),
  { path: 'maxAgeJitter', t: 'num', min: 0, max: 0.99, lo: 0, hi: 0.99 },
  { path: 'adaptiveWindow', t: 'bool' },
  { path: 'maxRetries', t: 'int', min: 0, max: 10, lo: 0, hi: 10 },
];

const WS: FieldSpec[] = [
  { path: 'perMessageDeflate', t: 'bool' },
  { path: 'retryOnPolicyClose', t: 'bool' },
  { path: 'overflow', t: 'enum', values: ['reject', 'drop-oldest', 'drop-newest'] },
  { path: 'acks', t: 'bool' },
  { path: 'maxRetries', t: 'int', min: 0, lo: 0, hi: 1000 },
  { path: 'maxAgeMs', t: 'num', min: 1, max: 2_147_483_647, lo: 1, hi: 2_147_483_647 },
  { path: 'maxAgeJitter', t: 'num', min: 0, max: 0.5, lo: 0, hi: 0.5 },
];

const ROUTER: FieldSpec[] = [
  { path: 'strategy', t: 'enum', values: ['lowest-latency', 'p2c', 'ordered'] },
  { path: 'switchMarginPct', t: 'num', min: 0, max: 1000, lo: 0, hi: 1000 },
  { path: 'switchAfterMs', t: 'num', min: 0, lo: 0, hi: 1e6 },
  { path: 'decayMs', t: 'num', min: 0, exclusiveMin: true, lo: 1, hi: 1e6 },
  { path: 'failurePenalty', t: 'num', min: 1, lo: 1, hi: 100 },
  { path: 'maxAttempts', t: 'int', min: 1, max: 100, lo: 1, hi: 100 },
  { path: 'probe.intervalMs', t: 'num', min: 10, lo: 10, hi: 1e6 },
  { path: 'probe.jitterPct', t: 'num', min: 0, max: 100, lo: 0, hi: 100 },
  { path: 'probe.method', t: 'enum', values: ['GET', 'HEAD', 'OPTIONS'] },
  { path: 'outlier.consecutiveFailures', t: 'int', min: 1, lo: 1, hi: 1000 },
  { path: 'outlier.baseEjectionMs', t: 'num', min: 1, lo: 1, hi: 1000 },
  { path: 'outlier.maxEjectionMs', t: 'num', min: 1, lo: 300_000, hi: 1e7 },
  { path: 'outlier.failurePct', t: 'num', min: 0, max: 100, exclusiveMin: true, lo: 0.01, hi: 100 },
  { path: 'hedge.budgetPct', t: 'num', min: 0, max: 100, exclusiveMin: true, lo: 0.01, hi: 100 },
];

const SCALER: FieldSpec[] = [
  { path: 'intervalMs', t: 'num', min: 100, lo: 100, hi: 1e6 },
  { path: 'samplesPerInterval', t: 'int', min: 1, max: 100, lo: 1, hi: 100 },
  { path: 'min', t: 'int', min: 1, max: 50, lo: 1, hi: 10 },
  { path: 'max', t: 'int', min: 1, max: 50, lo: 10, hi: 50 },
  { path: 'upFactor', t: 'num', min: 1, exclusiveMin: true, max: 10, lo: 1.01, hi: 10 },
  { path: 'waitThresholdMs', t: 'num', min: 0, exclusiveMin: true, lo: 0.01, hi: 1e4 },
  { path: 'longWindow', t: 'int', min: 2, max: 10_000, lo: 2, hi: 10_000 },
  { path: 'littleHeadroom', t: 'num', min: 1, lo: 1, hi: 10 },
  { path: 'minStepGain', t: 'num', min: 0, max: 1, lo: 0, hi: 1 },
  { path: 'historySize', t: 'int', min: 1, max: 10_000, lo: 1, hi: 10_000 },
];

const RETRY: FieldSpec[] = [
  { path: 'maxAttempts', t: 'int', min: 1, max: 100, lo: 1, hi: 100 },
  { path: 'baseDelayMs', t: 'num', min: 0, lo: 0, hi: 100 },
  { path: 'maxDelayMs', t: 'num', min: 0, lo: 10_000, hi: 1e7 },
  { path: 'attemptTimeoutMs', t: 'num', min: 0, exclusiveMin: true, lo: 0.01, hi: 1e6 },
  { path: 'deadlineMs', t: 'num', min: 0, exclusiveMin: true, lo: 0.01, hi: 1e6 },
  { path: 'budget.ratio', t: 'num', min: 0, max: 1, lo: 0, hi: 1 },
  { path: 'budget.ttlMs', t: 'int', min: 1000, max: 600_000, lo: 1000, hi: 600_000 },
];

const BREAKER: FieldSpec[] = [
  { path: 'windowSize', t: 'int', min: 1, lo: 1, hi: 1000 },
  { path: 'openMs', t: 'num', min: 1, lo: 1, hi: 1000 },
  { path: 'maxOpenMs', t: 'num', min: 1, lo: 60_000, hi: 1e7 },
  { path: 'failureRate', t: 'num', min: 0, exclusiveMin: true, max: 0.999_999, lo: 0.01, hi: 0.99 },
];

const LIMITER: FieldSpec[] = [
  { path: 'ratePerSec', t: 'num', min: 0, exclusiveMin: true, lo: 0.01, hi: 1e6 },
  { path: 'burst', t: 'int', min: 1, lo: 1, hi: 1e6 },
  { path: 'maxWaitMs', t: 'num', min: 0, lo: 0, hi: 1e6 },
  { path: 'aimd.decreaseFactor', t: 'num', min: 0, exclusiveMin: true, max: 0.999_999, lo: 0.01, hi: 0.99 },
  { path: 'aimd.minRatio', t: 'num', min: 0, exclusiveMin: true, max: 1, lo: 0.01, hi: 1 },
];

const BULKHEAD: FieldSpec[] = [
  { path: 'maxConcurrent', t: 'int', min: 1, lo: 1, hi: 1e6 },
  { path: 'maxQueued', t: 'int', min: 0, lo: 0, hi: 1e6 },
];

const METRICS: FieldSpec[] = [
  { path: 'maxComponents', t: 'int', min: 1, lo: 1, hi: 1e6 },
  { path: 'maxLabelValues', t: 'int', min: 1, lo: 1, hi: 1e6 },
  { path: 'exemplars', t: 'bool' },
];

describe('random options objects: valid ones construct, invalid ones throw ERR_BERTH_CONFIG naming each bad field', () => {
  it(`createTlsConfig (${RUNS} configs: resolver, and every 20th valid one constructed then closed)`, async () => {
    // Construction builds a SecureContext (~15 ms with system roots), so only a sample is built.
    let valid = 0;
    const tally = await fuzzOptions(
      TLS,
      (o) => {
        resolveTlsOptions(o, {});
        if (valid++ % 20 === 0) createTlsConfig(o).close();
      },
      { numRuns: RUNS, base: { ca } },
    );
    expect(tally.runs).toBe(RUNS);
    expect(tally.valid).toBeGreaterThan(50);
  });

  it(`createHttpsPool's resolver (${RUNS} configs)`, async () => {
    const tally = await fuzzOptions(POOL, (o) => resolveHttpsPoolOptions('https://127.0.0.1:1', o), { numRuns: RUNS });
    expect(tally.valid).toBeGreaterThan(50);
  });

  it(`createH2Multiplexer's resolver (${RUNS} configs)`, async () => {
    const tally = await fuzzOptions(H2, (o) => resolveH2MultiplexerOptions('https://127.0.0.1:1', o), { numRuns: RUNS });
    expect(tally.valid).toBeGreaterThan(50);
  });

  it(`createWsPool's resolver (${RUNS} configs)`, async () => {
    const tally = await fuzzOptions(WS, (o) => resolveWsPoolOptions('wss://127.0.0.1:1/', o), { numRuns: RUNS });
    expect(tally.valid).toBeGreaterThan(50);
  });

  it(`createGeoRouter's resolver (${RUNS} configs)`, async () => {
    const transport = idleTransport;
    const tally = await fuzzOptions(ROUTER, (o) => resolveGeoRouterOptions({ ...o, regions: { a: { transport }, b: { transport } } }), {
      numRuns: RUNS,
    });
    expect(tally.valid).toBeGreaterThan(50);
  });

  it(`createAdaptiveScaler (${RUNS} configs: resolver, then constructing a sample of the valid ones)`, async () => {
    const pool = idlePool;
    const tally = await fuzzOptions(
      SCALER,
      (o) => {
        resolveScalerOptions(o, { min: 1, max: 50 });
        createAdaptiveScaler(pool, o).stop();
      },
      { numRuns: RUNS },
    );
    expect(tally.valid).toBeGreaterThan(50);
  });

  it(`resilience policies (${RUNS} configs each: retry, breaker, limiter, bulkhead, and withResilience over all four)`, async () => {
    expect((await fuzzOptions(RETRY, (o) => createRetryPolicy(o), { numRuns: RUNS })).valid).toBeGreaterThan(50);
    expect((await fuzzOptions(BREAKER, (o) => createCircuitBreaker(o), { numRuns: RUNS })).valid).toBeGreaterThan(50);
    expect((await fuzzOptions(LIMITER, (o) => createRateLimiter(o as never), { numRuns: RUNS, base: { ratePerSec: 10 } })).valid).toBeGreaterThan(
      50,
    );
    expect((await fuzzOptions(BULKHEAD, (o) => createBulkhead(o), { numRuns: RUNS })).valid).toBeGreaterThan(50);
    const transport = idleTransport;
    const whole = await fuzzOptions(
      [...RETRY.map((s) => ({ ...s, path: `retry.${s.path}` })), ...BULKHEAD.map((s) => ({ ...s, path: `bulkhead.${s.path}` }))],
      async (o) => {
        await withResilience(transport, o).close();
      },
      { numRuns: RUNS },
    );
    expect(whole.valid).toBeGreaterThan(50);
  });

  it(`collectMetrics (${RUNS} configs, construct then stop) and traceRequests' resolver`, async () => {
    const tally = await fuzzOptions(METRICS, (o) => collectMetrics(o).stop(), { numRuns: RUNS });
    expect(tally.valid).toBeGreaterThan(50);
    const trace = await fuzzOptions([{ path: 'redactQuery', t: 'bool' }], (o) => resolveTraceOptions(o), { numRuns: RUNS });
    expect(trace.runs).toBe(RUNS);
  });

  it(`createBerth (${RUNS} configs across its own fields and every section, construct then close)`, async () => {
    const sections: FieldSpec[] = [
      { path: 'protocol', t: 'enum', values: ['h1', 'h2', 'auto'] },
      // allowCleartext is left out: an invalid one is also reported as pool.allowCleartext
      // and http2.allowCleartext (the facade passes it down before the sections are checked).
      ...TLS.slice(2, 6).map((s) => ({ ...s, path: `tls.${s.path}` })),
      ...POOL.slice(0, 6).map((s) => ({ ...s, path: `pool.${s.path}` })),
      ...H2.slice(0, 4).map((s) => ({ ...s, path: `http2.${s.path}` })),
      ...ROUTER.slice(0, 4).map((s) => ({ ...s, path: `routing.${s.path}` })),
      ...METRICS.slice(0, 2).map((s) => ({ ...s, path: `metrics.${s.path}` })),
    ];
    const tally = await fuzzOptions(sections, (o) => createBerth(o).close(), {
      numRuns: RUNS,
      base: { origin: 'https://127.0.0.1:1', scaling: false, tls: { ca, useSystemRoots: false } },
    });
    expect(tally.valid).toBeGreaterThan(20);
  });

  // Was a bug: every policy's problems landed under `resilience.` alone, and the first bad
  // policy hid the others.
  it('createBerth names invalid resilience options by their full path, every policy at once', () => {
    let error: unknown;
    try {
      createBerth({
        origin: 'https://127.0.0.1:1',
        tls: { ca, useSystemRoots: false },
        resilience: { retry: { maxAttempts: 0 }, breaker: { openMs: -1 } },
      });
    } catch (e) {
      error = e;
    }
    const paths = ((error as { problems?: { path: string }[] }).problems ?? []).map((p) => p.path);
    expect(paths).toEqual(['resilience.retry.maxAttempts', 'resilience.breaker.openMs']);
  });
});

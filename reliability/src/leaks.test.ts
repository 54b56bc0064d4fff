/**
 * Leaks: after close() of every component, and of the facade under load, no active handle
 * beyond the baseline, no pending timer on the injected clock (ref'd or not), and no
 * subscriber left on any `berth:*` diagnostics channel.
 */
import diagnostics from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { createBerth } from 'berth';
import { ALL_CHANNELS, isBerthError, silentLogger } from '@berth/core-types';
import { createTlsConfig } from '@berth/tls-config';
import type { TlsConfig } from '@berth/tls-config';
import { createHttpsPool } from '@berth/https-pool';
import { createH2Multiplexer } from '@berth/h2-multiplexer';
import { createWsPool } from '@berth/ws-pool';
import { createGeoRouter } from '@berth/geo-router';
import { createAdaptiveScaler } from '@berth/adaptive-scaler';
import { withResilience } from '@berth/resilience';
import { collectMetrics, logEvents, traceRequests } from '@berth/metrics';
import { startHttpServer, startWsServer, testPki } from '@berth/testkit';
import type { TestServer, TestServerOptions } from '@berth/testkit';
import { burst, countingClock, exchange, extraResources, resourceCounts } from './harness.js';
import type { CountingClock } from './harness.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: TestServerOptions): Promise<TestServer> {
  const s = await startHttpServer(options);
  cleanups.push(() => s.close());
  return s;
}

function subscribedChannels(): string[] {
  return ALL_CHANNELS.filter((name) => diagnostics.channel(name).hasSubscribers);
}

/** The three leak checks, after a component's close() resolved. */
async function expectNothingLeft(baseline: ReadonlyMap<string, number>, clock: CountingClock): Promise<void> {
  expect(await extraResources(baseline)).toEqual([]);
  expect(clock.pending()).toBe(0);
  expect(subscribedChannels()).toEqual([]);
}

async function tls(clock: CountingClock): Promise<TlsConfig> {
  return createTlsConfig({ ca: (await testPki()).ca.cert, useSystemRoots: false, clock });
}

describe('nothing is left after close()', () => {
  it('tls-config after an ALPN probe and a kept connection', async () => {
    const s = await server({ protocol: 'h2', allowHttp1: true });
    const baseline = resourceCounts();
    const clock = countingClock();
    const config = await tls(clock);
    expect((await config.probe(s.origin)).alpn).toBe('h2');
    config.close();
    await expectNothingLeft(baseline, clock);
  });

  it('https-pool after a burst with warm idle connections and a housekeeping timer', async () => {
    const s = await server({ protocol: 'https' });
    const baseline = resourceCounts();
    const clock = countingClock();
    const connector = await tls(clock);
    const pool = createHttpsPool(s.origin, { tls: connector, clock, minIdle: 2, housekeepingIntervalMs: 50 });
    expect(await burst(20, () => exchange(pool, { path: '/' }))).toEqual({ succeeded: 20, failed: {} });
    await pool.close();
    connector.close();
    await expectNothingLeft(baseline, clock);
  });

  it('h2-multiplexer after a burst, with pings and idle timers armed', async () => {
    const s = await server({ protocol: 'h2' });
    const baseline = resourceCounts();
    const clock = countingClock();
    const connector = await tls(clock);
    const mux = createH2Multiplexer(s.origin, { tls: connector, clock, pingIntervalMs: 50, idleTimeoutMs: 10_000 });
    expect(await burst(20, () => exchange(mux, { path: '/' }))).toEqual({ succeeded: 20, failed: {} });
    await mux.close();
    connector.close();
    await expectNothingLeft(baseline, clock);
  });

  it('ws-pool after sends, with heartbeats armed and a channel open', async () => {
    const s = await startWsServer();
    cleanups.push(() => s.close());
    const baseline = resourceCounts();
    const clock = countingClock();
    const connector = await tls(clock);
    const pool = createWsPool(`wss://localhost:${s.port}/`, { tls: connector, clock, size: 2, pingIntervalMs: 50 });
    pool.channel('news');
    expect(await burst(10, (i) => pool.send(`m${i}`))).toEqual({ succeeded: 10, failed: {} });
    await pool.close();
    connector.close();
    await expectNothingLeft(baseline, clock);
  });

  it('geo-router over two pools, with probes, outlier detection and hedging on', async () => {
    const [a, b] = await Promise.all([server({ protocol: 'https' }), server({ protocol: 'https' })]);
    const baseline = resourceCounts();
    const clock = countingClock();
    const connector = await tls(clock);
    const router = createGeoRouter({
      clock,
      probe: { intervalMs: 20 },
      hedge: { delayMs: 5 },
      regions: {
        a: { transport: createHttpsPool(a.origin, { tls: connector, clock, minIdle: 0 }) },
        b: { transport: createHttpsPool(b.origin, { tls: connector, clock, minIdle: 0 }) },
      },
    });
    expect(await burst(20, () => exchange(router, { path: '/' }))).toEqual({ succeeded: 20, failed: {} });
    await router.close();
    connector.close();
    await expectNothingLeft(baseline, clock);
  });

  it('adaptive-scaler started over a pool, then stopped, then the pool closed', async () => {
    const s = await server({ protocol: 'https' });
    const baseline = resourceCounts();
    const clock = countingClock();
    const connector = await tls(clock);
    const pool = createHttpsPool(s.origin, { tls: connector, clock, minIdle: 0 });
    const scaler = createAdaptiveScaler(pool, { clock, intervalMs: 100 });
    scaler.start();
    expect(await burst(10, () => exchange(pool, { path: '/' }))).toEqual({ succeeded: 10, failed: {} });
    scaler.stop();
    await pool.close();
    connector.close();
    await expectNothingLeft(baseline, clock);
  });

  it('withResilience with retry, breaker, limiter and bulkhead, after retried failures', async () => {
    const s = await server({ protocol: 'https', behaviour: { status: 503 } });
    const baseline = resourceCounts();
    const clock = countingClock();
    const connector = await tls(clock);
    const guarded = withResilience(createHttpsPool(s.origin, { tls: connector, clock, minIdle: 0 }), {
      clock,
      retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
      breaker: { consecutiveFailures: 100, minimumRequests: 100 },
      limiter: { ratePerSec: 1000 },
      bulkhead: { maxConcurrent: 4, maxQueued: 100 },
    });
    const tally = await burst(8, async () => {
      const res = await guarded.request({ path: '/' });
      await res.dump();
      return res.status;
    });
    expect(tally).toEqual({ succeeded: 8, failed: {} });
    await guarded.close();
    connector.close();
    await expectNothingLeft(baseline, clock);
  });

  it('metrics: collectMetrics, traceRequests and logEvents unsubscribe from every channel on stop()', () => {
    const clock = countingClock();
    const collector = collectMetrics({ clock });
    const tracer = traceRequests();
    const logger = logEvents({ logger: silentLogger });
    expect(subscribedChannels().length).toBeGreaterThan(10);
    collector.stop();
    tracer.stop();
    logger.stop();
    expect(subscribedChannels()).toEqual([]);
    expect(clock.pending()).toBe(0);
  });

  it('the facade closed under load (h1 + h2 regions, websocket, metrics and tracing on): every request settles, nothing is left', async () => {
    const [h1, h2] = await Promise.all([server({ protocol: 'https' }), server({ protocol: 'h2' })]);
    const ws = await startWsServer();
    cleanups.push(() => ws.close());
    const baseline = resourceCounts();
    const clock = countingClock();
    const berth = createBerth({
      regions: { one: { origin: h1.origin }, two: { origin: h2.origin } },
      tls: { ca: (await testPki()).ca.cert, useSystemRoots: false },
      clock,
      metrics: true,
      tracing: true,
      scaling: { intervalMs: 100 },
      routing: { probe: { intervalMs: 20 } },
    });
    const socket = berth.websocket('/', { size: 2, pingIntervalMs: 50 });
    await berth.ready();
    await exchange(berth, { path: '/' });
    const inFlight = burst(40, (i) => exchange(berth, { path: '/', headers: { 'x-berth-behaviour': JSON.stringify({ delayMs: i % 20 }) } }));
    const sends = burst(10, (i) => socket.send(`m${i}`));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await berth.close();
    const [requests, messages] = await Promise.all([inFlight, sends]);
    // Every outcome is a success or a coded failure: burst counts anything else as NOT_BERTH.
    for (const tally of [requests, messages]) {
      expect(Object.keys(tally.failed).filter((code) => !code.startsWith('ERR_BERTH_'))).toEqual([]);
    }
    expect(requests.succeeded + Object.values(requests.failed).reduce((a, b) => a + b, 0)).toBe(40);
    await expectNothingLeft(baseline, clock);
    expect(isBerthError(await berth.request({ path: '/' }).catch((e: unknown) => e), 'ERR_BERTH_CLOSED')).toBe(true);
  });
});

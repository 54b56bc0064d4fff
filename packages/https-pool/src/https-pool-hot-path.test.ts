import { describe, expect, it, vi } from 'vitest';
import { HTTPS_POOL_CHANNELS, isBerthError } from '@berth/core-types';
import type { PoolGaugesMessage } from '@berth/core-types';
import { startFaultProxy } from '@berth/testkit';
import { LatencyWindow } from './latency-window.js';
import type { HttpsPoolOptions } from './options.js';
import { cleanups, pool, server, subscribe } from '../test/fixtures.js';

describe('https-pool hot path', () => {
  it('arms no timer for an acquire or a request that finds an idle connection', async () => {
    const s = await server();
    // A distinctive deadline, so only timers armed for the acquire deadline are counted.
    const acquireTimeoutMs = 12_345;
    const p = await pool(s.origin, { minIdle: 2, maxConnections: 2, acquireTimeoutMs });
    await p.ready();
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    for (let i = 0; i < 20; i += 1) {
      const lease = await p.acquire();
      lease.release();
      const res = await p.request({ path: '/' });
      await res.dump();
    }
    const deadlineTimers = setTimeoutSpy.mock.calls.filter(([, ms]) => typeof ms === 'number' && ms > acquireTimeoutMs - 100 && ms <= acquireTimeoutMs);
    expect(deadlineTimers).toHaveLength(0);
    expect(p.stats().acquires.direct).toBe(40);
  });

  it('still fails a caller queued for a connection that never opens with ERR_BERTH_ACQUIRE_TIMEOUT', async () => {
    const s = await server();
    const proxy = await startFaultProxy({ host: s.host, port: s.port });
    cleanups.push(() => proxy.close());
    await proxy.set({ mode: 'blackhole' });
    const p = await pool(`https://127.0.0.1:${proxy.port}`, { acquireTimeoutMs: 80, connectTimeoutMs: 30_000 });
    const failure = await p.request({ path: '/' }).catch((error: unknown) => error);
    expect(isBerthError(failure, 'ERR_BERTH_ACQUIRE_TIMEOUT')).toBe(true);
    expect(p.stats()).toMatchObject({ pending: 0, acquires: { timedOut: 1 } });
    const leaseFailure = await p.acquire().catch((error: unknown) => error);
    expect(isBerthError(leaseFailure, 'ERR_BERTH_ACQUIRE_TIMEOUT')).toBe(true);
    expect(p.stats().connecting).toBeGreaterThan(0);
    // close() ends the hanging dials at once (not at connectTimeoutMs).
    const started = performance.now();
    await p.close();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(p.stats().connecting).toBe(0);
  });

  it('fails with ERR_BERTH_QUEUE_FULL once callers that gave up fill generic-pool\'s bounded queue', async () => {
    const s = await server();
    const proxy = await startFaultProxy({ host: s.host, port: s.port });
    cleanups.push(() => proxy.close());
    await proxy.set({ mode: 'blackhole' });
    const p = await pool(`https://127.0.0.1:${proxy.port}`, { maxConnections: 1, minConnections: 1, maxWaiting: 1, acquireTimeoutMs: 30, connectTimeoutMs: 30_000 });
    for (let i = 0; i < 2; i += 1) await expect(p.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_ACQUIRE_TIMEOUT' });
    await expect(p.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_QUEUE_FULL' });
    expect(p.stats()).toMatchObject({ pending: 0, errors: 3 });
  });

  it('publishes gauges that add up on every request end, without building latency summaries', async () => {
    const s = await server({ behaviour: { delayMs: 5 } });
    const p = await pool(s.origin, { maxConnections: 3 });
    const gauges = subscribe<PoolGaugesMessage>(HTTPS_POOL_CHANNELS.gauges);
    const summary = vi.spyOn(LatencyWindow.prototype, 'summary');
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        const res = await p.request({ path: '/' });
        await res.dump();
      }),
    );
    expect(summary).not.toHaveBeenCalled();
    expect(gauges.length).toBeGreaterThanOrEqual(2);
    const values = gauges.map((g) => [g.size, g.idle, g.busy, g.connecting, g.pending, g.target].join());
    // Identical repeats are skipped (within a housekeeping period): consecutive messages differ.
    for (let i = 1; i < values.length; i += 1) expect(values[i]).not.toBe(values[i - 1]);
    for (const g of gauges) {
      expect(g.size).toBe(g.idle + g.busy + g.connecting);
      expect(g.busy).toBeLessThanOrEqual(3);
      expect(g.target).toBe(3);
    }
    expect(gauges.some((g) => g.busy > 0)).toBe(true);
    const last = gauges.at(-1);
    const stats = p.stats();
    expect(last).toMatchObject({ size: stats.size, idle: stats.idle, busy: 0, connecting: 0, pending: 0 });
    expect(stats.idle).toBe(3);
  });

  it('publishes unchanged gauges once per housekeeping period, so a late subscriber gets them', async () => {
    const s = await server();
    const p = await pool(s.origin, { minIdle: 1, maxConnections: 2, housekeepingIntervalMs: 20 });
    await p.ready();
    const gauges = subscribe<PoolGaugesMessage>(HTTPS_POOL_CHANNELS.gauges);
    await vi.waitFor(() => expect(gauges.length).toBeGreaterThanOrEqual(2), { timeout: 2_000, interval: 10 });
    expect(gauges[0]).toMatchObject({ size: 1, idle: 1, busy: 0, connecting: 0, pending: 0, target: 2 });
    expect(gauges[1]).toEqual(gauges[0]);
  });

  it('counts a connection that breaks mid-request out of busy, and a leased one in', async () => {
    let n = 0;
    const s = await server({ behaviour: () => (n++ === 0 ? { resetMidBody: true, bodyBytes: 100_000, chunkBytes: 1_000, chunkIntervalMs: 1 } : {}) });
    const p = await pool(s.origin, { maxConnections: 2 });
    const res = await p.request({ path: '/', idempotent: false });
    await res.text().catch(() => {});
    await vi.waitFor(() => expect(p.stats().destroyed.broken).toBe(1));
    expect(p.stats()).toMatchObject({ busy: 0, size: 0 });
    const lease = await p.acquire();
    expect(p.stats()).toMatchObject({ busy: 1, idle: 0, size: 1 });
    lease.release();
    expect(p.stats()).toMatchObject({ busy: 0, idle: 1, size: 1 });
  });

  it('opens 20 connections at once without a MaxListenersExceededWarning', async () => {
    const s = await server();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    cleanups.push(() => {
      process.off('warning', onWarning);
    });
    const p = await pool(s.origin, { minIdle: 20, maxConnections: 20 });
    await p.ready();
    await new Promise((resolve) => setImmediate(resolve));
    expect(p.stats().size).toBe(20);
    expect(warnings.map((w) => w.name)).toEqual([]);
  });

  it('validates a pre-warmed connection that never carried a request, then serves on it', async () => {
    const s = await server();
    let now = 0;
    const clock = { now: () => now, wallNow: () => Date.now(), setTimeout, clearTimeout, setInterval, clearInterval } as unknown as NonNullable<HttpsPoolOptions['clock']>;
    const p = await pool(s.origin, { minIdle: 1, maxConnections: 1, validateAfterIdleMs: 1_000, housekeepingIntervalMs: 60_000, clock });
    await p.ready();
    now = 5_000;
    const res = await p.request({ path: '/after-idle' });
    await res.dump();
    expect(res.meta.reused).toBe(false);
    expect(s.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['OPTIONS /', 'GET /after-idle']);
    expect(s.totalConnections()).toBe(1);
  });
});

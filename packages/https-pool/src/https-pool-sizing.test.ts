import diagnostics from 'node:diagnostics_channel';
import { describe, expect, it, vi } from 'vitest';
import { HTTPS_POOL_CHANNELS, isBerthError } from '@berth/core-types';
import type { AcquireMessage, PoolGaugesMessage, PoolResizeMessage } from '@berth/core-types';
import type { HttpsPool } from './https-pool.js';
import { cleanups, pool, server } from '../test/fixtures.js';

function subscribe<T>(channel: string): { messages: T[] } {
  const messages: T[] = [];
  const fn = (m: unknown) => messages.push(m as T);
  diagnostics.subscribe(channel, fn);
  cleanups.push(() => {
    diagnostics.unsubscribe(channel, fn);
    return Promise.resolve();
  });
  return { messages };
}

async function burst(p: HttpsPool, n: number, path = '/'): Promise<void> {
  const all = await Promise.all(Array.from({ length: n }, () => p.request({ path })));
  for (const r of all) await r.dump();
}

describe('resize', () => {
  it('resizes up and down under load without aborting a request', async () => {
    const s = await server({ behaviour: { delayMs: 20 } });
    const p = await pool(s.origin, { maxConnections: 8, minConnections: 1 });
    const resizes = subscribe<PoolResizeMessage>(HTTPS_POOL_CHANNELS.resize);
    await burst(p, 16);
    expect(p.stats().size).toBe(8);
    expect(s.totalConnections()).toBe(8);

    const inFlight = Array.from({ length: 8 }, () => p.request({ path: '/' }));
    while (p.stats().busy < 8) await new Promise((resolve) => setImmediate(resolve));
    p.resize(2);
    const queued = Array.from({ length: 6 }, () => p.request({ path: '/' }));
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, p.stats().busy)), 1);
    const done = await Promise.all(inFlight);
    for (const r of done) await r.dump();
    for (const r of await Promise.all(queued)) await r.dump();
    clearInterval(sampler);
    expect(done.every((r) => r.status === 200)).toBe(true);
    expect(p.stats().size).toBeLessThanOrEqual(2);
    expect(p.stats().destroyed.resize).toBe(6);

    p.resize(6);
    await burst(p, 12);
    expect(p.stats().size).toBe(6);
    expect(p.stats().target).toBe(6);
    expect(resizes.messages.map((m) => [m.from, m.to])).toEqual([
      [8, 2],
      [2, 6],
    ]);
  });

  it('closes idle connections at once when it shrinks and rejects a target outside its bounds', async () => {
    const s = await server();
    const p = await pool(s.origin, { maxConnections: 4, minConnections: 1 });
    await burst(p, 4);
    expect(p.stats().idle).toBe(4);
    p.resize(1);
    expect(p.stats().size).toBe(1);
    await s.waitForConnections((n) => n === 1);
    expect(p.bounds).toEqual({ min: 1, max: 4 });
    expect(() => p.resize(0)).toThrow(expect.objectContaining({ code: 'ERR_BERTH_CONFIG' }));
    expect(() => p.resize(5)).toThrow(expect.objectContaining({ code: 'ERR_BERTH_CONFIG' }));
    expect(() => p.resize(1.5)).toThrow(expect.objectContaining({ code: 'ERR_BERTH_CONFIG' }));
    await burst(p, 3);
    expect(p.stats().size).toBe(1);
  });
});

describe('reuse and observability', () => {
  it('reuses connections for at least 99 % of requests over a steady run', async () => {
    const s = await server();
    const p = await pool(s.origin, { maxConnections: 10, minConnections: 1 });
    for (let i = 0; i < 100; i += 1) await burst(p, 10);
    const stats = p.stats();
    expect(stats.requests).toBe(1000);
    expect(stats.reuseRate).toBeGreaterThanOrEqual(0.99);
    expect(s.totalConnections()).toBeLessThanOrEqual(10);
    expect(stats.acquireWait.count).toBe(1000);
    expect(stats.acquires.direct + stats.acquires.waited).toBe(1000);
  });

  it('publishes acquire outcomes and gauges only to subscribers', async () => {
    const s = await server();
    const p = await pool(s.origin, { maxConnections: 1, minConnections: 1 });
    const acquires = subscribe<AcquireMessage>(HTTPS_POOL_CHANNELS.acquire);
    const gauges = subscribe<PoolGaugesMessage>(HTTPS_POOL_CHANNELS.gauges);
    await (await p.request({ path: '/' })).dump();
    await burst(p, 2);
    expect(acquires.messages.map((m) => m.outcome)).toEqual(['waited', 'direct', 'waited']);
    expect(gauges.messages.at(-1)).toMatchObject({ size: 1, idle: 1, busy: 0, pending: 0, target: 1 });
  });

  it('serves idle connections last-in first-out with idleOrder lifo', async () => {
    const s = await server();
    const p = await pool(s.origin, { maxConnections: 3, idleOrder: 'lifo' });
    await burst(p, 3);
    const seen = new Set<string>();
    for (let i = 0; i < 5; i += 1) {
      const r = await p.request({ path: '/' });
      seen.add(r.meta.connectionId);
      await r.dump();
    }
    expect(seen.size).toBe(1);
  });
});

describe('close', () => {
  it('lets in-flight requests finish, fails waiters with ERR_BERTH_CLOSED, and leaves nothing open', async () => {
    const s = await server({ behaviour: { delayMs: 50 } });
    const p = await pool(s.origin, { maxConnections: 1, minConnections: 1 });
    const inFlight = p.request({ path: '/' });
    const waiter = p.request({ path: '/' }).catch((e: unknown) => e);
    while (s.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const closing = p.close({ deadlineMs: 2_000 });
    expect(p.state()).toBe('draining');
    const res = await inFlight;
    expect(isBerthError(await waiter, 'ERR_BERTH_CLOSED')).toBe(true);
    expect(await res.text()).toBe('ok');
    await closing;
    expect(p.state()).toBe('closed');
    expect(p.close()).toBeInstanceOf(Promise);
    await s.waitForConnections((n) => n === 0);
    await expect(p.ready()).rejects.toMatchObject({ code: 'ERR_BERTH_CLOSED' });
  });

  it('destroys requests still in flight at the deadline with ERR_BERTH_CLOSED', async () => {
    const s = await server({ behaviour: { delayMs: 5_000 } });
    const p = await pool(s.origin);
    const slow = p.request({ path: '/' }).catch((e: unknown) => e);
    await s.waitForConnections((n) => n === 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await p.close({ deadlineMs: 10 });
    expect(isBerthError(await slow, 'ERR_BERTH_CLOSED')).toBe(true);
    await s.waitForConnections((n) => n === 0);
  });

  it('rejects a pending ready() when the pool closes', async () => {
    const s = await server({ behaviour: { delayMs: 5_000 } });
    const p = await pool(s.origin, { minIdle: 2, connectTimeoutMs: 5_000 });
    const ready = p.ready().catch((e: unknown) => e);
    await p.close();
    const outcome = await ready;
    expect(outcome === undefined || isBerthError(outcome, 'ERR_BERTH_CLOSED')).toBe(true);
  });

  it('fails a request with ERR_BERTH_ABORTED when its signal fires while it waits for a connection', async () => {
    const s = await server({ behaviour: { delayMs: 100 } });
    const p = await pool(s.origin, { maxConnections: 1, minConnections: 1 });
    const holder = p.request({ path: '/' });
    const ac = new AbortController();
    const waiting = p.request({ path: '/', signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    expect(isBerthError(await waiting, 'ERR_BERTH_ABORTED')).toBe(true);
    await (await holder).dump();
    expect(p.stats().pending).toBe(0);
  });
});

describe('acquire', () => {
  it('lends a warm connection without sending anything and takes it back on release', async () => {
    const s = await server();
    const p = await pool(s.origin, { minIdle: 1, maxConnections: 1, minConnections: 1, acquireTimeoutMs: 50 });
    await p.ready();
    const lease = await p.acquire();
    expect(lease.info()).toMatchObject({ state: 'busy', requestCount: 0 });
    expect(p.stats()).toMatchObject({ busy: 1, idle: 0 });
    await expect(p.acquire()).rejects.toMatchObject({ code: 'ERR_BERTH_ACQUIRE_TIMEOUT' });
    const ac = new AbortController();
    const aborted = p.acquire({ signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    expect(isBerthError(await aborted, 'ERR_BERTH_ABORTED')).toBe(true);
    lease.release();
    lease.release();
    expect(p.stats()).toMatchObject({ busy: 0, idle: 1 });
    const again = await p.acquire();
    expect(again.id).toBe(lease.id);
    again.release();
    expect(s.requests).toHaveLength(0);
    expect(p.stats().acquires).toMatchObject({ direct: 2, timedOut: 1 });
  });

  it('rejects acquire with ERR_BERTH_QUEUE_FULL and after close with ERR_BERTH_CLOSED', async () => {
    const s = await server();
    const p = await pool(s.origin, { maxConnections: 1, minConnections: 1, maxWaiting: 0 });
    const lease = await p.acquire();
    await expect(p.acquire()).rejects.toMatchObject({ code: 'ERR_BERTH_QUEUE_FULL' });
    lease.release();
    await p.close();
    await expect(p.acquire()).rejects.toMatchObject({ code: 'ERR_BERTH_CLOSED' });
  });
});

describe('minIdle under load', () => {
  it('opens connections ahead of demand so minIdle stay idle while others are busy, within the target', async () => {
    const s = await server();
    const p = await pool(s.origin, { minIdle: 2, maxConnections: 6, minConnections: 2, housekeepingIntervalMs: 20, validateAfterIdleMs: 0 });
    await p.ready();
    const leases = await Promise.all([p.acquire(), p.acquire(), p.acquire()]);
    expect(p.stats()).toMatchObject({ busy: 3, idle: 0 });
    while (p.stats().idle < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(p.stats()).toMatchObject({ busy: 3, idle: 2, size: 5 });
    const more = await Promise.all([p.acquire(), p.acquire(), p.acquire()]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(p.stats()).toMatchObject({ busy: 6, idle: 0, size: 6 });
    for (const l of [...leases, ...more]) l.release();
    expect(p.stats().idle).toBe(6);
  });
});

describe('request deadline', () => {
  it('fails with ERR_BERTH_TIMEOUT at the request deadline while still waiting for a connection', async () => {
    const s = await server({ behaviour: { delayMs: 300 } });
    const p = await pool(s.origin, { maxConnections: 1, minConnections: 1, acquireTimeoutMs: 10_000 });
    const holder = p.request({ path: '/holder' });
    // The holder must own the only connection before the second request starts: otherwise,
    // under load, the holder itself may still be waiting for its dial when `pending` is read.
    await vi.waitFor(() => expect(p.stats().busy).toBe(1));
    await expect(p.request({ path: '/late', timeoutMs: 30 })).rejects.toMatchObject({ code: 'ERR_BERTH_TIMEOUT' });
    // The timed-out request left no waiter behind.
    expect(p.stats().pending).toBe(0);
    await (await holder).dump();
    // It timed out while waiting for a connection: it never reached the server.
    expect(s.requests.map((r) => r.path)).toEqual(['/holder']);
  });
});

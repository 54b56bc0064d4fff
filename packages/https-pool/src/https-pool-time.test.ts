import diagnostics from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HTTPS_POOL_CHANNELS, isBerthError } from '@berth/core-types';
import type { ConnectionClosedMessage, TlsConnector } from '@berth/core-types';
import { createTestConnector, seededRandom, startFaultProxy, startHttpServer, testPki } from '@berth/testkit';
import type { TestServer } from '@berth/testkit';
import { createHttpsPool } from './https-pool.js';
import type { HttpsPool } from './https-pool.js';
import type { HttpsPoolOptions } from './options.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const c of cleanups.splice(0).reverse()) await c();
});

// setImmediate stays real so loopback I/O can progress while the clock holds still.
const FAKE: Parameters<typeof vi.useFakeTimers>[0] = { toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] };

/** Lets real I/O run while fake timers hold still (setImmediate is not faked). */
async function until(condition: () => boolean, turns = 20_000): Promise<void> {
  for (let i = 0; i < turns; i += 1) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error('condition never held');
}

async function server(options: Parameters<typeof startHttpServer>[0] = {}): Promise<TestServer> {
  const s = await startHttpServer(options);
  cleanups.push(() => s.close());
  return s;
}

async function countingConnector(): Promise<TlsConnector & { attempts: () => number }> {
  const inner = createTestConnector({ ca: (await testPki()).ca.cert });
  let attempts = 0;
  return {
    alpnProtocols: inner.alpnProtocols,
    handshakeTimeoutMs: inner.handshakeTimeoutMs,
    connect: (target) => {
      attempts += 1;
      return inner.connect(target);
    },
    handshakeInfo: (socket) => inner.handshakeInfo(socket),
    attempts: () => attempts,
  };
}

async function pool(origin: string, options: HttpsPoolOptions = {}): Promise<HttpsPool> {
  const p = createHttpsPool(origin, { tls: await countingConnector(), minIdle: 0, ...options });
  cleanups.push(async () => {
    vi.useRealTimers();
    await p.close();
  });
  return p;
}

describe('connect failures', () => {
  it('does not spin when connection creation fails 1000 times in a row, and each waiter gets the connect error', async () => {
    const s = await server();
    const proxy = await startFaultProxy({ host: s.host, port: s.port });
    cleanups.push(() => proxy.close());
    await proxy.set({ mode: 'refuse' });
    const connector = await countingConnector();
    vi.useFakeTimers(FAKE);
    const p = await pool(`https://127.0.0.1:${proxy.port}`, {
      tls: connector,
      connectBackoff: { baseMs: 10, maxMs: 80 },
      acquireTimeoutMs: 3_600_000,
      random: seededRandom(42),
    });
    for (let i = 0; i < 1000; i += 1) {
      const attempt = p.request({ path: '/' }).catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(80);
      const error = await attempt;
      expect(isBerthError(error, 'ERR_BERTH_CONNECT_REFUSED')).toBe(true);
    }
    expect(connector.attempts()).toBe(1000);
    expect(p.stats()).toMatchObject({ connectErrors: 1000, errors: 1000, size: 0, pending: 0 });
  });

  it('does not spin while the upstream is down and minIdle keeps asking for connections', async () => {
    const s = await server();
    const proxy = await startFaultProxy({ host: s.host, port: s.port });
    cleanups.push(() => proxy.close());
    await proxy.set({ mode: 'refuse' });
    const connector = await countingConnector();
    vi.useFakeTimers(FAKE);
    const p = await pool(`https://127.0.0.1:${proxy.port}`, { tls: connector, minIdle: 2, connectBackoff: { baseMs: 100, maxMs: 1_000 } });
    await until(() => p.stats().connectErrors === 2);
    // The clock holds still: however many I/O turns pass, no new attempt starts.
    for (let i = 0; i < 500; i += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(connector.attempts()).toBe(2);
    for (let i = 0; i < 100; i += 1) {
      await vi.advanceTimersByTimeAsync(100);
      for (let j = 0; j < 5; j += 1) await new Promise((resolve) => setImmediate(resolve));
    }
    // 10 s of fake time: paced by the backoff and the 1 s housekeeping, never a busy loop.
    expect(connector.attempts()).toBeGreaterThan(2);
    expect(connector.attempts()).toBeLessThanOrEqual(2 + 2 * 11);
  });

  it('fails every queued waiter with the connect error, not an acquire timeout', async () => {
    const s = await server();
    const proxy = await startFaultProxy({ host: s.host, port: s.port });
    cleanups.push(() => proxy.close());
    await proxy.set({ mode: 'refuse' });
    vi.useFakeTimers(FAKE);
    const p = await pool(`https://127.0.0.1:${proxy.port}`, { maxConnections: 2, minConnections: 1, connectBackoff: { baseMs: 50, maxMs: 400 } });
    const results: unknown[] = [];
    const all = Array.from({ length: 6 }, (_, i) => p.request({ path: `/${i}` }).catch((e: unknown) => results.push(e)));
    for (let i = 0; i < 40 && results.length < 6; i += 1) {
      await vi.advanceTimersByTimeAsync(400);
      await until(() => true);
    }
    await Promise.all(all);
    expect(results.map((e) => (e as { code: string }).code)).toEqual(Array(6).fill('ERR_BERTH_CONNECT_REFUSED'));
  });

  it('recovers once the upstream accepts connections again', async () => {
    const s = await server();
    const proxy = await startFaultProxy({ host: s.host, port: s.port });
    cleanups.push(() => proxy.close());
    await proxy.set({ mode: 'refuse' });
    const p = await pool(`https://127.0.0.1:${proxy.port}`, { connectBackoff: { baseMs: 1, maxMs: 2 } });
    await expect(p.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_CONNECT_REFUSED' });
    await proxy.set({ mode: 'pass' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const res = await p.request({ path: '/' });
    expect(await res.text()).toBe('ok');
  });
});

describe('lifetime and idle retirement', () => {
  it('retires idle connections at maxLifetime ±10 % and replaces them to keep minIdle', async () => {
    const s = await server({ keepAliveTimeoutMs: 600_000 });
    const closed: ConnectionClosedMessage[] = [];
    const onClosed = (m: unknown) => closed.push(m as ConnectionClosedMessage);
    diagnostics.subscribe(HTTPS_POOL_CHANNELS.connectionClosed, onClosed);
    cleanups.push(() => {
      diagnostics.unsubscribe(HTTPS_POOL_CHANNELS.connectionClosed, onClosed);
      return Promise.resolve();
    });
    vi.useFakeTimers(FAKE);
    const p = await pool(s.origin, { minIdle: 2, maxLifetimeMs: 10_000, random: seededRandom(7), validateAfterIdleMs: 0, idleTimeoutMs: 600_000 });
    await p.ready();
    const first = p.connections().map((c) => c.id);
    await vi.advanceTimersByTimeAsync(8_999);
    expect(p.stats().destroyed.lifetime).toBe(0);
    await vi.advanceTimersByTimeAsync(2_002);
    expect(p.stats().destroyed.lifetime).toBe(2);
    const ages = closed.filter((m) => m.reason === 'lifetime').map((m) => m.ageMs);
    expect(ages.every((a) => a >= 9_000 && a <= 11_000)).toBe(true);
    expect(ages[0]).not.toBe(ages[1]);
    await vi.advanceTimersByTimeAsync(1_000);
    await until(() => p.connections().length === 2);
    expect(p.connections().map((c) => c.id)).not.toEqual(expect.arrayContaining(first));
    expect(p.stats().created).toBe(4);
  });

  it('never retires an expired connection mid-request: it goes when the request ends', async () => {
    const s = await server({ keepAliveTimeoutMs: 600_000 });
    // The testkit server lives in this process, so its delay runs on the fake clock too.
    s.route('/slow', { delayMs: 5_000 });
    vi.useFakeTimers(FAKE);
    const p = await pool(s.origin, { maxLifetimeMs: 1_000, lifetimeJitter: 0 });
    await (await p.request({ path: '/warm' })).dump();
    const slow = p.request({ path: '/slow' });
    await until(() => s.requests.length === 2);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(p.stats().destroyed.lifetime).toBe(0);
    expect(p.stats().busy).toBe(1);
    await vi.advanceTimersByTimeAsync(4_000);
    const res = await slow;
    expect(await res.text()).toBe('ok');
    await until(() => p.stats().destroyed.lifetime === 1);
  });

  it('closes an idle connection when its keep-alive (the server hint minus the threshold) runs out', async () => {
    const s = await server({ keepAliveTimeoutMs: 10_000 });
    vi.useFakeTimers(FAKE);
    const p = await pool(s.origin, { validateAfterIdleMs: 0 });
    await (await p.request({ path: '/' })).dump();
    await vi.advanceTimersByTimeAsync(7_000);
    expect(p.stats().size).toBe(1);
    await vi.advanceTimersByTimeAsync(1_600);
    await until(() => p.stats().destroyed.idle === 1);
    expect(p.stats().size).toBe(0);
  });

  it('keeps minIdle connections warm across keep-alive expiry by validating them in the background', async () => {
    const s = await server({ keepAliveTimeoutMs: 600_000 });
    vi.useFakeTimers(FAKE);
    const p = await pool(s.origin, { minIdle: 2, keepAliveTimeoutMs: 3_000, validateAfterIdleMs: 2_000 });
    await p.ready();
    for (let i = 0; i < 30; i += 1) {
      await vi.advanceTimersByTimeAsync(1_000);
      for (let j = 0; j < 30; j += 1) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(p.stats()).toMatchObject({ created: 2, size: 2 });
    expect(s.totalConnections()).toBe(2);
    expect(s.requests.every((r) => r.method === 'OPTIONS')).toBe(true);
    expect(s.requests.length).toBeGreaterThanOrEqual(20);
  });

  it('closes idle connections beyond minIdle after idleTimeoutMs', async () => {
    const s = await server({ keepAliveTimeoutMs: 600_000 });
    vi.useFakeTimers(FAKE);
    const p = await pool(s.origin, { minIdle: 1, idleTimeoutMs: 5_000, keepAliveTimeoutMs: 60_000, validateAfterIdleMs: 0 });
    await p.ready();
    const three = await Promise.all([1, 2, 3].map((i) => p.request({ path: `/${i}` })));
    for (const r of three) await r.dump();
    expect(p.stats().size).toBe(3);
    await vi.advanceTimersByTimeAsync(6_100);
    await until(() => p.stats().size === 1);
    expect(p.stats().destroyed.idle).toBe(2);
  });
});

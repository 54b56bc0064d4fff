import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFaultProxy } from '@berth/testkit';
import { cleanups, pool, server } from '../test/fixtures.js';

/** Every rejection nobody handled while the test ran. */
const unhandled: unknown[] = [];
const record = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', record);
});
afterEach(() => {
  process.off('unhandledRejection', record);
});

/** Lets Node report any rejection left unhandled (it checks after the microtask queue drains). */
async function settleRejectionTracking(): Promise<void> {
  for (let i = 0; i < 3; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

describe('close while connecting', () => {
  it('leaves no unhandled rejection when a request gave up at its deadline and the pool closes during the dial', async () => {
    const s = await server();
    const proxy = await startFaultProxy({ host: s.host, port: s.port });
    cleanups.push(() => proxy.close());
    await proxy.set({ mode: 'blackhole' });
    const p = await pool(`https://127.0.0.1:${proxy.port}`, { maxConnections: 2, connectTimeoutMs: 30_000 });
    const outcomes = [p.request({ path: '/', timeoutMs: 20 }), p.request({ path: '/', timeoutMs: 20 })].map((r) => r.catch((error: unknown) => error));
    // Both dials really are in progress: the TCP connections are open and the handshakes hang.
    await vi.waitFor(() => expect(proxy.connectionCount()).toBe(2));
    for (const outcome of await Promise.all(outcomes)) expect(outcome).toMatchObject({ code: 'ERR_BERTH_TIMEOUT' });
    expect(p.stats().connecting).toBe(2);
    await p.close();
    await settleRejectionTracking();
    expect(p.stats().connecting).toBe(0);
    expect(unhandled).toEqual([]);
  });

  it('fails a waiting request and a waiting acquire with ERR_BERTH_CLOSED, and leaves nothing unhandled', async () => {
    const s = await server();
    const proxy = await startFaultProxy({ host: s.host, port: s.port });
    cleanups.push(() => proxy.close());
    await proxy.set({ mode: 'blackhole' });
    const p = await pool(`https://127.0.0.1:${proxy.port}`, { maxConnections: 2, connectTimeoutMs: 30_000 });
    const request = p.request({ path: '/' }).catch((error: unknown) => error);
    const lease = p.acquire().catch((error: unknown) => error);
    await vi.waitFor(() => expect(proxy.connectionCount()).toBe(2));
    await p.close();
    expect(await request).toMatchObject({ code: 'ERR_BERTH_CLOSED' });
    expect(await lease).toMatchObject({ code: 'ERR_BERTH_CLOSED' });
    await settleRejectionTracking();
    expect(unhandled).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { startFaultProxy } from '@berth/testkit';
import { pool, server, track, eventually } from '../test/fixtures.js';

describe('exclusive leases', () => {
  it('leases a whole socket apart from the shared ones, and reuses it after release', async () => {
    const s = await server();
    const p = await pool(s.url);
    await p.ready();
    const lease = await p.acquire();
    expect(p.stats().leased).toBe(1);
    expect(lease.socketId).toContain('#L');
    const iterator = lease[Symbol.asyncIterator]();
    await expect(lease.send('session-hello')).resolves.toBe('written');
    const echo = await iterator.next();
    expect(echo.value?.data.toString()).toBe('session-hello');
    expect(s.totalSockets()).toBe(2);
    await lease.release();
    await expect(lease.send('late')).rejects.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
    const again = await p.acquire();
    expect(again.socketId).toBe(lease.socketId);
    expect(s.totalSockets()).toBe(2);
    await again.destroy();
    await eventually(() => expect(s.sockets()).toHaveLength(1));
  });

  it('times out an acquire with ERR_BERTH_ACQUIRE_TIMEOUT when every lease is taken', async () => {
    const s = await server();
    const p = await pool(s.url, { lease: { max: 1, acquireTimeoutMs: 1_000 } });
    const held = await p.acquire();
    await expect(p.acquire()).rejects.toMatchObject({ code: 'ERR_BERTH_ACQUIRE_TIMEOUT' });
    await p.release(held);
  });

  it('refuses a waiter over lease.maxWaiting at once with ERR_BERTH_QUEUE_FULL', async () => {
    const s = await server();
    const p = await pool(s.url, { lease: { max: 1, maxWaiting: 0, acquireTimeoutMs: 1_000 } });
    const held = await p.acquire();
    await expect(p.acquire()).rejects.toMatchObject({ code: 'ERR_BERTH_QUEUE_FULL' });
    await held.release();
  });

  it('closes leased sockets with the pool, even when a lease was never released', async () => {
    const s = await server();
    const p = await pool(s.url);
    const lease = await p.acquire();
    await p.close();
    await expect(lease.send('x')).rejects.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
    await expect(p.acquire()).rejects.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
    await eventually(() => expect(s.connectionCount()).toBe(0));
  });
});

describe('exclusive leases against a refusing server', () => {
  it('backs off between failed creates instead of looping, and the acquire times out with a code', async () => {
    const s = await server();
    const proxy = track(await startFaultProxy({ host: '127.0.0.1', port: s.port }));
    const p = await pool(`wss://127.0.0.1:${proxy.port}`, { backoffBaseMs: 200, backoffCapMs: 200, lease: { max: 1, acquireTimeoutMs: 300 } });
    await p.ready();
    s.rejectHandshakes({ status: 404 });
    await expect(p.acquire()).rejects.toMatchObject({ code: 'ERR_BERTH_ACQUIRE_TIMEOUT' });
    // Without the guard generic-pool re-creates as fast as the server refuses (dozens in 300 ms).
    expect(proxy.totalConnections()).toBeLessThan(10);
  });
});

describe('closing while a lease is being created', () => {
  it('does not wait out the create backoff', async () => {
    const s = await server();
    const proxy = track(await startFaultProxy({ host: '127.0.0.1', port: s.port }));
    const p = await pool(`wss://127.0.0.1:${proxy.port}`, { backoffBaseMs: 60_000, backoffCapMs: 60_000, lease: { max: 1, acquireTimeoutMs: 60_000 } });
    await p.ready();
    s.rejectHandshakes({ status: 404 });
    const acquiring = p.acquire().then(
      () => undefined,
      (error: unknown) => error,
    );
    await eventually(() => expect(proxy.totalConnections()).toBe(2));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await p.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(acquiring).resolves.toMatchObject({ code: expect.stringMatching(/^ERR_BERTH_/) });
  });
});

describe('closing with waiters', () => {
  it('settles a caller waiting for a leased socket at once with ERR_BERTH_WS_CLOSED', async () => {
    const s = await server();
    const p = await pool(s.url, { lease: { max: 1, acquireTimeoutMs: 60_000 } });
    const held = await p.acquire();
    const waiting = p.acquire().then(
      () => undefined,
      (error: unknown) => error,
    );
    const started = Date.now();
    await p.close();
    await expect(waiting).resolves.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
    expect(Date.now() - started).toBeLessThan(5_000);
    await held.release();
  });
});

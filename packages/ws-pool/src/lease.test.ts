import { describe, expect, it, vi } from 'vitest';
import { pool, server } from '../test/fixtures.js';

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
    await vi.waitFor(() => expect(s.sockets()).toHaveLength(1));
  });

  it('times out an acquire with ERR_BERTH_ACQUIRE_TIMEOUT when every lease is taken', async () => {
    const s = await server();
    const p = await pool(s.url, { lease: { max: 1, acquireTimeoutMs: 50 } });
    const held = await p.acquire();
    await expect(p.acquire()).rejects.toMatchObject({ code: 'ERR_BERTH_ACQUIRE_TIMEOUT' });
    await held.release();
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
    await vi.waitFor(() => expect(s.connectionCount()).toBe(0));
  });
});

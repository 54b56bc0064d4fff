import { describe, expect, it } from 'vitest';
import type { HttpsPool } from './https-pool.js';
import { pool, server } from '../test/fixtures.js';

async function sequential(p: HttpsPool, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const r = await p.request({ path: '/' });
    ids.push(r.meta.connectionId);
    await r.dump();
  }
  return ids;
}

describe('https-pool warm path (connections parked between requests)', () => {
  it('still rotates over every idle connection with idleOrder fifo', async () => {
    const s = await server({ behaviour: { delayMs: 20 } });
    const p = await pool(s.origin, { maxConnections: 3 });
    const opened = await Promise.all([1, 2, 3].map(() => p.request({ path: '/' })));
    for (const r of opened) await r.dump();
    const ids = await sequential(p, 6);
    expect(new Set(ids).size).toBe(3);
    // Round robin: each connection again after the other two.
    expect(ids.slice(3)).toEqual(ids.slice(0, 3));
  });

  it('gives a parked connection that closes back to generic-pool at once, so its slot is refilled', async () => {
    const s = await server();
    s.route('/bye', { closeAfterResponse: true });
    const p = await pool(s.origin, { maxConnections: 1, minConnections: 1, acquireTimeoutMs: 2_000 });
    const bye = await p.request({ path: '/bye' });
    await bye.dump();
    while (p.stats().size > 0) await new Promise((resolve) => setImmediate(resolve));
    // With the slot still lent in generic-pool (max 1), this would wait out acquireTimeoutMs.
    const next = await p.request({ path: '/' });
    expect(await next.text()).toBe('ok');
    expect(next.meta.reused).toBe(false);
    expect(next.meta.connectionId).not.toBe(bye.meta.connectionId);
    expect(p.stats()).toMatchObject({ created: 2, errors: 0 });
  });

  it('lends a parked connection to acquire() and takes it back on release', async () => {
    const s = await server();
    const p = await pool(s.origin, { maxConnections: 1, minConnections: 1 });
    const first = await p.request({ path: '/' });
    await first.dump();
    const lease = await p.acquire();
    expect(lease.id).toBe(first.meta.connectionId);
    expect(p.stats()).toMatchObject({ busy: 1, idle: 0 });
    lease.release();
    const again = await p.request({ path: '/' });
    expect(again.meta).toMatchObject({ connectionId: first.meta.connectionId, reused: true });
    await again.dump();
    expect(p.stats().acquires).toMatchObject({ direct: 2 });
  });

  it('drains a body still arriving on dump() and reuses its connection after', async () => {
    const s = await server();
    s.route('/drip', { bodyBytes: 12, chunkBytes: 4, chunkIntervalMs: 20 });
    const p = await pool(s.origin, { maxConnections: 1, minConnections: 1 });
    const drip = await p.request({ path: '/drip' });
    await drip.dump();
    expect(drip.body.destroyed).toBe(true);
    const next = await p.request({ path: '/' });
    expect(next.meta).toMatchObject({ connectionId: drip.meta.connectionId, reused: true });
    expect(await next.text()).toBe('ok');
  });
});

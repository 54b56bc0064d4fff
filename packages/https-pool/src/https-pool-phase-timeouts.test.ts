import { describe, expect, it } from 'vitest';
import { isBerthError } from '@berth/core-types';
import { readAll } from './response-body.js';
import { pool, server } from '../test/fixtures.js';

describe('https-pool phase timeouts (the pool\'s own timer, not undici\'s ~1 s fast timers)', () => {
  it('fails a body that drips a chunk every 300 ms with ERR_BERTH_BODY_TIMEOUT at a 100 ms bodyTimeoutMs, and retires its connection', async () => {
    const s = await server({ behaviour: { bodyBytes: 16, chunkBytes: 4, chunkIntervalMs: 300 } });
    const p = await pool(s.origin, { maxConnections: 1, bodyTimeoutMs: 100 });
    const res = await p.request({ path: '/drip' });
    const headAt = performance.now();
    const failure = await res.text().catch((error: unknown) => error);
    const elapsed = performance.now() - headAt;
    expect(isBerthError(failure, 'ERR_BERTH_BODY_TIMEOUT')).toBe(true);
    // The first chunk comes with the head; the next is 300 ms away: the deadline is 100 ms after it.
    // (undici's fast timer never fired here: with a chunk every 300 ms the body just completed.)
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(p.stats()).toMatchObject({ destroyed: { broken: 1 }, size: 0 });
    // The next request gets a new connection, never the timed-out one.
    s.route('/after', { body: 'ok' });
    const next = await p.request({ path: '/after' });
    expect(await next.text()).toBe('ok');
    expect(next.meta).toMatchObject({ reused: false });
    expect(next.meta.connectionId).not.toBe(res.meta.connectionId);
  });

  it('lets a body whose chunks come within the window complete, re-arming the deadline as they come', async () => {
    const s = await server({ behaviour: { bodyBytes: 40, chunkBytes: 4, chunkIntervalMs: 30 } });
    const p = await pool(s.origin, { bodyTimeoutMs: 100 });
    const res = await p.request({ path: '/steady' });
    expect((await readAll(res.body)).length).toBe(40);
    expect(p.stats().errors).toBe(0);
  });

  it('honours a per-request bodyTimeoutMs over the pool default', async () => {
    const s = await server({ behaviour: { bodyBytes: 8, chunkBytes: 4, chunkIntervalMs: 300 } });
    const p = await pool(s.origin, { bodyTimeoutMs: 60_000 });
    const res = await p.request({ path: '/drip', bodyTimeoutMs: 50 });
    await expect(res.text()).rejects.toMatchObject({ code: 'ERR_BERTH_BODY_TIMEOUT' });
  });

  it('does not time out a body the consumer leaves unread (backpressure is not a stall)', async () => {
    const s = await server({ behaviour: { bodyBytes: 4 * 1024 * 1024 } });
    const p = await pool(s.origin, { bodyTimeoutMs: 100 });
    const res = await p.request({ path: '/big' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await readAll(res.body)).length).toBe(4 * 1024 * 1024);
    expect(p.stats().errors).toBe(0);
  });

  it('fails a head slower than a 100 ms headersTimeoutMs with ERR_BERTH_HEADERS_TIMEOUT at 100 ms, and retires the connection', async () => {
    const s = await server();
    s.route('/slow', { delayMs: 3_000 });
    const p = await pool(s.origin, { maxConnections: 1, headersTimeoutMs: 100 });
    await (await p.request({ path: '/' })).dump();
    const started = performance.now();
    const failure = await p.request({ path: '/slow' }).catch((error: unknown) => error);
    const elapsed = performance.now() - started;
    expect(isBerthError(failure, 'ERR_BERTH_HEADERS_TIMEOUT')).toBe(true);
    // Loose on purpose (a loaded CI machine); the exact moment is response-deadline.test.ts's job.
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(2_000);
    expect(p.stats()).toMatchObject({ destroyed: { broken: 1 } });
    const next = await p.request({ path: '/', headersTimeoutMs: 5_000 });
    expect(next.meta.reused).toBe(false);
    await next.dump();
  });

  it('leaves the headers deadline of a streamed request body to undici, which does not count the upload', async () => {
    const s = await server({ behaviour: { echo: true } });
    const p = await pool(s.origin, { headersTimeoutMs: 150 });
    async function* slowBody(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 3; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        yield new TextEncoder().encode('part');
      }
    }
    const res = await p.request({ method: 'POST', path: '/upload', body: slowBody() });
    expect(JSON.parse(await res.text())).toMatchObject({ body: 'partpartpart' });
  });
});

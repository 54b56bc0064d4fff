import { describe, expect, it } from 'vitest';
import { isBerthError } from '@berth/core-types';
import { readAll } from './response-body.js';
import { pool, server } from '../test/fixtures.js';

describe('https-pool response bodies (the stream is made on demand)', () => {
  it('reads a body that arrived whole with text(), json() and arrayBuffer(), once', async () => {
    const s = await server();
    s.route('/json', { body: '{"a":1}' });
    const p = await pool(s.origin);
    const text = await p.request({ path: '/' });
    expect(await text.text()).toBe('ok');
    expect(await text.text()).toBe('');
    expect((await readAll(text.body)).length).toBe(0);
    expect(await (await p.request({ path: '/json' })).json()).toEqual({ a: 1 });
    const bytes = await (await p.request({ path: '/' })).arrayBuffer();
    expect(Buffer.from(bytes).toString()).toBe('ok');
  });

  it('gives the same stream on every access, with what arrived before it was asked for', async () => {
    const s = await server({ behaviour: { bodyBytes: 3000, chunkBytes: 1000, chunkIntervalMs: 20 } });
    const p = await pool(s.origin);
    const res = await p.request({ path: '/' });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(res.body).toBe(res.body);
    expect((await readAll(res.body)).length).toBe(3000);
  });

  it('streams a body larger than what it holds with backpressure, the connection busy until it is read', async () => {
    const s = await server({ behaviour: { bodyBytes: 1024 * 1024 } });
    const p = await pool(s.origin, { maxConnections: 1, minConnections: 1 });
    const res = await p.request({ path: '/' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(p.stats()).toMatchObject({ busy: 1 });
    expect(await res.arrayBuffer()).toHaveProperty('byteLength', 1024 * 1024);
    expect(p.stats()).toMatchObject({ busy: 0 });
  });

  it('reports a body that failed before anyone read it to the reader, and lets dump() pass it', async () => {
    const s = await server();
    s.route('/reset', { bodyBytes: 2000, chunkBytes: 1000, chunkIntervalMs: 10, resetMidBody: true });
    const p = await pool(s.origin);
    const read = await p.request({ path: '/reset' });
    const dumped = await p.request({ path: '/reset' });
    await new Promise((resolve) => setTimeout(resolve, 60));
    const failure = await read.text().catch((error: unknown) => error);
    expect(isBerthError(failure, 'ERR_BERTH_UPSTREAM_RESET')).toBe(true);
    await expect(dumped.dump()).resolves.toBeUndefined();
  });
});

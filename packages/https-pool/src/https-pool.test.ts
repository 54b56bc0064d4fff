import diagnostics from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { HTTPS_POOL_CHANNELS, REQUEST_CHANNELS, isBerthError } from '@berth/core-types';
import type { RequestStartMessage } from '@berth/core-types';
import { createHttpsPool } from './https-pool.js';
import { pool, server } from '../test/fixtures.js';

describe('https-pool requests', () => {
  it('sends a GET over verified TLS and reuses the keep-alive connection for the next one', async () => {
    const s = await server();
    const p = await pool(s.origin);
    const first = await p.request({ path: '/a' });
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('ok');
    expect(first.meta).toMatchObject({ protocol: 'http/1.1', reused: false, attempts: 1 });
    const second = await p.request({ path: '/b' });
    await second.dump();
    expect(second.meta.reused).toBe(true);
    expect(second.meta.connectionId).toBe(first.meta.connectionId);
    expect(s.totalConnections()).toBe(1);
    const info = p.connections();
    expect(info).toHaveLength(1);
    expect(info[0]).toMatchObject({ protocol: 'http/1.1', requestCount: 2, errorCount: 0, state: 'idle' });
    expect(info[0]?.tls?.version).toMatch(/^TLSv1\.[23]$/);
    expect(info[0]?.tls?.alpn).toBe('http/1.1');
    const stats = p.stats();
    expect(stats).toMatchObject({ kind: 'https-pool', requests: 2, reusedRequests: 1, reuseRate: 0.5, created: 1, size: 1, idle: 1, busy: 0 });
  });

  it('streams a large body with backpressure and parses json', async () => {
    const s = await server({ behaviour: { bodyBytes: 1_000_000, chunkBytes: 65_536 } });
    const p = await pool(s.origin);
    const res = await p.request({ path: '/big' });
    let total = 0;
    for await (const chunk of res.body) total += (chunk as Buffer).length;
    expect(total).toBe(1_000_000);
    const echo = await p.request({ method: 'POST', path: '/echo', body: 'hello', headers: { 'x-berth-behaviour': JSON.stringify({ echo: true }) } });
    const parsed = await echo.json<{ method: string; body: string }>();
    expect(parsed).toMatchObject({ method: 'POST', body: 'hello' });
  });

  it('applies headers a tracer adds on berth:request:start before sending', async () => {
    const s = await server();
    const p = await pool(s.origin);
    const ends: unknown[] = [];
    const onStart = (m: unknown) => {
      (m as RequestStartMessage).headers['traceparent'] = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    };
    const onEnd = (m: unknown) => ends.push(m);
    diagnostics.subscribe(REQUEST_CHANNELS.start, onStart);
    diagnostics.subscribe(REQUEST_CHANNELS.end, onEnd);
    try {
      await (await p.request({ path: '/traced', headers: { 'x-a': '1' } })).dump();
    } finally {
      diagnostics.unsubscribe(REQUEST_CHANNELS.start, onStart);
      diagnostics.unsubscribe(REQUEST_CHANNELS.end, onEnd);
    }
    expect(s.requests[0]?.headers['traceparent']).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(s.requests[0]?.headers['x-a']).toBe('1');
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ status: 200, protocol: 'http/1.1', reused: false });
  });

  it('rejects CRLF in a header value with ERR_BERTH_INVALID_REQUEST before anything is sent', async () => {
    const s = await server();
    const p = await pool(s.origin);
    await expect(p.request({ path: '/', headers: { 'x-evil': 'a\r\nInjected: yes' } })).rejects.toMatchObject({ code: 'ERR_BERTH_INVALID_REQUEST' });
    await expect(p.request({ path: 'no-slash' })).rejects.toMatchObject({ code: 'ERR_BERTH_INVALID_REQUEST' });
    await expect(p.request({ path: '/', method: 'GE T' })).rejects.toMatchObject({ code: 'ERR_BERTH_INVALID_REQUEST' });
    expect(s.totalConnections()).toBe(0);
  });
});

describe('https-pool lifecycle', () => {
  it('pre-warms minIdle verified connections in ready() and publishes connection-created', async () => {
    const s = await server();
    const created: unknown[] = [];
    const onCreated = (m: unknown) => created.push(m);
    diagnostics.subscribe(HTTPS_POOL_CHANNELS.connectionCreated, onCreated);
    try {
      const p = await pool(s.origin, { minIdle: 3 });
      await p.ready();
      expect(p.stats()).toMatchObject({ size: 3, idle: 3, created: 3 });
      await s.waitForConnections((n) => n === 3);
    } finally {
      diagnostics.unsubscribe(HTTPS_POOL_CHANNELS.connectionCreated, onCreated);
    }
    expect(created).toHaveLength(3);
  });

  it('close() leaves nothing open and refuses new requests with ERR_BERTH_CLOSED', async () => {
    const s = await server();
    const p = await pool(s.origin, { minIdle: 2 });
    await p.ready();
    await p.close();
    expect(p.state()).toBe('closed');
    await expect(p.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_CLOSED' });
    await s.waitForConnections((n) => n === 0);
    expect(p.stats().destroyed.closed).toBe(2);
  });

  it('refuses a cleartext origin unless allowCleartext, listing every bad option at once', () => {
    try {
      createHttpsPool('http://127.0.0.1:1', { maxConnections: 0, minIdle: -1 });
      expect.unreachable();
    } catch (error) {
      expect(isBerthError(error, 'ERR_BERTH_CONFIG')).toBe(true);
      const problems = (error as { problems: { path: string }[] }).problems.map((p) => p.path);
      expect(problems).toEqual(expect.arrayContaining(['origin', 'maxConnections', 'minIdle']));
    }
  });
});

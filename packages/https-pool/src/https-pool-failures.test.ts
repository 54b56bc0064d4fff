import diagnostics from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { HTTPS_POOL_CHANNELS, isBerthError } from '@berth/core-types';
import type { ValidationMessage } from '@berth/core-types';
import { startFaultProxy } from '@berth/testkit';
import { createHttpsPool } from './https-pool.js';
import { cleanups, pool, server } from '../test/fixtures.js';

/** A clock whose `now()` the test moves, with real timers. */
function steppedClock() {
  let offset = 0;
  return {
    advance: (ms: number) => (offset += ms),
    clock: {
      now: () => performance.now() + offset,
      wallNow: () => Date.now() + offset,
      setTimeout: (fn: () => void, ms: number) => globalThis.setTimeout(fn, ms),
      clearTimeout: (h: unknown) => globalThis.clearTimeout(h as NodeJS.Timeout),
      setInterval: (fn: () => void, ms: number) => globalThis.setInterval(fn, ms),
      clearInterval: (h: unknown) => globalThis.clearInterval(h as NodeJS.Timeout),
    },
  };
}

describe('safe resend (Go Transport rule)', () => {
  it('retries a GET once on a new connection when a reused socket is reset before the first response byte', async () => {
    let n = 0;
    const s = await server({ behaviour: () => (n++ === 1 ? { resetBeforeResponse: true } : {}) });
    const p = await pool(s.origin);
    await (await p.request({ path: '/warm' })).dump();
    const res = await p.request({ path: '/again' });
    expect(res.status).toBe(200);
    await res.dump();
    expect(res.meta.attempts).toBe(2);
    expect(res.meta.reused).toBe(false);
    expect(s.requests.map((r) => [r.path, r.connection])).toEqual([
      ['/warm', 0],
      ['/again', 0],
      ['/again', 1],
    ]);
  });

  it('never replays a POST that failed on a reused connection', async () => {
    let n = 0;
    const s = await server({ behaviour: () => (n++ === 1 ? { resetBeforeResponse: true } : {}) });
    const p = await pool(s.origin);
    await (await p.request({ path: '/warm' })).dump();
    const error: unknown = await p.request({ method: 'POST', path: '/charge', body: 'x' }).catch((e: unknown) => e);
    expect(isBerthError(error, 'ERR_BERTH_UPSTREAM_RESET')).toBe(true);
    expect(s.requests.filter((r) => r.path === '/charge')).toHaveLength(1);
    expect(p.stats().errors).toBe(1);
  });

  it('replays a POST marked idempotent (e.g. carrying an Idempotency-Key)', async () => {
    let n = 0;
    const s = await server({ behaviour: () => (n++ === 1 ? { resetBeforeResponse: true } : {}) });
    const p = await pool(s.origin);
    await (await p.request({ path: '/warm' })).dump();
    const res = await p.request({ method: 'POST', path: '/charge', body: 'x', idempotent: true, headers: { 'idempotency-key': 'k1' } });
    await res.dump();
    expect(res.meta.attempts).toBe(2);
    expect(s.requests.filter((r) => r.path === '/charge').map((r) => r.body)).toEqual(['x', 'x']);
  });

  it('does not retry a request that failed on a connection opened for it', async () => {
    const s = await server({ behaviour: { resetBeforeResponse: true } });
    const p = await pool(s.origin);
    await expect(p.request({ path: '/x' })).rejects.toMatchObject({ code: 'ERR_BERTH_UPSTREAM_RESET' });
    expect(s.requests).toHaveLength(1);
  });

  it('loses no idempotent request when the server drops its keep-alive sockets just as requests arrive', async () => {
    const s = await server();
    const p = await pool(s.origin, { minIdle: 8, validateAfterIdleMs: 0 });
    await p.ready();
    for (let round = 0; round < 3; round += 1) {
      const pending = Array.from({ length: 8 }, (_, i) => p.request({ path: `/r${round}-${i}` }));
      s.dropConnections();
      const results = await Promise.all(pending);
      for (const r of results) await r.dump();
      expect(results.every((r) => r.status === 200)).toBe(true);
    }
  });
});

describe('validation', () => {
  it('retires a connection whose health check is answered with Connection: close', async () => {
    const s = await server();
    s.route('/health', { connectionClose: true });
    const { clock, advance } = steppedClock();
    const p = await pool(s.origin, { clock, validateAfterIdleMs: 2_000, validation: { path: '/health' } });
    const seen: ValidationMessage[] = [];
    const onValidation = (m: unknown) => seen.push(m as ValidationMessage);
    diagnostics.subscribe(HTTPS_POOL_CHANNELS.validation, onValidation);
    try {
      const first = await p.request({ path: '/one' });
      await first.dump();
      advance(2_500);
      const second = await p.request({ path: '/two' });
      await second.dump();
      expect(second.meta.connectionId).not.toBe(first.meta.connectionId);
      expect(second.meta.reused).toBe(false);
    } finally {
      diagnostics.unsubscribe(HTTPS_POOL_CHANNELS.validation, onValidation);
    }
    expect(s.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /one', 'OPTIONS /health', 'GET /two']);
    expect(p.stats().destroyed.invalid).toBe(1);
    expect(seen).toEqual([expect.objectContaining({ ok: false, reason: 'connection: close' })]);
  });

  it('keeps a connection whose health check passes and counts no reuse for it', async () => {
    const s = await server();
    const { clock, advance } = steppedClock();
    const p = await pool(s.origin, { clock, validateAfterIdleMs: 1_000, validation: { method: 'GET', path: '/ping' } });
    await (await p.request({ path: '/one' })).dump();
    advance(1_500);
    const second = await p.request({ path: '/two' });
    await second.dump();
    expect(second.meta.reused).toBe(true);
    expect(s.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /one', 'GET /ping', 'GET /two']);
    expect(p.connections()[0]?.requestCount).toBe(2);
  });
});

describe('errors a caller sees', () => {
  it('fails waiters with ERR_BERTH_QUEUE_FULL at once and ERR_BERTH_ACQUIRE_TIMEOUT with the pool state', async () => {
    const s = await server({ behaviour: { delayMs: 300 } });
    const p = await pool(s.origin, { maxConnections: 1, minConnections: 1, maxWaiting: 1, acquireTimeoutMs: 50 });
    const holding = p.request({ path: '/slow' });
    const waiting = p.request({ path: '/waits' }).catch((e: unknown) => e);
    await expect(p.request({ path: '/overflow' })).rejects.toMatchObject({ code: 'ERR_BERTH_QUEUE_FULL' });
    const timedOut = await waiting;
    expect(isBerthError(timedOut, 'ERR_BERTH_ACQUIRE_TIMEOUT')).toBe(true);
    expect((timedOut as Error).message).toContain('pool state: size 1/1');
    await (await holding).dump();
    expect(p.stats().acquires).toMatchObject({ timedOut: 1, rejected: 1 });
  });

  it('errors the body with ERR_BERTH_BODY_TOO_LARGE past maxResponseBytes', async () => {
    const s = await server({ behaviour: { bodyBytes: 200_000, chunkBytes: 16_384 } });
    const p = await pool(s.origin);
    const res = await p.request({ path: '/big', maxResponseBytes: 50_000 });
    await expect(res.text()).rejects.toMatchObject({ code: 'ERR_BERTH_BODY_TOO_LARGE' });
    await expect(p.request({ path: '/ok', headers: { 'x-berth-behaviour': '{}' } }).then((r) => r.text())).resolves.toBe('ok');
  });

  it('maps an abort signal to ERR_BERTH_ABORTED and a request deadline to ERR_BERTH_TIMEOUT', async () => {
    const s = await server({ behaviour: { delayMs: 2_000 } });
    const p = await pool(s.origin);
    const ac = new AbortController();
    const aborted = p.request({ path: '/a', signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
    await expect(p.request({ path: '/t', timeoutMs: 30 })).rejects.toMatchObject({ code: 'ERR_BERTH_TIMEOUT' });
    const pre = new AbortController();
    pre.abort();
    await expect(p.request({ path: '/p', signal: pre.signal })).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
  });

  it('errors the body with ERR_BERTH_UPSTREAM_RESET when the server resets mid-body, and retires the connection', async () => {
    const s = await server({ behaviour: { resetMidBody: true, bodyBytes: 10_000 } });
    const p = await pool(s.origin);
    const res = await p.request({ path: '/half' });
    await expect(res.arrayBuffer()).rejects.toMatchObject({ code: 'ERR_BERTH_UPSTREAM_RESET' });
    await s.waitForConnections((n) => n === 0);
    expect(p.stats().destroyed.broken).toBe(1);
  });

  it('gives distinct codes for a refused connect, an untrusted certificate and an unresolvable host', async () => {
    const s = await server();
    const proxy = await startFaultProxy({ host: s.host, port: s.port });
    cleanups.push(() => proxy.close());
    await proxy.set({ mode: 'refuse' });
    const refused = await pool(`https://127.0.0.1:${proxy.port}`);
    await expect(refused.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_CONNECT_REFUSED' });

    const systemRoots = createHttpsPool(s.origin, { minIdle: 0 });
    cleanups.push(() => systemRoots.close());
    await expect(systemRoots.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_TLS_UNTRUSTED' });

    const nowhere = await pool('https://does-not-exist.invalid');
    await expect(nowhere.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_DNS' });
  });

  it('fails ready() with the connect error', async () => {
    const s = await server();
    const proxy = await startFaultProxy({ host: s.host, port: s.port });
    cleanups.push(() => proxy.close());
    await proxy.set({ mode: 'refuse' });
    const p = await pool(`https://127.0.0.1:${proxy.port}`, { minIdle: 1 });
    await expect(p.ready()).rejects.toMatchObject({ code: 'ERR_BERTH_CONNECT_REFUSED' });
  });
});

describe('dns and cleartext', () => {
  it('resolves a host name through the dns interceptor, sends SNI and Host for the name, and caches the answer', async () => {
    const s = await server({ behaviour: { echo: true } });
    let lookups = 0;
    const p = await pool(`https://localhost:${s.port}`, {
      dns: {
        lookup: (_origin, _opts, cb) => {
          lookups += 1;
          cb(null, [{ address: '127.0.0.1', family: 4, ttl: 60_000 }]);
        },
      },
      maxConnections: 2,
    });
    const [a, b] = await Promise.all([p.request({ path: '/1' }), p.request({ path: '/2' })]);
    const echoed = await a.json<{ headers: Record<string, string> }>();
    await b.dump();
    expect(echoed.headers['host']).toBe(`localhost:${s.port}`);
    expect(s.sniSeen).toEqual(['localhost', 'localhost']);
    expect(lookups).toBe(1);
  });

  it('serves an http:// origin only with allowCleartext', async () => {
    const s = await server({ protocol: 'http' });
    expect(() => createHttpsPool(s.origin)).toThrow(/allowCleartext/);
    const p = createHttpsPool(s.origin, { allowCleartext: true, minIdle: 0 });
    cleanups.push(() => p.close());
    const res = await p.request({ path: '/' });
    expect(await res.text()).toBe('ok');
    expect(p.connections()[0]?.tls).toBeUndefined();
  });
});

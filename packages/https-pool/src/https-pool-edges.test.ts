import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { HTTPS_POOL_CHANNELS, REQUEST_CHANNELS, isBerthError } from '@berth/core-types';
import type { ConnectErrorMessage, RequestEndMessage, ValidationMessage } from '@berth/core-types';
import { createTestConnector, startFaultProxy, testPki } from '@berth/testkit';
import { createHttpsPool } from './https-pool.js';
import { cleanups, pool, server, subscribe } from '../test/fixtures.js';

describe('connection retirement', () => {
  it('does not reuse a connection the server answered with Connection: close', async () => {
    const s = await server();
    s.route('/bye', { connectionClose: true });
    const p = await pool(s.origin);
    const bye = await p.request({ path: '/bye' });
    await bye.dump();
    const next = await p.request({ path: '/next' });
    await next.dump();
    expect(next.meta.reused).toBe(false);
    expect(next.meta.connectionId).not.toBe(bye.meta.connectionId);
    expect(s.totalConnections()).toBe(2);
  });

  it('retires a connection after maxRequestsPerConnection requests', async () => {
    const s = await server();
    const p = await pool(s.origin, { maxRequestsPerConnection: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const r = await p.request({ path: '/' });
      ids.push(r.meta.connectionId);
      await r.dump();
    }
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
    expect(p.stats().destroyed['max-requests']).toBe(1);
  });

  it('aborts the request and retires the connection when the caller destroys an unfinished body', async () => {
    const s = await server({ behaviour: { bodyBytes: 4_000_000, chunkBytes: 65_536 } });
    const p = await pool(s.origin);
    const res = await p.request({ path: '/big' });
    res.body.destroy();
    await s.waitForConnections((n) => n === 0);
    expect(p.stats().size).toBe(0);
    await res.dump();
    const next = await p.request({ path: '/small', headers: { 'x-berth-behaviour': '{}' } });
    expect(await next.text()).toBe('ok');
  });

  it('retires a connection whose health check answers a status it does not accept', async () => {
    const s = await server();
    s.route('/health', { status: 503 });
    const p = await pool(s.origin, { validateAfterIdleMs: 1, validation: { path: '/health', acceptStatus: (st) => st === 200 } });
    const seen = subscribe<ValidationMessage>(HTTPS_POOL_CHANNELS.validation);
    await (await p.request({ path: '/one' })).dump();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await p.request({ path: '/two' });
    await second.dump();
    expect(second.meta.reused).toBe(false);
    expect(seen[0]).toMatchObject({ ok: false, reason: 'status 503' });
  });
});

describe('connect failures', () => {
  it('gives ERR_BERTH_CONNECT_TIMEOUT when the handshake never completes, and publishes connect-error', async () => {
    const s = await server();
    const proxy = await startFaultProxy({ host: s.host, port: s.port });
    cleanups.push(() => proxy.close());
    await proxy.set({ mode: 'blackhole' });
    const errors = subscribe<ConnectErrorMessage>(HTTPS_POOL_CHANNELS.connectError);
    const ends = subscribe<RequestEndMessage>(REQUEST_CHANNELS.end);
    const p = await pool(`https://127.0.0.1:${proxy.port}`, { connectTimeoutMs: 100, region: 'eu' });
    await expect(p.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_CONNECT_TIMEOUT' });
    expect(errors[0]).toMatchObject({ error: { code: 'ERR_BERTH_CONNECT_TIMEOUT' }, consecutiveFailures: 1 });
    expect(errors[0]?.component).toMatchObject({ kind: 'https-pool', region: 'eu' });
    expect(errors[0]?.nextDelayMs).toBeGreaterThan(0);
    expect(ends).toHaveLength(0);
  });

  it('gives ERR_BERTH_DNS when the lookup fails, with dns options passed to undici', async () => {
    const p = await pool('https://api.example.test', {
      dns: {
        maxTtlMs: 1_000,
        dualStack: false,
        affinity: 4,
        lookup: (_origin, _opts, cb) => cb(Object.assign(new Error('queryA ENOTFOUND api.example.test'), { code: 'ENOTFOUND' }), []),
      },
    });
    await expect(p.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_DNS' });
  });
});

describe('request events and bodies', () => {
  it('publishes berth:request:end with the error of a failed attempt', async () => {
    const s = await server({ behaviour: { resetBeforeResponse: true } });
    const ends = subscribe<RequestEndMessage>(REQUEST_CHANNELS.end);
    const p = await pool(s.origin);
    await expect(p.request({ method: 'POST', path: '/x', body: new Uint8Array([1, 2, 3]) })).rejects.toMatchObject({ code: 'ERR_BERTH_UPSTREAM_RESET' });
    expect(ends[0]).toMatchObject({ protocol: 'http/1.1', reused: false, error: { code: 'ERR_BERTH_UPSTREAM_RESET' } });
    expect(ends[0]?.start.method).toBe('POST');
  });

  it('streams a request body from a Readable and never replays it', async () => {
    let n = 0;
    const s = await server({ behaviour: (req) => (n++ === 1 ? { resetBeforeResponse: true } : { echo: req.path === '/echo' }) });
    const p = await pool(s.origin);
    const echoed = await p.request({ method: 'PUT', path: '/echo', body: Readable.from([Buffer.from('ab'), Buffer.from('cd')]) });
    expect((await echoed.json<{ body: string }>()).body).toBe('abcd');
    const failed = await p.request({ method: 'PUT', path: '/again', body: Readable.from([Buffer.from('x')]) }).catch((e: unknown) => e);
    expect(isBerthError(failed, 'ERR_BERTH_UPSTREAM_RESET')).toBe(true);
    expect(s.requests.filter((r) => r.path === '/again')).toHaveLength(1);
  });

  it('treats resize to the current target as a no-op and reports its name and origin', async () => {
    const s = await server();
    const p = await pool(s.origin, { name: 'api', maxConnections: 3, minConnections: 1 });
    const resizes = subscribe<unknown>(HTTPS_POOL_CHANNELS.resize);
    p.resize(3);
    expect(resizes).toHaveLength(0);
    expect(p.stats()).toMatchObject({ name: 'api', origin: s.origin, target: 3, state: 'ready' });
    await expect(p.ready()).resolves.toBeUndefined();
  });
});

describe('dns rotation', () => {
  it('rotates new connections across the A records of a name (undici dns interceptor)', async () => {
    const s = await server({ host: '0.0.0.0' });
    const inner = createTestConnector({ ca: (await testPki()).ca.cert });
    const dialled: string[] = [];
    const p = createHttpsPool(`https://localhost:${s.port}`, {
      minIdle: 0,
      maxConnections: 4,
      tls: { ...inner, connect: (target) => (dialled.push(target.host), inner.connect(target)), handshakeInfo: (sock) => inner.handshakeInfo(sock) },
      dns: {
        lookup: (_origin, _opts, cb) =>
          cb(null, [
            { address: '127.0.0.1', family: 4, ttl: 60_000 },
            { address: '127.0.0.2', family: 4, ttl: 60_000 },
          ]),
      },
    });
    cleanups.push(() => p.close());
    const all = await Promise.all([1, 2, 3, 4].map((i) => p.request({ path: `/${i}` })));
    for (const r of all) await r.dump();
    expect(new Set(dialled)).toEqual(new Set(['127.0.0.1', '127.0.0.2']));
    expect(dialled.filter((h) => h === '127.0.0.1')).toHaveLength(2);
  });
});

describe('unread bodies', () => {
  it('never raises an unlistened error when a body nobody reads is reset', async () => {
    const s = await server({ behaviour: { resetMidBody: true, bodyBytes: 10_000 } });
    const p = await pool(s.origin);
    const res = await p.request({ path: '/' });
    await s.waitForConnections((n) => n === 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(res.body.destroyed).toBe(true);
    await res.dump();
  });
});

describe('connect deadline', () => {
  it('settles a connect whose DNS lookup never answers with ERR_BERTH_CONNECT_TIMEOUT', async () => {
    const p = await pool('https://hangs.example.test', { connectTimeoutMs: 50, dns: { lookup: () => {} } });
    await expect(p.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_CONNECT_TIMEOUT' });
    expect(p.stats()).toMatchObject({ connecting: 0, connectErrors: 1 });
  });
});

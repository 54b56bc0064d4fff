import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { H2_CHANNELS, REQUEST_CHANNELS, isBerthError, systemClock } from '@berth/core-types';
import type { RequestEndMessage, RequestStartMessage } from '@berth/core-types';
import { createTestConnector, startFaultProxy, startHttpServer, testPki } from '@berth/testkit';
import type { FaultProxy, TestServer, TestServerOptions } from '@berth/testkit';
import { createH2Multiplexer } from './multiplexer.js';
import type { H2Multiplexer } from './multiplexer.js';
import type { H2MultiplexerOptions } from './options.js';

const servers: TestServer[] = [];
const muxes: H2Multiplexer[] = [];
const proxies: FaultProxy[] = [];
afterEach(async () => {
  await Promise.all(muxes.splice(0).map((m) => m.close({ deadlineMs: 100 })));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: TestServerOptions = {}): Promise<TestServer> {
  const s = await startHttpServer({ protocol: 'h2', ...options });
  servers.push(s);
  return s;
}

async function mux(s: TestServer, options: H2MultiplexerOptions = {}): Promise<H2Multiplexer> {
  const secure = s.protocol === 'h2';
  const m = createH2Multiplexer(s.origin, {
    ...(secure ? { tls: createTestConnector({ ca: (await testPki()).ca.cert, alpnProtocols: ['h2'] }) } : { allowCleartext: true }),
    ...options,
  });
  muxes.push(m);
  return m;
}

const behave = (b: object) => ({ 'x-berth-behaviour': JSON.stringify(b) });

describe('createH2Multiplexer over TLS', () => {
  it('sends a request over h2 and returns status, headers, body and meta', async () => {
    const s = await server({ behaviour: { status: 201, headers: { 'x-test': 'yes' }, body: 'hello' } });
    const m = await mux(s);
    const res = await m.request({ path: '/a?b=1', headers: { 'X-Client': '1' } });
    expect(res.status).toBe(201);
    expect(res.headers['x-test']).toBe('yes');
    expect(res.headers[':status']).toBeUndefined();
    expect(await res.text()).toBe('hello');
    expect(res.meta).toMatchObject({ protocol: 'h2', reused: false, attempts: 1 });
    expect(res.meta.timings.connectMs).toBeGreaterThan(0);
    const second = await m.request({ path: '/' });
    await second.dump();
    expect(second.meta).toMatchObject({ reused: true, connectionId: res.meta.connectionId });
    expect(s.requests[0]).toMatchObject({ method: 'GET', path: '/a?b=1', protocol: 'h2' });
    expect(s.requests[0]?.headers['x-client']).toBe('1');
    const stats = m.stats();
    expect(stats).toMatchObject({ kind: 'h2-multiplexer', state: 'ready', requests: 2, inFlight: 0, queued: 0, errors: 0, sessionsCreated: 1 });
    expect(stats.sessions[0]).toMatchObject({ protocol: 'h2', requestCount: 2, maxStreams: 100, state: 'idle' });
    expect(stats.sessions[0]?.tls).toMatchObject({ alpn: 'h2' });
  });
});

describe('stream gate and sessions', () => {
  it('completes 1000 concurrent requests against maxConcurrentStreams 10 without ever opening more than 10 streams per session', async () => {
    const s = await server({ protocol: 'h2c', maxConcurrentStreams: 10, behaviour: { body: 'x' } });
    const m = await mux(s, { maxSessions: 3 });
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => m.request({ path: `/${i}` }).then((r) => r.text())));
    expect(results.every((r) => r === 'x')).toBe(true);
    expect(s.requests).toHaveLength(1000);
    expect(s.peakStreamsPerSession()).toBeLessThanOrEqual(10);
    expect(s.peakStreamsPerSession()).toBeGreaterThan(1);
    expect(s.totalConnections()).toBeLessThanOrEqual(3);
    const stats = m.stats();
    expect(stats.sessions.every((x) => x.maxStreams === 10 && x.peerMaxStreams === 10)).toBe(true);
    expect(stats).toMatchObject({ errors: 0, inFlight: 0, queued: 0, requests: 1000 });
  });

  it('opens a second session only when every slot of the first is taken, one dial at a time', async () => {
    const s = await server({ protocol: 'h2c', maxConcurrentStreams: 2, behaviour: { delayMs: 30 } });
    const m = await mux(s, { maxSessions: 2 });
    const responses = await Promise.all([1, 2, 3, 4, 5].map((i) => m.request({ path: `/${i}` })));
    await Promise.all(responses.map((r) => r.dump()));
    expect(s.totalConnections()).toBe(2);
    expect(new Set(responses.map((r) => r.meta.connectionId)).size).toBe(2);
    expect(m.stats().sessionsCreated).toBe(2);
  });

  it('sends queued requests in RFC 9218 urgency order, FIFO within an urgency, with the Priority header', async () => {
    const s = await server({ protocol: 'h2c', maxConcurrentStreams: 1 });
    const m = await mux(s, { maxSessions: 1 });
    const sent = [
      m.request({ path: '/a', priority: 7 }),
      m.request({ path: '/b', priority: 3, incremental: true }),
      m.request({ path: '/c', priority: 0 }),
      m.request({ path: '/d', priority: 3 }),
      m.request({ path: '/e' }),
    ];
    expect(m.stats().queuedByUrgency).toEqual([1, 0, 0, 3, 0, 0, 0, 1]);
    await Promise.all(sent.map(async (p) => (await p).dump()));
    expect(s.requests.map((r) => r.path)).toEqual(['/c', '/b', '/d', '/e', '/a']);
    expect(s.requests.map((r) => r.headers['priority'])).toEqual(['u=0', 'u=3, i', 'u=3', undefined, 'u=7']);
  });

  it('ages a queued urgency-7 request ahead of newer urgency-0 ones once it has waited 7 × agingMs (injected clock)', async () => {
    let nowMs = 0;
    // Real timers (the sockets need them), a `now` only the test moves.
    const clock = { ...systemClock, now: () => nowMs };
    const s = await server({ protocol: 'h2c', maxConcurrentStreams: 1, behaviour: { delayMs: 20 } });
    const m = await mux(s, { maxSessions: 1, agingMs: 500, clock });
    await (await m.request({ path: '/warm' })).dump();
    const first = m.request({ path: '/first' });
    const low = m.request({ path: '/low', priority: 7 });
    nowMs = 3_499;
    const early = m.request({ path: '/u0-early', priority: 0 });
    expect(m.stats().queuedByUrgency).toEqual([1, 0, 0, 0, 0, 0, 0, 1]);
    // The slot frees at 3 499 ms: /low has aged six levels (effective urgency 1), so /u0-early goes first.
    await (await first).dump();
    nowMs = 3_500;
    const urgent = [1, 2].map((i) => m.request({ path: `/u0-${i}`, priority: 0 }));
    // From 3 500 ms /low is effectively urgency 0 and older than /u0-1 and /u0-2.
    await Promise.all([low, early, ...urgent].map(async (r) => (await r).dump()));
    expect(s.requests.map((r) => r.path)).toEqual(['/warm', '/first', '/u0-early', '/low', '/u0-1', '/u0-2']);
  });

  it('fails fast with ERR_BERTH_QUEUE_FULL beyond maxQueued, and times queued requests out with ERR_BERTH_ACQUIRE_TIMEOUT', async () => {
    const s = await server({ protocol: 'h2c', maxConcurrentStreams: 1, behaviour: { delayMs: 300 } });
    const m = await mux(s, { maxSessions: 1, maxQueued: 2, acquireTimeoutMs: 50 });
    const first = m.request({ path: '/1' });
    const second = m.request({ path: '/2' });
    await expect(m.request({ path: '/3' })).rejects.toMatchObject({ code: 'ERR_BERTH_QUEUE_FULL' });
    await expect(second).rejects.toMatchObject({ code: 'ERR_BERTH_ACQUIRE_TIMEOUT' });
    await (await first).dump();
    expect(m.stats()).toMatchObject({ rejected: 1, errors: 2, queued: 0 });
  });

  it('lowers the stream cap when the server lowers SETTINGS_MAX_CONCURRENT_STREAMS', async () => {
    const s = await server({ protocol: 'h2c', maxConcurrentStreams: 50 });
    const m = await mux(s);
    await (await m.request({ path: '/' })).dump();
    s.setMaxConcurrentStreams(3);
    await expect.poll(() => m.stats().sessions[0]?.maxStreams).toBe(3);
    const all = await Promise.all(Array.from({ length: 20 }, () => m.request({ path: '/', headers: behave({ delayMs: 5 }) })));
    await Promise.all(all.map((r) => r.dump()));
    expect(m.stats().capacity).toBeLessThanOrEqual(3 * 4);
  });
});

describe('GOAWAY and REFUSED_STREAM', () => {
  it('loses none of 500 in-flight idempotent requests when the server sends GOAWAY in the middle', async () => {
    let seen = 0;
    const s: TestServer = await server({
      protocol: 'h2c',
      behaviour: () => {
        seen += 1;
        if (seen === 250) setImmediate(() => s.goaway());
        return { delayMs: 20, body: 'ok' };
      },
    });
    const m = await mux(s, { maxSessions: 2, maxConcurrentStreams: 300 });
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => m.request({ path: `/${i}` }).then((r) => r.text())));
    expect(results.filter((r) => r === 'ok')).toHaveLength(500);
    const stats = m.stats();
    expect(stats.goaways).toBeGreaterThanOrEqual(1);
    expect(stats.errors).toBe(0);
    expect(s.totalConnections()).toBeGreaterThan(1);
    expect(new Set(s.requests.map((r) => r.path)).size).toBe(500);
  });

  it('replays streams above the last-stream-id on a new session and never reuses the one that sent GOAWAY', async () => {
    const s = await server({ protocol: 'h2c' });
    const m = await mux(s);
    const first = await m.request({ path: '/first', headers: behave({ goawayAfter: true }) });
    await first.dump();
    await expect.poll(() => m.stats().goaways).toBe(1);
    const second = await m.request({ path: '/second' });
    await second.dump();
    expect(second.meta.connectionId).not.toBe(first.meta.connectionId);
    await expect.poll(() => m.stats().sessionsClosed).toMatchObject({ goaway: 1 });
  });

  it('retries a REFUSED_STREAM once and succeeds', async () => {
    let n = 0;
    const s = await server({ protocol: 'h2c', behaviour: () => ((n += 1) === 1 ? { refuseStream: true } : { body: 'second' }) });
    const m = await mux(s);
    const res = await m.request({ path: '/', method: 'POST', body: 'payload' });
    expect(await res.text()).toBe('second');
    expect(res.meta.attempts).toBe(2);
    expect(s.requests.map((r) => r.body)).toEqual(['payload', 'payload']);
    expect(m.stats().retries['refused-stream']).toBe(1);
  });

  it('fails with ERR_BERTH_REFUSED_STREAM when the retry is refused too', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { refuseStream: true } });
    const m = await mux(s);
    await expect(m.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_REFUSED_STREAM' });
    expect(s.requests).toHaveLength(2);
  });

  it('does not replay a streamed body that was refused', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { refuseStream: true } });
    const m = await mux(s);
    await expect(m.request({ path: '/', method: 'PUT', body: Readable.from([Buffer.from('a')]) })).rejects.toMatchObject({
      code: 'ERR_BERTH_REFUSED_STREAM',
    });
    expect(s.requests).toHaveLength(1);
  });

  it('doubles the keep-alive interval after GOAWAY ENHANCE_YOUR_CALM', async () => {
    const s = await server({ protocol: 'h2c' });
    const m = await mux(s, { pingIntervalMs: 1000 });
    await (await m.request({ path: '/' })).dump();
    s.goaway(11);
    await expect.poll(() => m.stats().pingIntervalMs).toBe(2000);
    await expect.poll(() => m.stats().sessions).toHaveLength(0);
    await (await m.request({ path: '/' })).dump();
  });
});

describe('requests and bodies', () => {
  it('strips connection-specific headers, lifts host to :authority and streams a request body with backpressure', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { echo: true } });
    const m = await mux(s);
    const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(4096, 97 + (i % 26)));
    const res = await m.request({
      method: 'post',
      path: '/upload',
      headers: { Connection: 'keep-alive', 'Keep-Alive': '5', 'Transfer-Encoding': 'chunked', Upgrade: 'h2c', TE: 'trailers', Host: 'example.test', 'x-many': ['1', '2'] },
      body: Readable.from(chunks),
    });
    const echo = await res.json<{ method: string; headers: Record<string, string>; body: string }>();
    expect(echo.method).toBe('POST');
    expect(echo.body).toHaveLength(64 * 4096);
    expect(echo.headers).not.toHaveProperty('connection');
    expect(echo.headers).not.toHaveProperty('keep-alive');
    expect(echo.headers).not.toHaveProperty('transfer-encoding');
    expect(echo.headers).not.toHaveProperty('upgrade');
    expect(echo.headers['te']).toBe('trailers');
    expect(echo.headers['x-many']).toBe('1, 2');
    const authority = await m.request({ path: '/', headers: { host: 'example.test' } });
    await authority.dump();
  });

  it('rejects text() on a body the caller already destroyed with ERR_BERTH_ABORTED, not a plain Error', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { bodyBytes: 256 * 1024 } });
    const m = await mux(s);
    const res = await m.request({ path: '/big' });
    res.body.destroy();
    await expect(res.text()).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
  });

  it('rejects invalid header names, values, methods, paths and priorities with ERR_BERTH_INVALID_REQUEST before sending', async () => {
    const s = await server({ protocol: 'h2c' });
    const m = await mux(s);
    const bad = [
      { path: '/', headers: { 'bad header': 'x' } },
      { path: '/', headers: { 'x-ok': 'a\r\nb' } },
      { path: '/', headers: { ':path': '/x' } },
      { path: 'no-slash' },
      { path: '/ space' },
      { path: '/', method: 'GE T' },
      { path: '/', priority: 9 as never },
      { path: '/', headersTimeoutMs: 0 },
      { path: '/', bodyTimeoutMs: Number.NaN },
      { path: '/', timeoutMs: 2 ** 31 },
    ];
    for (const options of bad) await expect(m.request(options)).rejects.toMatchObject({ code: 'ERR_BERTH_INVALID_REQUEST' });
    expect(s.requests).toHaveLength(0);
    expect(m.stats().errors).toBe(bad.length);
  });

  it('applies backpressure to a response body: an unread body holds its stream until it is consumed', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { bodyBytes: 1024 * 1024, chunkBytes: 16 * 1024 } });
    const m = await mux(s, { adaptiveWindow: false });
    const res = await m.request({ path: '/big' });
    await new Promise((r) => setTimeout(r, 50));
    expect(m.stats().activeStreams).toBe(1);
    const received = (res.body as Readable & { receivedBytes: number }).receivedBytes;
    expect(received).toBeLessThan(1024 * 1024);
    expect((await res.arrayBuffer()).byteLength).toBe(1024 * 1024);
    await expect.poll(() => m.stats().activeStreams).toBe(0);
  });

  it('errors a body beyond maxResponseBytes with ERR_BERTH_BODY_TOO_LARGE and resets its stream', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { bodyBytes: 200_000 } });
    const m = await mux(s);
    const res = await m.request({ path: '/', maxResponseBytes: 1000 });
    await expect(res.text()).rejects.toMatchObject({ code: 'ERR_BERTH_BODY_TOO_LARGE' });
    await expect.poll(() => m.stats().activeStreams).toBe(0);
    expect(m.stats()).toMatchObject({ errors: 1, inFlight: 0 });
  });

  it('errors a stalled body with ERR_BERTH_BODY_TIMEOUT', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { bodyBytes: 300, chunkBytes: 100, chunkIntervalMs: 400 } });
    const m = await mux(s, { bodyTimeoutMs: 60 });
    const res = await m.request({ path: '/' });
    await expect(res.text()).rejects.toMatchObject({ code: 'ERR_BERTH_BODY_TIMEOUT' });
  });

  it('errors a body reset mid-way with ERR_BERTH_UPSTREAM_RESET', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { bodyBytes: 10_000, resetMidBody: true } });
    const m = await mux(s);
    const res = await m.request({ path: '/' });
    await expect(res.text()).rejects.toMatchObject({ code: 'ERR_BERTH_UPSTREAM_RESET' });
  });

  it('fails a stream reset before the response with ERR_BERTH_UPSTREAM_RESET', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { resetBeforeResponse: true } });
    const m = await mux(s);
    await expect(m.request({ path: '/', method: 'POST' })).rejects.toMatchObject({ code: 'ERR_BERTH_UPSTREAM_RESET' });
    expect(s.requests).toHaveLength(1);
  });

  it('times out with ERR_BERTH_HEADERS_TIMEOUT and ERR_BERTH_TIMEOUT, freeing the slot', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { delayMs: 500 } });
    const m = await mux(s, { headersTimeoutMs: 40 });
    await expect(m.request({ path: '/h' })).rejects.toMatchObject({ code: 'ERR_BERTH_HEADERS_TIMEOUT' });
    await expect(m.request({ path: '/t', timeoutMs: 20, headersTimeoutMs: 10_000 })).rejects.toMatchObject({ code: 'ERR_BERTH_TIMEOUT' });
    await expect.poll(() => m.stats().sessions[0]).toMatchObject({ activeStreams: 0, pendingResets: 0 });
  });

  it('aborts a request that is queued, in flight, or streaming its body with ERR_BERTH_ABORTED', async () => {
    const s = await server({ protocol: 'h2c', maxConcurrentStreams: 1, behaviour: { delayMs: 100 } });
    const m = await mux(s, { maxSessions: 1 });
    await expect(m.request({ path: '/', signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
    const inFlight = new AbortController();
    const queued = new AbortController();
    const first = m.request({ path: '/1', signal: inFlight.signal });
    const second = m.request({ path: '/2', signal: queued.signal });
    await expect.poll(() => m.stats().queued).toBe(1);
    queued.abort();
    await expect(second).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
    await expect.poll(() => s.requests.length).toBe(1);
    inFlight.abort();
    await expect(first).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
    const streaming = new AbortController();
    const res = await m.request({ path: '/3', signal: streaming.signal, headers: behave({ bodyBytes: 3000, chunkBytes: 1000, chunkIntervalMs: 200 }) });
    streaming.abort();
    await expect(res.text()).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
  });

  it('fails a request whose body stream errors with ERR_BERTH_ABORTED', async () => {
    const s = await server({ protocol: 'h2c' });
    const m = await mux(s);
    async function* failing() {
      yield Buffer.from('a');
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('disk gone');
    }
    await expect(m.request({ path: '/', method: 'POST', body: failing() })).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED', cause: { message: 'disk gone' } });
  });

  it('fails a request whose Readable body is destroyed with an error with ERR_BERTH_ABORTED, not a peer reset', async () => {
    const s = await server({ protocol: 'h2c' });
    const m = await mux(s);
    const body = new Readable({ read() {} });
    body.push('a');
    const pending = m.request({ path: '/', method: 'POST', body });
    setTimeout(() => body.destroy(new Error('source broke')), 5);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED', cause: { message: 'source broke' } });
  });

  it('fails a queued request whose Readable body errors while it waits with ERR_BERTH_ABORTED, without an unlistened error', async () => {
    const s = await server({ protocol: 'h2c', maxConcurrentStreams: 1, behaviour: { delayMs: 100 } });
    const m = await mux(s, { maxSessions: 1 });
    await (await m.request({ path: '/warm', headers: behave({}) })).dump();
    const busy = m.request({ path: '/busy' });
    const body = new Readable({ read() {} });
    const queued = m.request({ path: '/queued', method: 'POST', body });
    expect(m.stats().queued).toBe(1);
    body.destroy(new Error('source broke early'));
    await expect(queued).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED', cause: { message: 'source broke early' } });
    expect(m.stats().queued).toBe(0);
    await (await busy).dump();
    expect(s.requests.map((r) => r.path)).toEqual(['/warm', '/busy']);
  });

  it('publishes berth:request:start with mutable headers (traceparent) and berth:request:end per attempt', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { echo: true } });
    const m = await mux(s);
    const starts: RequestStartMessage[] = [];
    const ends: RequestEndMessage[] = [];
    const onStart = (msg: unknown) => {
      const start = msg as RequestStartMessage;
      start.headers['traceparent'] = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      starts.push(start);
    };
    const onEnd = (msg: unknown) => ends.push(msg as RequestEndMessage);
    diagnostics.subscribe(REQUEST_CHANNELS.start, onStart);
    diagnostics.subscribe(REQUEST_CHANNELS.end, onEnd);
    try {
      const res = await m.request({ path: '/traced', priority: 1 });
      const echo = await res.json<{ headers: Record<string, string> }>();
      expect(echo.headers['traceparent']).toMatch(/^00-/);
      expect(starts[0]).toMatchObject({ method: 'GET', path: '/traced', attempt: 1, origin: s.origin, component: { kind: 'h2-multiplexer' } });
      expect(starts[0]?.headers['priority']).toBe('u=1');
      expect(ends[0]).toMatchObject({ status: 200, protocol: 'h2', reused: false, start: starts[0] });
    } finally {
      diagnostics.unsubscribe(REQUEST_CHANNELS.start, onStart);
      diagnostics.unsubscribe(REQUEST_CHANNELS.end, onEnd);
    }
  });

  it('publishes session, streams and GOAWAY events on berth:h2:* channels', async () => {
    const s = await server({ protocol: 'h2c' });
    const m = await mux(s);
    const seen: string[] = [];
    const subs = Object.values(H2_CHANNELS).map((name) => {
      const fn = () => seen.push(name);
      diagnostics.subscribe(name, fn);
      return () => diagnostics.unsubscribe(name, fn);
    });
    try {
      await (await m.request({ path: '/', headers: behave({ goawayAfter: true }) })).dump();
      await expect.poll(() => m.stats().sessions).toHaveLength(0);
      expect(seen).toEqual(expect.arrayContaining([H2_CHANNELS.sessionCreated, H2_CHANNELS.streams, H2_CHANNELS.goaway, H2_CHANNELS.sessionClosed]));
    } finally {
      for (const unsub of subs) unsub();
    }
  });
});

describe('dial failures and close', () => {
  it('verifies TLS against the system roots when no connector is given (the test CA is not one of them)', async () => {
    const s = await server();
    const m = createH2Multiplexer(s.origin);
    muxes.push(m);
    await expect(m.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_TLS_UNTRUSTED' });
  });

  it('fails queued requests with the dial error when no session can be opened', async () => {
    const s = await server({ protocol: 'h2c' });
    const origin = s.origin;
    await s.close();
    servers.splice(0);
    const m = createH2Multiplexer(origin, { allowCleartext: true });
    muxes.push(m);
    const failures = await Promise.allSettled([m.request({ path: '/1' }), m.request({ path: '/2' })]);
    for (const f of failures) expect(f).toMatchObject({ status: 'rejected', reason: { code: 'ERR_BERTH_CONNECT_REFUSED' } });
    expect(m.stats().connectErrors).toBe(1);
  });

  it('refuses a TLS server that does not negotiate h2 with ERR_BERTH_PROTOCOL', async () => {
    const s = await server({ protocol: 'https' });
    const connector = createTestConnector({ ca: (await testPki()).ca.cert, alpnProtocols: ['h2', 'http/1.1'] });
    const m = createH2Multiplexer(s.origin, { tls: { ...connector, connect: (t) => connector.connect({ ...t, alpnProtocols: ['h2', 'http/1.1'] }) } });
    muxes.push(m);
    const error: unknown = await m.request({ path: '/' }).catch((e: unknown) => e);
    expect(isBerthError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_BERTH_PROTOCOL' });
  });

  it('reports a connector failure (untrusted certificate) as the request error', async () => {
    const s = await server();
    const other = await testPki();
    const connector = createTestConnector({ ca: other.server.cert, alpnProtocols: ['h2'] });
    const m = createH2Multiplexer(s.origin, { tls: connector });
    muxes.push(m);
    const error: unknown = await m.request({ path: '/' }).catch((e: unknown) => e);
    expect(isBerthError(error)).toBe(true);
  });

  it('closes gracefully: queued requests fail with ERR_BERTH_CLOSED, in-flight ones finish, nothing is left open', async () => {
    const s = await server({ protocol: 'h2c', maxConcurrentStreams: 1, behaviour: { delayMs: 50 } });
    const m = await mux(s, { maxSessions: 1 });
    const inFlight = m.request({ path: '/1' });
    const queued = m.request({ path: '/2' });
    await expect.poll(() => s.requests.length).toBe(1);
    const closing = m.close();
    expect(m.state()).toBe('draining');
    await expect(queued).rejects.toMatchObject({ code: 'ERR_BERTH_CLOSED' });
    const res = await inFlight;
    expect(await res.text()).toBe('ok');
    await closing;
    expect(m.state()).toBe('closed');
    await expect(m.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_CLOSED' });
    await m.close();
    await s.waitForConnections((n) => n === 0);
  });

  it('destroys streams still open at the close deadline with ERR_BERTH_CLOSED', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { bodyBytes: 4000, chunkBytes: 1000, chunkIntervalMs: 300 } });
    const m = await mux(s);
    const res = await m.request({ path: '/' });
    const text = expect(res.text()).rejects.toMatchObject({ code: 'ERR_BERTH_CLOSED' });
    await m.close({ deadlineMs: 20 });
    await text;
  });
});

describe('failures mid-flight', () => {
  it('replays an idempotent request when the connection drops before the response, and fails a POST with ERR_BERTH_UPSTREAM_RESET', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { delayMs: 100 } });
    const m = await mux(s, { region: 'eu' });
    const retries: unknown[] = [];
    const ends: RequestEndMessage[] = [];
    const onRetry = (msg: unknown) => retries.push(msg);
    const onEnd = (msg: unknown) => ends.push(msg as RequestEndMessage);
    const onStart = () => {};
    diagnostics.subscribe(H2_CHANNELS.retry, onRetry);
    diagnostics.subscribe(REQUEST_CHANNELS.start, onStart);
    diagnostics.subscribe(REQUEST_CHANNELS.end, onEnd);
    try {
      const get = m.request({ path: '/get' });
      const post = m.request({ path: '/post', method: 'POST', body: 'x' });
      const postOutcome = expect(post).rejects.toMatchObject({ code: 'ERR_BERTH_UPSTREAM_RESET' });
      await expect.poll(() => s.requests.length).toBe(2);
      s.dropConnections();
      await postOutcome;
      const res = await get;
      expect(await res.text()).toBe('ok');
      expect(res.meta.attempts).toBe(2);
      expect(m.stats().retries['session-error']).toBe(1);
      expect(retries).toEqual([expect.objectContaining({ reason: 'session-error', urgency: 3, component: expect.objectContaining({ region: 'eu' }) })]);
      expect(ends.filter((e) => e.error?.code === 'ERR_BERTH_UPSTREAM_RESET')).toHaveLength(2);
    } finally {
      diagnostics.unsubscribe(H2_CHANNELS.retry, onRetry);
      diagnostics.unsubscribe(REQUEST_CHANNELS.start, onStart);
      diagnostics.unsubscribe(REQUEST_CHANNELS.end, onEnd);
    }
  });

  it('does not time out a body while the caller holds it paused', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { bodyBytes: 512 * 1024 } });
    const m = await mux(s, { bodyTimeoutMs: 40, adaptiveWindow: false });
    const res = await m.request({ path: '/' });
    await new Promise((r) => setTimeout(r, 150));
    expect((await res.arrayBuffer()).byteLength).toBe(512 * 1024);
  });

  it('turns a body destroyed by the caller into a coded error and frees the slot; dump() after the end is a no-op', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { bodyBytes: 200_000 } });
    const m = await mux(s);
    const res = await m.request({ path: '/' });
    const failed = new Promise<unknown>((resolve) => res.body.once('error', resolve));
    res.body.destroy(new Error('caller gave up'));
    expect(isBerthError(await failed)).toBe(true);
    await expect.poll(() => m.stats().activeStreams).toBe(0);
    const small = await m.request({ path: '/', headers: behave({ body: 'tiny' }) });
    expect(await small.text()).toBe('tiny');
    await small.dump();
    expect(m.stats()).toMatchObject({ inFlight: 0, errors: 1 });
  });

  it('returns the same promise from concurrent close() calls and fails a request whose session is still connecting', async () => {
    const s = await server({ protocol: 'h2c' });
    const m = await mux(s);
    const pending = m.request({ path: '/' });
    const first = m.close();
    expect(m.close()).toBe(first);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_BERTH_CLOSED' });
    await first;
    expect(m.stats()).toMatchObject({ state: 'closed', connectErrors: 0 });
  });
});

describe('unread bodies', () => {
  it('does not crash the process when the session of an unread body dies; the body keeps the coded error', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { bodyBytes: 4000, chunkBytes: 1000, chunkIntervalMs: 100 } });
    const m = await mux(s);
    const res = await m.request({ path: '/' });
    s.dropConnections();
    await expect.poll(() => res.body.destroyed).toBe(true);
    expect(res.body.errored).toMatchObject({ code: 'ERR_BERTH_UPSTREAM_RESET' });
    await expect(res.text()).rejects.toMatchObject({ code: 'ERR_BERTH_UPSTREAM_RESET' });
  });
});

describe('reset streams', () => {
  it('keeps the slot of a stream it reset until a PING round trip confirms the RST_STREAM, then serves the next request', async () => {
    const s = await server({ protocol: 'h2c', maxConcurrentStreams: 1, behaviour: { delayMs: 200 } });
    const m = await mux(s, { maxSessions: 1 });
    const controller = new AbortController();
    const first = m.request({ path: '/1', signal: controller.signal });
    await expect.poll(() => s.requests.length).toBe(1);
    controller.abort();
    await expect(first).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
    expect(m.stats().sessions[0]?.pendingResets).toBe(1);
    const next = m.request({ path: '/2', headers: behave({ body: 'next' }) });
    expect(m.stats().queued).toBe(1);
    expect(await (await next).text()).toBe('next');
    expect(m.stats().sessions[0]?.pendingResets).toBe(0);
  });
});

describe('pre-connect', () => {
  it('opens the next session ahead of need once preconnectUtilization of the slots is in use', async () => {
    const s = await server({ protocol: 'h2c', maxConcurrentStreams: 10, behaviour: { delayMs: 100 } });
    const m = await mux(s, { preconnectUtilization: 0.8 });
    await (await m.request({ path: '/warm', headers: behave({}) })).dump();
    const busy = Array.from({ length: 8 }, (_, i) => m.request({ path: `/${i}` }));
    await expect.poll(() => m.stats().sessionsCreated).toBe(2);
    expect(m.stats().queued).toBe(0);
    await Promise.all((await Promise.all(busy)).map((r) => r.dump()));
  });

  it('spreads requests over another session once every session carries targetStreamsPerSession streams', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { delayMs: 150 } });
    const m = await mux(s, { targetStreamsPerSession: 4, maxSessions: 3 });
    await (await m.request({ path: '/warm', headers: behave({}) })).dump();
    const first = Array.from({ length: 4 }, (_, i) => m.request({ path: `/a${i}` }));
    await expect.poll(() => m.stats().sessions.filter((x) => x.state === 'idle' || x.state === 'busy').length).toBe(2);
    // Nothing waited: the first session had free slots all along.
    expect(m.stats().queued).toBe(0);
    const second = Array.from({ length: 4 }, (_, i) => m.request({ path: `/b${i}` }));
    // The new session is the busiest one below the target (0 < 4): it takes the next four (a third is dialling now).
    expect(m.stats().sessions.map((x) => x.activeStreams)).toEqual([4, 4, 0]);
    await Promise.all((await Promise.all([...first, ...second])).map((r) => r.dump()));
    expect(m.stats().sessionsCreated).toBe(3);
  });

  it('packs light load onto one session, so a session opened for a burst goes idle and closes', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { delayMs: 100 } });
    const m = await mux(s, { targetStreamsPerSession: 4, maxSessions: 2, idleTimeoutMs: 300 });
    await (await m.request({ path: '/warm', headers: behave({}) })).dump();
    const burst = Array.from({ length: 4 }, (_, i) => m.request({ path: `/a${i}` }));
    await expect.poll(() => m.stats().sessions.filter((x) => x.state === 'idle' || x.state === 'busy').length).toBe(2);
    await Promise.all((await Promise.all(burst)).map((r) => r.dump()));
    // Two at a time (a least-loaded pick would alternate sessions): all go to one session.
    const used = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const pair = await Promise.all([m.request({ path: `/b${i}` }), m.request({ path: `/c${i}` })]);
      for (const res of pair) {
        used.add(res.meta.connectionId);
        await res.dump();
      }
    }
    expect(used.size).toBe(1);
    await expect.poll(() => m.stats().sessionsClosed['idle'] ?? 0, { timeout: 2000 }).toBeGreaterThanOrEqual(1);
    expect(m.stats().sessions).toHaveLength(1);
  });

  it('backs off dialling ahead of need after a failed dial instead of redialling on every request', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { delayMs: 20 } });
    const proxy = await startFaultProxy({ host: s.host, port: s.port });
    proxies.push(proxy);
    // random 0.99: the first backoff is ~990 ms, longer than the rounds below.
    const m = createH2Multiplexer(`http://127.0.0.1:${proxy.port}`, { allowCleartext: true, targetStreamsPerSession: 2, maxSessions: 3, random: { next: () => 0.99 } });
    muxes.push(m);
    await (await m.request({ path: '/warm' })).dump();
    await proxy.set({ mode: 'refuse' });
    const round = async () => Promise.all((await Promise.all([1, 2, 3].map((i) => m.request({ path: `/${i}` })))).map((r) => r.dump()));
    await round();
    await expect.poll(() => m.stats().connectErrors).toBe(1);
    // Ten more rounds at 3 in flight on the one working session: every one wants a second session.
    for (let i = 0; i < 10; i++) await round();
    expect(m.stats().connectErrors).toBe(1);
    expect(m.stats().errors).toBe(0);
  });

  it('with targetStreamsPerSession 0 fills one session to its cap before opening another', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { delayMs: 50 } });
    const m = await mux(s, { targetStreamsPerSession: 0, maxConcurrentStreams: 60 });
    await (await m.request({ path: '/warm', headers: behave({}) })).dump();
    const busy = await Promise.all(Array.from({ length: 60 }, (_, i) => m.request({ path: `/${i}` })));
    await Promise.all(busy.map((r) => r.dump()));
    expect(m.stats().sessionsCreated).toBe(1);
  });

  it('does not pre-connect by default below the stream cap and targetStreamsPerSession', async () => {
    const s = await server({ protocol: 'h2c', maxConcurrentStreams: 10, behaviour: { delayMs: 50 } });
    const m = await mux(s);
    await (await m.request({ path: '/warm', headers: behave({}) })).dump();
    const busy = await Promise.all(Array.from({ length: 9 }, (_, i) => m.request({ path: `/${i}` })));
    await Promise.all(busy.map((r) => r.dump()));
    expect(m.stats().sessionsCreated).toBe(1);
  });
});

describe('dump()', () => {
  it('drains a small body without resetting the stream, and resets a large one instead of downloading it', async () => {
    const s = await server({ protocol: 'h2c' });
    const m = await mux(s, { adaptiveWindow: false });
    const small = await m.request({ path: '/', headers: behave({ bodyBytes: 1000 }) });
    await small.dump();
    expect(m.stats().sessions[0]?.pendingResets).toBe(0);
    const large = await m.request({ path: '/', headers: behave({ bodyBytes: 4 * 1024 * 1024, chunkBytes: 16 * 1024 }) });
    await large.dump();
    expect((large as typeof large & { receivedBytes: number }).receivedBytes).toBeLessThan(1024 * 1024);
    const declared = await m.request({ path: '/', headers: behave({ bodyBytes: 1000, headers: { 'content-length': String(4 * 1024 * 1024) } }) });
    await declared.dump();
    expect(m.stats()).toMatchObject({ activeStreams: 0, inFlight: 0 });
  });
});

describe('async context', () => {
  it('publishes berth:request:start of every queued request in its own caller\'s async context, not the one that freed the slot', async () => {
    const s = await server({ maxConcurrentStreams: 1, behaviour: { delayMs: 30 } });
    const m = await mux(s, { maxSessions: 1 });
    const als = new AsyncLocalStorage<number>();
    const seen: { path: string; store: number | undefined }[] = [];
    const onStart = (message: unknown) => {
      seen.push({ path: (message as RequestStartMessage).path, store: als.getStore() });
    };
    diagnostics.subscribe(REQUEST_CHANNELS.start, onStart);
    try {
      // A cold session: all five wait in the queue, then go out one at a time as each stream closes.
      const responses = await Promise.all([0, 1, 2, 3, 4].map((i) => als.run(i, () => m.request({ path: `/r${i}` }))));
      await Promise.all(responses.map((r) => r.dump()));
    } finally {
      diagnostics.unsubscribe(REQUEST_CHANNELS.start, onStart);
    }
    expect(seen).toHaveLength(5);
    expect(seen.map(({ path, store }) => `${path}=${store}`).sort()).toEqual(['/r0=0', '/r1=1', '/r2=2', '/r3=3', '/r4=4']);
  });
});

describe('header list size (RFC 9113 §6.5.2)', () => {
  it('rejects a request over the default 65 535-byte limit before sending, instead of letting the server refuse it', async () => {
    const s = await server();
    const m = await mux(s);
    const error = await m.request({ path: '/big', headers: { 'x-big': 'a'.repeat(70_000) } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BERTH_INVALID_REQUEST', details: { maxHeaderListBytes: 65_535 } });
    expect((error as Error).message).toMatch(/header list.*over the 65535-byte limit \(maxHeaderListBytes\)/);
    expect((error as { details: { headerListBytes: number } }).details.headerListBytes).toBeGreaterThan(70_000);
    // Many fields add up too: 20 × 4 000 bytes.
    const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x-h${i}`, 'b'.repeat(4_000)]));
    await expect(m.request({ path: '/many', headers: many })).rejects.toMatchObject({ code: 'ERR_BERTH_INVALID_REQUEST' });
    expect(s.requests).toHaveLength(0);
    expect(s.totalConnections()).toBe(0);
    expect(m.stats()).toMatchObject({ errors: 2, retries: { 'refused-stream': 0 } });
    // A list just under the limit goes through: the server accepts what the default lets out.
    const res = await m.request({ path: '/fits', headers: { 'x-big': 'a'.repeat(60_000) } });
    await res.dump();
    expect(s.requests.map((r) => r.path)).toEqual(['/fits']);
  });

  it('counts pseudo-headers and the Priority field against maxHeaderListBytes', async () => {
    const s = await server({ protocol: 'h2c' });
    const m = await mux(s, { maxHeaderListBytes: 300 });
    // :method GET, :path /ok, :scheme http, :authority 127.0.0.1:port and x-a: 267 bytes.
    await (await m.request({ path: '/ok', headers: { 'x-a': 'a'.repeat(50) } })).dump();
    // `priority: u=1` adds 8 + 3 + 32 = 43 → 310.
    await expect(m.request({ path: '/ok', headers: { 'x-a': 'a'.repeat(50) }, priority: 1 })).rejects.toMatchObject({
      code: 'ERR_BERTH_INVALID_REQUEST',
      details: { headerListBytes: 310, maxHeaderListBytes: 300 },
    });
    await expect(m.request({ path: `/${'p'.repeat(120)}`, headers: { 'x-a': 'a'.repeat(50) } })).rejects.toMatchObject({
      code: 'ERR_BERTH_INVALID_REQUEST',
    });
    expect(s.requests).toHaveLength(1);
  });

  it('reports a GET the server resets with INTERNAL_ERROR as ERR_BERTH_UPSTREAM_RESET, never as REFUSED_STREAM, and does not replay it', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { resetBeforeResponse: true } });
    const m = await mux(s);
    const error = await m.request({ path: '/get' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BERTH_UPSTREAM_RESET', details: { rstCode: 2 } });
    // Not retried: INTERNAL_ERROR says nothing about whether the server processed it.
    expect(s.requests).toHaveLength(1);
    expect(m.stats().retries['refused-stream']).toBe(0);
  });
});

describe('maxSessionMemoryMb', () => {
  it('is handed to node:http2: past it responses are rejected with ENHANCE_YOUR_CALM, reported as ERR_BERTH_UPSTREAM_RESET and not replayed', async () => {
    const s = await server({ protocol: 'h2c', maxConcurrentStreams: 3000, behaviour: { delayMs: 50 } });
    const m = await mux(s, { maxSessionMemoryMb: 1, maxConcurrentStreams: 3000, maxSessions: 1 });
    const pad = (i: number) => ({ 'x-pad': `${i}-${'p'.repeat(3_000)}` });
    const outcomes = await Promise.allSettled(Array.from({ length: 2500 }, (_, i) => m.request({ path: `/${i}`, headers: pad(i) })));
    const codes = new Set(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as { code: string }).code : 'ok')));
    const rstCodes = new Set(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as { details: { rstCode?: number } }).details.rstCode : undefined)));
    expect(codes.has('ERR_BERTH_UPSTREAM_RESET')).toBe(true);
    expect(codes.has('ERR_BERTH_REFUSED_STREAM')).toBe(false);
    expect(rstCodes.has(11)).toBe(true);
    expect(m.stats().retries['refused-stream']).toBe(0);
    for (const o of outcomes) if (o.status === 'fulfilled') await o.value.dump();
  });

  it('with the default of 10 MB carries the same load', async () => {
    const s = await server({ protocol: 'h2c', maxConcurrentStreams: 3000, behaviour: { delayMs: 50 } });
    const m = await mux(s, { maxConcurrentStreams: 3000, maxSessions: 1 });
    const pad = (i: number) => ({ 'x-pad': `${i}-${'p'.repeat(3_000)}` });
    const responses = await Promise.all(Array.from({ length: 2500 }, (_, i) => m.request({ path: `/${i}`, headers: pad(i) })));
    await Promise.all(responses.map((r) => r.dump()));
    expect(s.requests).toHaveLength(2500);
  });
});

describe('response body built on first use', () => {
  it('keeps what arrived for a body read after its stream ended, and frees the slot without a reader', async () => {
    const s = await server({ protocol: 'h2c', maxConcurrentStreams: 1, behaviour: { body: 'early bird' } });
    const m = await mux(s, { maxSessions: 1 });
    const res = await m.request({ path: '/' });
    // The only slot is released while nobody reads: a second request gets through.
    await (await m.request({ path: '/next' })).dump();
    expect(m.stats().activeStreams).toBe(0);
    expect(await res.text()).toBe('early bird');
    expect(m.stats()).toMatchObject({ inFlight: 0, errors: 0 });
  });

  it('fails a body whose stream was reset before it was built with ERR_BERTH_UPSTREAM_RESET when it is read', async () => {
    const s = await server({ protocol: 'h2c', behaviour: { bodyBytes: 2000, resetMidBody: true } });
    const m = await mux(s);
    const res = await m.request({ path: '/' });
    await expect.poll(() => m.stats().inFlight).toBe(0);
    await expect(res.text()).rejects.toMatchObject({ code: 'ERR_BERTH_UPSTREAM_RESET' });
    expect(m.stats().errors).toBe(1);
  });

  it('applies maxResponseBytes and bodyTimeoutMs before the body is built', async () => {
    const s = await server({ protocol: 'h2c' });
    const m = await mux(s, { bodyTimeoutMs: 60 });
    const big = await m.request({ path: '/', maxResponseBytes: 1000, headers: behave({ bodyBytes: 20_000 }) });
    const stalled = await m.request({ path: '/', headers: behave({ bodyBytes: 100, chunkBytes: 10, chunkIntervalMs: 1000 }) });
    await expect.poll(() => m.stats().inFlight).toBe(0);
    await expect(big.text()).rejects.toMatchObject({ code: 'ERR_BERTH_BODY_TOO_LARGE' });
    await expect(stalled.text()).rejects.toMatchObject({ code: 'ERR_BERTH_BODY_TIMEOUT' });
    await expect.poll(() => m.stats().activeStreams).toBe(0);
  });

  it('does not time out an unread body that filled its buffer: that is the caller holding it', async () => {
    const s = await server({ protocol: 'h2c' });
    const m = await mux(s, { bodyTimeoutMs: 40, adaptiveWindow: false });
    const res = await m.request({ path: '/', headers: behave({ bodyBytes: 256 * 1024 }) });
    await new Promise((r) => setTimeout(r, 150));
    expect(m.stats().inFlight).toBe(1);
    expect((await res.arrayBuffer()).byteLength).toBe(256 * 1024);
  });

  it('gives an empty, ended body after dump(), and dump() of a built body drains or resets as before', async () => {
    const s = await server({ protocol: 'h2c' });
    const m = await mux(s, { adaptiveWindow: false });
    const dumped = await m.request({ path: '/' });
    await dumped.dump();
    await dumped.dump();
    expect(await dumped.text()).toBe('');
    const small = await m.request({ path: '/', headers: behave({ bodyBytes: 1000, chunkBytes: 100, chunkIntervalMs: 5 }) });
    expect(small.body.readable).toBe(true);
    await small.dump();
    const declared = await m.request({ path: '/', headers: behave({ bodyBytes: 1000, chunkBytes: 100, chunkIntervalMs: 5, headers: { 'content-length': String(4 * 1024 * 1024) } }) });
    void declared.body;
    await declared.dump();
    const large = await m.request({ path: '/', headers: behave({ bodyBytes: 4 * 1024 * 1024, chunkBytes: 16 * 1024 }) });
    void large.body;
    await large.dump();
    expect((large as typeof large & { receivedBytes: number }).receivedBytes).toBeLessThan(1024 * 1024);
    expect(m.stats()).toMatchObject({ activeStreams: 0, inFlight: 0 });
  });

  it('errors a built body with ERR_BERTH_ABORTED when the caller aborts while reading', async () => {
    const s = await server({ protocol: 'h2c' });
    const m = await mux(s);
    const controller = new AbortController();
    const res = await m.request({ path: '/', signal: controller.signal, headers: behave({ bodyBytes: 3000, chunkBytes: 1000, chunkIntervalMs: 100 }) });
    const reading = res.text();
    controller.abort();
    await expect(reading).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
    await expect.poll(() => m.stats().activeStreams).toBe(0);
  });
});

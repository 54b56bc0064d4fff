import diagnostics from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { BerthError, RESILIENCE_CHANNELS, systemClock } from '@berth/core-types';
import type { Clock, RetryMessage, Transport } from '@berth/core-types';
import { createTestTransport, seededRandom, startFaultProxy, startHttpServer, testPki } from '@berth/testkit';
import type { Behaviour, FaultProxy, TestServer } from '@berth/testkit';
import { createRateLimiter } from './rate-limiter.js';
import { createRetryPolicy } from './retry-policy.js';
import { withResilience } from './with-resilience.js';
import type { ResilientTransport } from './with-resilience.js';

/**
 * A clock whose timers fire at once (on the next macrotask) and move time forward by their
 * delay: backoffs and pauses are exact and instant against a real upstream. `delays` records
 * every timer asked for.
 */
function warpClock(): Clock & { readonly delays: number[]; advance(ms: number): void } {
  let offset = 0;
  const delays: number[] = [];
  return {
    delays,
    now: () => performance.now() + offset,
    wallNow: () => Date.now() + offset,
    setTimeout(fn, ms) {
      delays.push(ms);
      return setTimeout(() => {
        offset += ms;
        fn();
      }, 0);
    },
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
    advance(ms) {
      offset += ms;
    },
  };
}

const open: { close(): Promise<void> }[] = [];

async function upstream(behaviour?: Behaviour | ((n: number) => Behaviour)): Promise<{ server: TestServer; transport: Transport }> {
  let n = 0;
  const server = await startHttpServer(
    behaviour === undefined ? {} : { behaviour: typeof behaviour === 'function' ? () => behaviour(n++) : behaviour },
  );
  const transport = createTestTransport({ origin: server.origin, ca: (await testPki()).ca.cert });
  open.push(transport, server);
  return { server, transport };
}

function track(t: ResilientTransport): ResilientTransport {
  open.unshift(t);
  return t;
}

afterEach(async () => {
  for (const r of open.splice(0)) await r.close();
});

describe('withResilience over a real upstream', () => {
  it('retries a GET answered 503 and returns the 200 with meta.attempts', async () => {
    const { server, transport } = await upstream((n) => (n === 0 ? { status: 503 } : { status: 200, body: 'fine' }));
    const clock = warpClock();
    const api = track(withResilience(transport, { clock, random: seededRandom(1) }));
    const res = await api.request({ path: '/thing' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('fine');
    expect(res.meta.attempts).toBe(2);
    expect(res.meta.timings.totalMs).toBeGreaterThanOrEqual(0);
    expect(server.requests).toHaveLength(2);
    expect(clock.delays[0]).toBeLessThan(100);
  });

  it('retries a GET whose connection was reset before the response', async () => {
    const { server, transport } = await upstream((n) => (n === 0 ? { resetBeforeResponse: true } : {}));
    const api = track(withResilience(transport, { clock: warpClock() }));
    const res = await api.request({ path: '/' });
    expect([res.status, res.meta.attempts]).toEqual([200, 2]);
    await res.dump();
    expect(server.requests).toHaveLength(2);
  });

  it('never replays a POST, whatever the policy says', async () => {
    const { server, transport } = await upstream({ status: 503 });
    const api = track(withResilience(transport, { clock: warpClock(), retry: { maxAttempts: 10 } }));
    const res = await api.request({ method: 'POST', path: '/orders', body: '{"n":1}' });
    expect([res.status, res.meta.attempts]).toEqual([503, 1]);
    await res.dump();
    server.behave({ resetBeforeResponse: true });
    await expect(api.request({ method: 'post', path: '/orders', body: '{"n":2}' })).rejects.toMatchObject({ code: 'ERR_BERTH_UPSTREAM_RESET' });
    expect(server.requests).toHaveLength(2);
    expect(api.stats().retry).toMatchObject({ retries: 0, notReplayable: 2 });
  });

  it('replays a POST the caller marked idempotent, and never a GET marked not idempotent', async () => {
    const { server, transport } = await upstream({ status: 503 });
    const api = track(withResilience(transport, { clock: warpClock(), retry: { maxAttempts: 3 } }));
    const post = await api.request({ method: 'POST', path: '/', body: 'x', idempotent: true, headers: { 'idempotency-key': 'k1' } });
    expect(post.meta.attempts).toBe(3);
    await post.dump();
    const get = await api.request({ path: '/', idempotent: false });
    expect(get.meta.attempts).toBe(1);
    await get.dump();
    expect(server.requests).toHaveLength(4);
  });

  it('does not replay a streaming request body', async () => {
    const { server, transport } = await upstream({ status: 503 });
    const api = track(withResilience(transport, { clock: warpClock() }));
    async function* body(): AsyncIterable<Uint8Array> {
      await Promise.resolve();
      yield new TextEncoder().encode('chunk');
    }
    const res = await api.request({ method: 'PUT', path: '/blob', body: body() });
    expect(res.meta.attempts).toBe(1);
    await res.dump();
    expect(server.requests).toHaveLength(1);
  });

  it('honours Retry-After in delay-seconds', async () => {
    const { server, transport } = await upstream((n) => (n === 0 ? { status: 503, headers: { 'retry-after': '2' } } : {}));
    const clock = warpClock();
    const api = track(withResilience(transport, { clock }));
    const res = await api.request({ path: '/' });
    await res.dump();
    expect(res.meta.attempts).toBe(2);
    expect(clock.delays).toEqual([2_000]);
    expect(server.requests).toHaveLength(2);
  });

  it('honours Retry-After as an HTTP-date', async () => {
    const clock = warpClock();
    const { transport } = await upstream((n) =>
      n === 0 ? { status: 429, headers: { 'retry-after': new Date(clock.wallNow() + 5_000).toUTCString() } } : {},
    );
    const api = track(withResilience(transport, { clock }));
    const res = await api.request({ path: '/' });
    await res.dump();
    expect(res.meta.attempts).toBe(2);
    expect(clock.delays[0]).toBeGreaterThan(3_900);
    expect(clock.delays[0]).toBeLessThanOrEqual(5_000);
  });

  it('hands back the response when Retry-After is longer than maxRetryAfterMs', async () => {
    const { server, transport } = await upstream({ status: 503, headers: { 'retry-after': '3600' } });
    const api = track(withResilience(transport, { clock: warpClock(), retry: { maxRetryAfterMs: 60_000 } }));
    const res = await api.request({ path: '/' });
    expect([res.status, res.meta.attempts]).toEqual([503, 1]);
    await res.dump();
    expect(server.requests).toHaveLength(1);
  });

  it('retries connect failures up to maxAttempts, then rejects with the last error', async () => {
    const { server } = await upstream();
    const proxy: FaultProxy = await startFaultProxy({ host: server.host, port: server.port }, { mode: 'reset' });
    open.push(proxy);
    const transport = createTestTransport({ origin: `https://127.0.0.1:${proxy.port}`, ca: (await testPki()).ca.cert });
    open.unshift(transport);
    const retries: RetryMessage[] = [];
    const onRetry = (m: unknown): void => void retries.push(m as RetryMessage);
    diagnostics.subscribe(RESILIENCE_CHANNELS.retry, onRetry);
    try {
      const api = track(withResilience(transport, { clock: warpClock(), retry: { maxAttempts: 4 } }));
      await expect(api.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_UPSTREAM_RESET' });
      expect(proxy.totalConnections()).toBe(4);
      expect(retries.map((r) => r.attempt)).toEqual([2, 3, 4]);
      expect(retries[0]).toMatchObject({ key: `https://127.0.0.1:${proxy.port}`, error: { code: 'ERR_BERTH_UPSTREAM_RESET' } });
      expect(api.stats().retry).toMatchObject({ requests: 1, retries: 3, exhausted: 1 });
    } finally {
      diagnostics.unsubscribe(RESILIENCE_CHANNELS.retry, onRetry);
    }
  });

  it('retries a refused connect and rejects with ERR_BERTH_CONNECT_REFUSED when every attempt is refused', async () => {
    const { server } = await upstream();
    const proxy = await startFaultProxy({ host: server.host, port: server.port });
    open.push(proxy);
    await proxy.set({ mode: 'refuse' });
    const transport = createTestTransport({ origin: `https://127.0.0.1:${proxy.port}`, ca: (await testPki()).ca.cert });
    open.unshift(transport);
    const api = track(withResilience(transport, { clock: warpClock(), retry: { maxAttempts: 3 } }));
    await expect(api.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_CONNECT_REFUSED' });
    expect(api.stats()).toMatchObject({ retry: { retries: 2, exhausted: 1 }, inner: { requests: 3 }, errors: 1 });
    await proxy.set({ mode: 'pass' });
    const res = await api.request({ path: '/', headers: { 'x-berth-behaviour': JSON.stringify({ body: '{"ok":true}' }) } });
    expect(await res.json()).toEqual({ ok: true });
    expect(server.requests).toHaveLength(1);
  });

  it('stops retrying during a total outage once the budget is spent: the upstream sees ≤ 1.2× the offered load', async () => {
    const { server, transport } = await upstream({ status: 503 });
    const clock = warpClock();
    const retry = createRetryPolicy({ clock, maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0, budget: { ratio: 0.2, minRetriesPerSec: 0 } });
    const api = track(withResilience(transport, { clock, breaker: false, retry }));
    const offered = 300;
    for (let batch = 0; batch < offered / 30; batch++) {
      const responses = await Promise.all(Array.from({ length: 30 }, () => api.request({ path: '/' })));
      await Promise.all(responses.map((r) => r.dump()));
      clock.advance(100);
    }
    expect(server.requests.length).toBeLessThanOrEqual(1.2 * offered);
    // Without the budget this outage would have cost 3× the load.
    expect(server.requests.length).toBeGreaterThan(offered);
    expect(api.stats().retry?.deniedByBudget).toBeGreaterThan(offered / 2);
    expect(retry.budgetBalance(server.origin)).toBeLessThan(1);
    expect(createRetryPolicy({ budget: false }).budgetBalance(server.origin)).toBe(Number.POSITIVE_INFINITY);
  });

  it('opens the breaker on consecutive 503s, fails fast without reaching the upstream, then half-opens on schedule and closes', async () => {
    const { server, transport } = await upstream({ status: 503 });
    const clock = warpClock();
    const api = track(
      withResilience(transport, { clock, retry: false, breaker: { consecutiveFailures: 3, openMs: 5_000, halfOpenProbes: 2 } }),
    );
    for (let i = 0; i < 3; i++) {
      const res = await api.request({ path: '/' });
      expect(res.meta.attempts).toBe(1);
      await res.dump();
    }
    const error = await api.request({ path: '/' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BERTH_CIRCUIT_OPEN', retryAt: expect.any(Number) });
    expect(server.requests).toHaveLength(3);
    expect(api.stats().breaker?.keys[server.origin]).toMatchObject({ state: 'open', rejected: 1 });
    clock.advance(5_000);
    server.behave({ status: 200 });
    for (let i = 0; i < 2; i++) await (await api.request({ path: '/' })).dump();
    expect(api.stats().breaker?.keys[server.origin]?.state).toBe('closed');
    expect(server.requests).toHaveLength(5);
  });

  it('pauses the key on a 429 with Retry-After and lowers its rate', async () => {
    const { server, transport } = await upstream((n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : {}));
    const clock = warpClock();
    const api = track(withResilience(transport, { clock, retry: false, limiter: { ratePerSec: 10, burst: 5, maxWaitMs: 5_000 } }));
    const first = await api.request({ path: '/' });
    expect(first.status).toBe(429);
    await first.dump();
    const second = await api.request({ path: '/' });
    await second.dump();
    // The pause of 1 s, then one token at the halved rate (1/5 s).
    expect(clock.delays).toHaveLength(1);
    expect(clock.delays[0]).toBeGreaterThan(1_150);
    expect(clock.delays[0]).toBeLessThanOrEqual(1_200);
    expect(second.meta.timings.queuedMs).toBeGreaterThan(1_150);
    const key = api.stats().limiter?.keys[server.origin];
    expect(key?.upstream429).toBe(1);
    // Halved to 5/s, and 1.2 s of slow recovery since (5 % of 10/s per second).
    expect(key?.ratePerSec).toBeCloseTo(5.6, 1);
  });

  it('retries a 429 after its Retry-After, paying a token for each attempt', async () => {
    const { server, transport } = await upstream((n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : {}));
    const clock = warpClock();
    const limiter = createRateLimiter({ ratePerSec: 100, burst: 100, aimd: false, clock });
    const api = track(withResilience(transport, { clock, limiter }));
    const res = await api.request({ path: '/' });
    await res.dump();
    expect([res.status, res.meta.attempts]).toEqual([200, 2]);
    expect(server.requests).toHaveLength(2);
    expect(limiter.stats().keys[server.origin]?.granted).toBe(2);
  });

  it('refuses with ERR_BERTH_RATE_LIMITED without retrying it or counting it against the breaker', async () => {
    const { server, transport } = await upstream();
    const api = track(
      withResilience(transport, { clock: warpClock(), breaker: { consecutiveFailures: 1 }, limiter: { ratePerSec: 1, burst: 1, maxWaitMs: 0 } }),
    );
    const [ok, limited] = await Promise.allSettled([api.request({ path: '/' }), api.request({ path: '/' })]);
    expect(ok.status).toBe('fulfilled');
    if (ok.status === 'fulfilled') await ok.value.dump();
    expect(limited).toMatchObject({ status: 'rejected', reason: { code: 'ERR_BERTH_RATE_LIMITED' } });
    expect(server.requests).toHaveLength(1);
    expect(api.stats()).toMatchObject({ retry: { retries: 0 }, breaker: { keys: { [server.origin]: { state: 'closed' } } } });
  });

  it('holds a bulkhead place until the response body is consumed, and refuses beyond the queue', async () => {
    const { transport } = await upstream({ body: 'payload' });
    const api = track(withResilience(transport, { retry: false, bulkhead: { maxConcurrent: 1, maxQueued: 0 } }));
    const first = await api.request({ path: '/' });
    await expect(api.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_QUEUE_FULL' });
    expect(api.stats()).toMatchObject({ inFlight: 1, bulkhead: { keys: { [transport.stats().origin!]: { active: 1 } } } });
    expect(await first.text()).toBe('payload');
    const second = await api.request({ path: '/' });
    await second.dump();
    expect(api.stats()).toMatchObject({ requests: 3, inFlight: 0, errors: 1 });
  });

  it('times out a slow attempt after attemptTimeoutMs and retries it', async () => {
    const { server, transport } = await upstream((n) => (n === 0 ? { delayMs: 5_000 } : {}));
    const api = track(withResilience(transport, { clock: systemClock, retry: { attemptTimeoutMs: 400, baseDelayMs: 1, maxDelayMs: 1 } }));
    const res = await api.request({ path: '/' });
    await res.dump();
    expect([res.status, res.meta.attempts]).toEqual([200, 2]);
    expect(server.requests).toHaveLength(2);
  });

  it('ends the request with ERR_BERTH_TIMEOUT at its overall deadline, retries included', async () => {
    const { server, transport } = await upstream({ delayMs: 600 });
    const api = track(withResilience(transport, { clock: systemClock, retry: { attemptTimeoutMs: 50, baseDelayMs: 1, maxDelayMs: 1, maxAttempts: 100 } }));
    const error = await api.request({ path: '/', timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BERTH_TIMEOUT', details: { scope: 'deadline', timeoutMs: 200 } });
    expect(server.requests.length).toBeLessThanOrEqual(5);
  });

  it('reports the deadline, not the transport\'s own ERR_BERTH_ABORTED, when its signal stopped an attempt at the deadline', async () => {
    // A transport that, like the pools, answers an abort of its signal with its own ABORTED error.
    let calls = 0;
    const hanging: Transport = {
      request: (options) => {
        calls += 1;
        return new Promise((_resolve, reject) => {
          options.signal?.addEventListener('abort', () => reject(new BerthError('ERR_BERTH_ABORTED', 'request aborted')), { once: true });
        });
      },
      stats: () => ({ kind: 'hanging', name: 'hanging', state: 'ready', requests: calls, inFlight: 0, queued: 0, errors: 0 }),
      close: () => Promise.resolve(),
    };
    for (const retry of [false, undefined] as const) {
      const api = track(withResilience(hanging, { clock: systemClock, breaker: false, ...(retry === false ? { retry } : {}) }));
      const error = await api.request({ path: '/', timeoutMs: 50 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ERR_BERTH_TIMEOUT', details: { scope: 'deadline', timeoutMs: 50 } });
    }
    // The caller's own abort stays an abort.
    const api = track(withResilience(hanging, { clock: systemClock, breaker: false, retry: false }));
    const controller = new AbortController();
    const pending = api.request({ path: '/', signal: controller.signal, timeoutMs: 5_000 }).catch((e: unknown) => e);
    controller.abort();
    expect(await pending).toMatchObject({ code: 'ERR_BERTH_ABORTED' });
  });

  it('turns an attempt failure with no time left to retry into the deadline error', async () => {
    const { server, transport } = await upstream({ resetBeforeResponse: true });
    const api = track(
      withResilience(transport, { clock: systemClock, random: { next: () => 0.99 }, retry: { baseDelayMs: 10_000, maxDelayMs: 10_000 } }),
    );
    const error = await api.request({ path: '/', timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BERTH_TIMEOUT', details: { scope: 'deadline', timeoutMs: 5_000 } });
    expect((error as Error).message).toContain('no time left to retry');
    expect((error as Error).cause).toMatchObject({ code: 'ERR_BERTH_UPSTREAM_RESET' });
    expect(server.requests.length).toBeGreaterThanOrEqual(1);
  });

  it('ends the request with ERR_BERTH_ABORTED when the caller aborts during a backoff', async () => {
    const { transport } = await upstream({ status: 503, headers: { 'retry-after': '30' } });
    const api = track(withResilience(transport, { clock: systemClock }));
    const controller = new AbortController();
    const pending = api.request({ path: '/', signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
  });

  it('lets the caller abort the response body after the head arrived', async () => {
    const { transport } = await upstream({ bodyBytes: 64 * 1024, chunkBytes: 1024, chunkIntervalMs: 20 });
    const api = track(withResilience(transport, { clock: warpClock() }));
    const controller = new AbortController();
    const res = await api.request({ path: '/', signal: controller.signal });
    expect(res.status).toBe(200);
    controller.abort();
    await expect(res.text()).rejects.toThrow();
    expect(api.stats().inFlight).toBe(0);
  });

  it('ends requests waiting in a backoff with ERR_BERTH_CLOSED on close, refuses new ones, and closes the wrapped transport', async () => {
    const { transport } = await upstream({ status: 503, headers: { 'retry-after': '30' } });
    const api = withResilience(transport, { clock: systemClock });
    const pending = api.request({ path: '/' });
    const retried = new Promise<void>((resolve) => {
      const onRetry = (): void => {
        diagnostics.unsubscribe(RESILIENCE_CHANNELS.retry, onRetry);
        resolve();
      };
      diagnostics.subscribe(RESILIENCE_CHANNELS.retry, onRetry);
    });
    await retried;
    await api.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_BERTH_CLOSED' });
    await expect(api.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_CLOSED' });
    expect(api.stats()).toMatchObject({ state: 'closed', inner: { state: 'closed' } });
    await api.close();
  });

  it('logs breaker openings and closings and upstream 429s to the injected logger', async () => {
    const { transport } = await upstream((n) => (n === 0 ? { status: 429 } : n === 1 ? { status: 500 } : {}));
    const clock = warpClock();
    const lines: string[] = [];
    const log = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
    const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
    const api = track(
      withResilience(transport, { clock, logger, retry: false, breaker: { consecutiveFailures: 1, openMs: 1_000, halfOpenProbes: 1 }, limiter: { ratePerSec: 100 } }),
    );
    for (let i = 0; i < 2; i++) await (await api.request({ path: '/' })).dump();
    clock.advance(1_000);
    await (await api.request({ path: '/' })).dump();
    expect(lines).toEqual(['warn upstream answered 429; rate lowered', 'warn circuit breaker opened', 'info circuit breaker closed']);
  });

  it('keys policies by origin and region', async () => {
    const { server, transport } = await upstream({ status: 500 });
    const api = track(withResilience(transport, { clock: warpClock(), retry: false, region: 'eu-west' }));
    await (await api.request({ path: '/' })).dump();
    await (await api.request({ path: '/', region: 'us-east' })).dump();
    expect(Object.keys(api.stats().breaker?.keys ?? {}).sort()).toEqual([`${server.origin}|eu-west`, `${server.origin}|us-east`]);
    const custom = track(withResilience(transport, { retry: false, key: (r) => r.path }));
    await (await custom.request({ path: '/a' })).dump();
    expect(Object.keys(custom.stats().breaker?.keys ?? {})).toEqual(['/a']);
  });

  it('reports its own stats, the inner transport and every policy', async () => {
    const { server, transport } = await upstream();
    const api = track(
      withResilience(transport, { name: 'provider', limiter: { ratePerSec: 100 }, bulkhead: { maxConcurrent: 4 } }),
    );
    await (await api.request({ path: '/' })).dump();
    const stats = api.stats();
    expect(stats).toMatchObject({
      kind: 'resilience',
      name: 'provider',
      origin: server.origin,
      state: 'ready',
      requests: 1,
      inFlight: 0,
      queued: 0,
      errors: 0,
      inner: { kind: 'test-transport', requests: 1 },
      retry: { requests: 1, retries: 0 },
      breaker: { keys: { [server.origin]: { state: 'closed' } } },
      limiter: { configuredRatePerSec: 100, keys: { [server.origin]: { granted: 1 } } },
      bulkhead: { maxConcurrent: 4 },
    });
  });
});

describe('withResilience', () => {
  it('lists every bad option of every policy in one ERR_BERTH_CONFIG', () => {
    const transport: Transport = {
      request: () => Promise.reject(new Error('unused')),
      stats: () => ({ kind: 'x', name: 'x', state: 'ready', requests: 0, inFlight: 0, queued: 0, errors: 0 }),
      close: () => Promise.resolve(),
    };
    let error: unknown;
    try {
      withResilience(transport, {
        retry: { maxAttempts: 0, baseDelayMs: 10, maxDelayMs: 5 },
        breaker: { halfOpenProbes: 0 },
        limiter: {} as never,
        bulkhead: 5 as never,
        key: 'origin' as never,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'ERR_BERTH_CONFIG' });
    expect((error as { problems: { path: string }[] }).problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['key', 'retry.maxAttempts', 'retry.maxDelayMs', 'breaker.halfOpenProbes', 'limiter.ratePerSec', 'bulkhead']),
    );
  });

  it('turns a non-Berth rejection of the wrapped transport into ERR_BERTH_INTERNAL', async () => {
    const transport: Transport = {
      request: () => Promise.reject(new TypeError('bug')),
      stats: () => ({ kind: 'x', name: 'x', state: 'ready', requests: 0, inFlight: 0, queued: 0, errors: 0 }),
      close: () => Promise.resolve(),
    };
    const api = withResilience(transport, { breaker: false });
    await expect(api.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_INTERNAL' });
    expect(api.stats()).toMatchObject({ errors: 1, name: 'x' });
    await api.close();
  });
});

describe('many requests in flight', () => {
  it('emits no MaxListenersExceededWarning with 30 concurrent requests on one wrapper', async () => {
    const { transport } = await upstream({ delayMs: 20 });
    const t = track(withResilience(transport));
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const responses = await Promise.all(Array.from({ length: 30 }, () => t.request({ path: '/' })));
      await Promise.all(responses.map((r) => r.dump()));
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

import diagnosticsChannel from 'node:diagnostics_channel';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BerthError, GEO_CHANNELS } from '@berth/core-types';
import type { ErrorCode, RequestOptions, ResponseData, Transport, TransportStats } from '@berth/core-types';
import { seededRandom } from '@berth/testkit';
import { createGeoRouter } from './router.js';
import type { GeoRouter } from './router.js';
import type { GeoRouterOptions } from './options.js';

/** What a fake region does with one request. */
interface Act {
  readonly latencyMs?: number;
  readonly status?: number;
  readonly error?: ErrorCode;
  readonly hang?: boolean;
  readonly throwPlain?: boolean;
}

interface FakeTransport extends Transport {
  readonly calls: RequestOptions[];
  readonly aborted: RequestOptions[];
  dumped: number;
  closed: boolean;
  act: (req: RequestOptions) => Act;
}

// An in-memory Transport on the (fake) timers: the router's logic under an exact clock.
// The network paths are covered by router.integration.test.ts with real TLS servers.
function fake(act: Act | ((req: RequestOptions) => Act) = {}): FakeTransport {
  const t: FakeTransport = {
    calls: [],
    aborted: [],
    dumped: 0,
    closed: false,
    act: typeof act === 'function' ? act : () => act,
    request(req) {
      t.calls.push(req);
      const a = t.act(req);
      return new Promise<ResponseData>((resolve, reject) => {
        const timer = a.hang === true
          ? undefined
          : setTimeout(() => {
              req.signal?.removeEventListener('abort', onAbort);
              // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
              if (a.throwPlain === true) reject('plain failure');
              else if (a.error !== undefined) reject(new BerthError(a.error, `fake ${a.error}`));
              else resolve(response(a.status ?? 200, () => (t.dumped += 1)));
            }, a.latencyMs ?? 10);
        const onAbort = () => {
          clearTimeout(timer);
          t.aborted.push(req);
          reject(new BerthError('ERR_BERTH_ABORTED', 'fake aborted'));
        };
        if (req.signal?.aborted === true) onAbort();
        else req.signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    stats: (): TransportStats => ({ kind: 'fake', name: 'fake', state: 'ready', requests: t.calls.length, inFlight: 0, queued: 1, errors: 0 }),
    close: () => {
      t.closed = true;
      return Promise.resolve();
    },
  };
  return t;
}

function response(status: number, onDump: () => void): ResponseData {
  const body = Readable.from([Buffer.from('ok')]);
  return {
    status,
    headers: {},
    body,
    text: () => Promise.resolve('ok'),
    json: <T>() => Promise.resolve('ok' as T),
    arrayBuffer: () => Promise.resolve(new ArrayBuffer(2)),
    dump: () => {
      onDump();
      body.destroy();
      return Promise.resolve();
    },
    meta: { protocol: 'http/1.1', reused: false, connectionId: 'c1', attempts: 1, timings: { queuedMs: 0, ttfbMs: 1, totalMs: 1 } },
  };
}

let router: GeoRouter | undefined;
const events: { channel: string; message: unknown }[] = [];
const listeners = Object.values(GEO_CHANNELS).map((name) => {
  const fn = (message: unknown) => events.push({ channel: name, message });
  return { name, fn };
});

beforeEach(() => {
  vi.useFakeTimers();
  events.length = 0;
  for (const { name, fn } of listeners) diagnosticsChannel.subscribe(name, fn);
});

afterEach(async () => {
  await router?.close();
  router = undefined;
  for (const { name, fn } of listeners) diagnosticsChannel.unsubscribe(name, fn);
  vi.useRealTimers();
});

function make(options: Partial<GeoRouterOptions> & Pick<GeoRouterOptions, 'regions'>): GeoRouter {
  router = createGeoRouter({ probe: false, random: seededRandom(7), ...options });
  return router;
}

/** Sends one request and runs the fake clock in 5 ms steps until it settles. */
async function send(r: GeoRouter, req: RequestOptions = { path: '/' }): Promise<ResponseData> {
  const pending = r.request(req);
  let settled = false;
  pending.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 10_000 && !settled; i += 1) await vi.advanceTimersByTimeAsync(5);
  return pending;
}

const HYSTERESIS = { switchMarginPct: 20, switchAfterMs: 1000 };

const of = (channel: string) => events.filter((e) => e.channel === channel).map((e) => e.message as Record<string, unknown>);

describe('routing', () => {
  it('leaves the inner body untouched until the caller asks for it (pools build their stream lazily)', async () => {
    let bodyReads = 0;
    const inner = response(200, () => undefined);
    const lazy: Transport = {
      ...fake(),
      request: () =>
        Promise.resolve(
          Object.defineProperty({ ...inner }, 'body', {
            get: () => {
              bodyReads += 1;
              return inner.body;
            },
          }),
        ),
    };
    const r = make({ regions: { a: { transport: lazy } } });
    const res = await send(r);
    expect(await res.text()).toBe('ok');
    expect(bodyReads).toBe(0);
    expect(res.body).toBe(inner.body);
    expect(bodyReads).toBe(1);
  });

  it('sends to the region with the lowest latency once probes measured them', async () => {
    const a = fake({ latencyMs: 50 });
    const b = fake({ latencyMs: 5 });
    const c = fake({ latencyMs: 80 });
    const r = make({ regions: { a: { transport: a }, b: { transport: b }, c: { transport: c } }, probe: {} });
    await vi.advanceTimersByTimeAsync(100);
    expect(r.currentRegion()).toBe('b');
    const res = await send(r, { path: '/x' });
    expect(res.meta).toMatchObject({ region: 'b', attempts: 1, connectionId: 'c1' });
    expect(b.calls.filter((q) => q.path === '/x')).toHaveLength(1);
    expect(r.estimate('b')).toBe(5);
    expect(r.estimate('nope')).toBeUndefined();
    expect(of(GEO_CHANNELS.regionSwitch).at(-1)).toMatchObject({ to: 'b', reason: 'faster' });
    expect(of(GEO_CHANNELS.estimate).length).toBeGreaterThanOrEqual(3);
  });

  it('passes the response body and helpers through and strips routing fields from the inner request', async () => {
    const a = fake();
    const r = make({ regions: { a: { transport: a }, b: { transport: fake() } } });
    const res = await send(r, { path: '/x', allowedRegions: ['a'], region: 'a' });
    expect(await res.text()).toBe('ok');
    expect(await res.json()).toBe('ok');
    expect((await res.arrayBuffer()).byteLength).toBe(2);
    await res.dump();
    expect(a.dumped).toBe(1);
    expect(a.calls[0]).not.toHaveProperty('region');
    expect(a.calls[0]).not.toHaveProperty('allowedRegions');
  });

  it('does not flap between two regions whose latencies stay within the margin', async () => {
    // Anti-phase: every 2 s the faster of the two changes, by ~10 % (inside the 20 % margin).
    const phase = () => Math.floor(Date.now() / 2000) % 2;
    const a = fake(() => ({ latencyMs: phase() === 0 ? 45 : 50 }));
    const b = fake(() => ({ latencyMs: phase() === 0 ? 50 : 45 }));
    const r = make({ regions: { a: { transport: a }, b: { transport: b } }, probe: { intervalMs: 100, jitterPct: 0 }, ...HYSTERESIS });
    await vi.advanceTimersByTimeAsync(1000);
    const settled = r.currentRegion();
    const switches = of(GEO_CHANNELS.regionSwitch).length;
    for (let i = 0; i < 100; i += 1) await send(r, { path: '/x' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(r.currentRegion()).toBe(settled);
    expect(of(GEO_CHANNELS.regionSwitch)).toHaveLength(switches);
  });

  it('uses the first healthy region in configuration order with the ordered strategy', async () => {
    const a = fake({ latencyMs: 90 });
    const b = fake({ latencyMs: 1 });
    const r = make({ strategy: 'ordered', regions: { a: { transport: a }, b: { transport: b } } });
    expect((await send(r)).meta.region).toBe('a');
    expect((await send(r)).meta.region).toBe('a');
  });

  it('spreads by load with p2c: the region with pending requests loses', async () => {
    const a = fake({ latencyMs: 10 });
    const b = fake({ latencyMs: 10 });
    const r = make({ strategy: 'p2c', regions: { a: { transport: a }, b: { transport: b } } });
    const first = r.request({ path: '/' });
    const second = r.request({ path: '/' });
    await vi.advanceTimersByTimeAsync(20);
    const regions = [(await first).meta.region, (await second).meta.region].sort();
    expect(regions).toEqual(['a', 'b']);
    expect(r.stats().current).toBeUndefined();
  });

  it('spills to a lower priority by Envoy’s formula as the higher one loses health', async () => {
    const p0 = [fake({ error: 'ERR_BERTH_CONNECT_REFUSED' }), fake()];
    const p1 = fake();
    const r = make({
      strategy: 'ordered',
      maxAttempts: 1,
      outlier: { consecutiveFailures: 1 },
      regions: { a: { transport: p0[0]! }, b: { transport: p0[1]! }, c: { transport: p1, priority: 1 } },
    });
    await expect(send(r, { path: '/', region: 'a' })).rejects.toMatchObject({ code: 'ERR_BERTH_CONNECT_REFUSED' });
    expect(r.stats().regions['a']?.health).toBe('ejected');
    // Level 0 is 50 % healthy → 70 % of traffic, level 1 30 %.
    const seen = { b: 0, c: 0 };
    for (let i = 0; i < 200; i += 1) seen[(await send(r, { path: '/' })).meta.region as 'b' | 'c'] += 1;
    expect(seen.b).toBeGreaterThan(115);
    expect(seen.b).toBeLessThan(165);
    expect(seen.c).toBe(200 - seen.b);
  });
});

describe('the per-request fast path (cached pick)', () => {
  it('follows a latency shift on the very next request once the hysteresis has passed', async () => {
    const a = fake({ latencyMs: 10 });
    const b = fake({ latencyMs: 30 });
    const r = make({ regions: { a: { transport: a }, b: { transport: b } }, probe: { intervalMs: 100, jitterPct: 0 }, ...HYSTERESIS });
    await vi.advanceTimersByTimeAsync(200);
    expect((await send(r)).meta.region).toBe('a');
    a.act = () => ({ latencyMs: 80 });
    // Within switchAfterMs the cached pick holds, though a is now the slower region.
    await vi.advanceTimersByTimeAsync(500);
    expect((await send(r)).meta.region).toBe('a');
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.currentRegion()).toBe('b');
    expect((await send(r)).meta.region).toBe('b');
    expect(of(GEO_CHANNELS.regionSwitch).at(-1)).toMatchObject({ from: 'a', to: 'b', reason: 'faster' });
  });

  it('times a challenger on passive samples alone and switches, even while the preferred estimate falls', async () => {
    const a = fake({ latencyMs: 10 });
    const b = fake({ latencyMs: 30 });
    const r = make({ regions: { a: { transport: a }, b: { transport: b } }, ...HYSTERESIS });
    expect((await send(r)).meta.region).toBe('a');
    expect((await send(r, { path: '/', allowedRegions: ['b'] })).meta.region).toBe('b');
    a.act = () => ({ latencyMs: 80 });
    expect((await send(r)).meta.region).toBe('a');
    // Each answer now lowers a's estimate a little (70 < 80) but leaves b better by the margin:
    // the challenger's clock must keep running on these samples, with no probe to help.
    a.act = () => ({ latencyMs: 70 });
    const seen: (string | undefined)[] = [];
    for (let i = 0; i < 20; i += 1) seen.push((await send(r)).meta.region);
    expect(seen.at(-1)).toBe('b');
    expect(seen.indexOf('b')).toBeGreaterThan(5);
    expect(of(GEO_CHANNELS.regionSwitch).at(-1)).toMatchObject({ from: 'a', to: 'b', reason: 'faster' });
  });

  it('stops sending to a region ejected between two requests by the success-rate sweep', async () => {
    const a = fake((req) => (req.path === '/bad' ? { status: 500 } : {}));
    const b = fake({ latencyMs: 40 });
    const r = make({ regions: { a: { transport: a }, b: { transport: b } }, outlier: { minRequests: 10, consecutiveFailures: 100 } });
    for (let i = 0; i < 10; i += 1) await send(r, { path: i % 2 === 0 ? '/bad' : '/', region: 'a' });
    for (let i = 0; i < 10; i += 1) await send(r, { path: '/', region: 'b' });
    expect((await send(r)).meta.region).toBe('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(r.stats().regions['a']?.health).toBe('ejected');
    const callsToA = a.calls.length;
    expect((await send(r)).meta.region).toBe('b');
    expect(a.calls).toHaveLength(callsToA);
  });

  it('continues from a first answer with a failover status without asking that region again', async () => {
    const a = fake({ status: 503 });
    const b = fake();
    const r = make({ strategy: 'ordered', regions: { a: { transport: a }, b: { transport: b } } });
    expect((await send(r)).meta).toMatchObject({ region: 'b', attempts: 2 });
    expect([a.calls.length, b.calls.length]).toEqual([1, 1]);
    expect(r.stats()).toMatchObject({ requests: 1, inFlight: 0, errors: 0, failovers: 1 });
  });

  it('keeps inFlight and errors exact whichever way a request ends', async () => {
    const a = fake({ error: 'ERR_BERTH_CONNECT_REFUSED' });
    const b = fake();
    const r = make({ strategy: 'ordered', outlier: { consecutiveFailures: 1 }, regions: { a: { transport: a }, b: { transport: b } } });
    await send(r);
    await expect(send(r, { path: '/', region: 'a' })).rejects.toMatchObject({ code: 'ERR_BERTH_REGION_UNAVAILABLE' });
    await send(r);
    expect(r.stats()).toMatchObject({ requests: 3, inFlight: 0, errors: 1 });
    expect(r.stats().regions).toMatchObject({ a: { pending: 0 }, b: { pending: 0 } });
  });

  it('treats a transport that throws instead of rejecting like one that rejects', async () => {
    const a = fake();
    a.request = () => {
      throw new BerthError('ERR_BERTH_CONNECT_REFUSED', 'thrown, not rejected');
    };
    const r = make({ strategy: 'ordered', regions: { a: { transport: a }, b: { transport: fake() } } });
    expect((await send(r)).meta).toMatchObject({ region: 'b', attempts: 2 });
    expect(r.stats().regions['a']).toMatchObject({ errors: 1, pending: 0, failovers: 1 });
    expect(of(GEO_CHANNELS.failover)[0]).toMatchObject({ from: 'a', error: { code: 'ERR_BERTH_CONNECT_REFUSED' } });
  });
});

describe('failover', () => {
  it('retries a connect failure in the next region even for a POST, since nothing was sent', async () => {
    const a = fake({ error: 'ERR_BERTH_CONNECT_REFUSED', latencyMs: 1 });
    const b = fake();
    const r = make({ strategy: 'ordered', regions: { a: { transport: a }, b: { transport: b } } });
    const res = await send(r, { path: '/', method: 'POST', body: 'x' });
    expect(res.meta).toMatchObject({ region: 'b', attempts: 2 });
    expect(of(GEO_CHANNELS.failover)[0]).toMatchObject({ from: 'a', to: 'b', attempt: 1, error: { code: 'ERR_BERTH_CONNECT_REFUSED' } });
    expect(r.stats()).toMatchObject({ failovers: 1, errors: 0, requests: 1 });
    expect(r.stats().regions['a']).toMatchObject({ failovers: 1, errors: 1, consecutiveFailures: 1 });
  });

  it('retries a reset GET elsewhere but returns a reset POST to the caller', async () => {
    const a = fake({ error: 'ERR_BERTH_UPSTREAM_RESET' });
    const b = fake();
    const r = make({ strategy: 'ordered', regions: { a: { transport: a }, b: { transport: b } } });
    expect((await send(r)).meta.region).toBe('b');
    await expect(send(r, { path: '/', method: 'POST', body: 'x' })).rejects.toMatchObject({ code: 'ERR_BERTH_UPSTREAM_RESET' });
    const marked = await send(r, { path: '/', method: 'POST', body: 'x', idempotent: true });
    expect(marked.meta.region).toBe('b');
    expect(r.stats().errors).toBe(1);
  });

  it('never replays a streamed body, even after a connect failure', async () => {
    const a = fake({ error: 'ERR_BERTH_CONNECT_REFUSED' });
    const r = make({ strategy: 'ordered', regions: { a: { transport: a }, b: { transport: fake() } } });
    await expect(send(r, { path: '/', method: 'PUT', body: Readable.from(['x']) })).rejects.toMatchObject({
      code: 'ERR_BERTH_CONNECT_REFUSED',
    });
  });

  it('retries a 503 elsewhere after dumping it, and returns the last 5xx when no region is left', async () => {
    const a = fake({ status: 503 });
    const b = fake({ status: 502 });
    const r = make({ strategy: 'ordered', regions: { a: { transport: a }, b: { transport: b } } });
    const res = await send(r);
    expect(res.status).toBe(502);
    expect(res.meta).toMatchObject({ region: 'b', attempts: 2 });
    expect(a.dumped).toBe(1);
    expect(of(GEO_CHANNELS.failover)[0]).toMatchObject({ status: 503, error: { code: 'ERR_BERTH_REGION_UNAVAILABLE' } });
    const post = await send(r, { path: '/', method: 'POST' });
    expect(post.status).toBe(503);
  });

  it('does not retry a caller error such as an invalid request', async () => {
    const a = fake({ error: 'ERR_BERTH_INVALID_REQUEST' });
    const b = fake();
    const r = make({ strategy: 'ordered', regions: { a: { transport: a }, b: { transport: b } } });
    await expect(send(r)).rejects.toMatchObject({ code: 'ERR_BERTH_INVALID_REQUEST' });
    expect(b.calls).toHaveLength(0);
    expect(r.stats().regions['a']?.errors).toBe(0);
  });

  it('stops at maxAttempts', async () => {
    const regions = Object.fromEntries(['a', 'b', 'c', 'd'].map((n) => [n, { transport: fake({ error: 'ERR_BERTH_CONNECT_FAILED' }) }]));
    const r = make({ strategy: 'ordered', regions, maxAttempts: 2 });
    await expect(send(r)).rejects.toMatchObject({ code: 'ERR_BERTH_CONNECT_FAILED' });
    expect((regions['c']!.transport).calls).toHaveLength(0);
  });

  it('wraps a non-Berth rejection of a region transport as ERR_BERTH_INTERNAL', async () => {
    const r = make({ strategy: 'ordered', regions: { a: { transport: fake({ throwPlain: true }) }, b: { transport: fake({ throwPlain: true }) } } });
    await expect(send(r)).rejects.toMatchObject({ code: 'ERR_BERTH_INTERNAL' });
    expect(of(GEO_CHANNELS.failover)[0]).toMatchObject({ error: { code: 'ERR_BERTH_INTERNAL', message: 'plain failure' } });
  });

  it('dumps the late response of an attempt it stopped waiting for', async () => {
    const a = fake((req) => (req.path === '/slow' ? { latencyMs: 100 } : { error: 'ERR_BERTH_CONNECT_REFUSED', latencyMs: 1 }));
    const b = fake({ latencyMs: 200 });
    const r = make({ strategy: 'ordered', outlier: { consecutiveFailures: 2 }, regions: { a: { transport: a }, b: { transport: b } } });
    const waiting = r.request({ path: '/slow' });
    const posts = [r.request({ path: '/', method: 'POST' }), r.request({ path: '/', method: 'POST' })];
    await vi.advanceTimersByTimeAsync(300);
    await Promise.all(posts);
    expect((await waiting).meta.region).toBe('b');
    expect(a.dumped).toBe(1);
  });

  it('moves on when an attempt gets no response head within attemptTimeoutMs', async () => {
    const a = fake({ hang: true });
    const b = fake();
    const r = make({ strategy: 'ordered', attemptTimeoutMs: 200, regions: { a: { transport: a }, b: { transport: b } } });
    const res = await send(r);
    expect(res.meta).toMatchObject({ region: 'b', attempts: 2 });
    expect(a.aborted).toHaveLength(1);
    expect(of(GEO_CHANNELS.failover)[0]).toMatchObject({ error: { code: 'ERR_BERTH_HEADERS_TIMEOUT' } });
  });

  it('fails over the requests waiting on a region when it is ejected', async () => {
    const a = fake((req) => (req.path === '/slow' ? { hang: true } : { error: 'ERR_BERTH_CONNECT_REFUSED' }));
    const b = fake();
    const r = make({ strategy: 'ordered', outlier: { consecutiveFailures: 3 }, regions: { a: { transport: a }, b: { transport: b } } });
    const waiting = r.request({ path: '/slow' });
    for (let i = 0; i < 3; i += 1) await send(r, { path: '/', method: 'POST' });
    await vi.advanceTimersByTimeAsync(20);
    expect((await waiting).meta).toMatchObject({ region: 'b', attempts: 2 });
    expect(of(GEO_CHANNELS.ejected)[0]).toMatchObject({ regionName: 'a', reason: 'consecutive-failures', ejections: 1 });
  });

  it('keeps the overall timeoutMs across attempts', async () => {
    const a = fake({ latencyMs: 300, error: 'ERR_BERTH_UPSTREAM_RESET' });
    const b = fake({ latencyMs: 300 });
    const r = make({ strategy: 'ordered', regions: { a: { transport: a }, b: { transport: b } } });
    await expect(send(r, { path: '/', timeoutMs: 250 })).rejects.toMatchObject({ code: 'ERR_BERTH_TIMEOUT' });
    expect(b.calls).toHaveLength(0);
    await r.close();
    const r2 = make({ strategy: 'ordered', regions: { a: { transport: fake({ latencyMs: 100, error: 'ERR_BERTH_UPSTREAM_RESET' }) }, b: { transport: b } } });
    const ok = await send(r2, { path: '/', timeoutMs: 1000 });
    expect(b.calls.at(-1)?.timeoutMs).toBe(900);
    expect(ok.meta.region).toBe('b');
  });

  it('reports a caller abort as ERR_BERTH_ABORTED and does not retry it', async () => {
    const a = fake({ latencyMs: 100 });
    const b = fake();
    const r = make({ strategy: 'ordered', regions: { a: { transport: a }, b: { transport: b } } });
    const controller = new AbortController();
    const pending = r.request({ path: '/', signal: controller.signal });
    pending.catch(() => {});
    await vi.advanceTimersByTimeAsync(10);
    controller.abort();
    await vi.advanceTimersByTimeAsync(10);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
    expect(b.calls).toHaveLength(0);
    await expect(send(r, { path: '/', signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
  });
});

describe('pins and data residency', () => {
  it('never routes outside a pin or allowedRegions, and says which region is unavailable', async () => {
    const a = fake({ error: 'ERR_BERTH_CONNECT_REFUSED' });
    const b = fake();
    const c = fake({ error: 'ERR_BERTH_CONNECT_REFUSED' });
    const r = make({ strategy: 'ordered', outlier: { consecutiveFailures: 1 }, regions: { a: { transport: a }, b: { transport: b }, c: { transport: c } } });
    await expect(send(r, { path: '/', region: 'a' })).rejects.toMatchObject({ code: 'ERR_BERTH_CONNECT_REFUSED' });
    await expect(send(r, { path: '/', region: 'a' })).rejects.toMatchObject({
      code: 'ERR_BERTH_REGION_UNAVAILABLE',
      details: { regions: ['a'], retryAt: expect.any(Number) as number },
    });
    await expect(send(r, { path: '/', allowedRegions: ['a', 'c'] })).rejects.toMatchObject({ code: 'ERR_BERTH_CONNECT_REFUSED' });
    expect(b.calls).toHaveLength(0);
    expect((await send(r, { path: '/', allowedRegions: ['c', 'b'] })).meta.region).toBe('b');
  });

  it('rejects unknown region names in a request with every problem listed', async () => {
    const r = make({ regions: { a: { transport: fake() }, b: { transport: fake() } } });
    await expect(r.request({ path: '/', region: 'x', allowedRegions: ['a', 'y'] })).rejects.toMatchObject({
      code: 'ERR_BERTH_CONFIG',
      problems: [{ path: 'region' }, { path: 'allowedRegions[1]' }, { path: 'region' }],
    });
    await expect(r.request({ path: '/', allowedRegions: [] })).rejects.toMatchObject({ code: 'ERR_BERTH_CONFIG' });
  });

  it('panics within allowedRegions when all of them are ejected', async () => {
    const a = fake({ error: 'ERR_BERTH_CONNECT_REFUSED' });
    const b = fake();
    const c = fake();
    const r = make({ strategy: 'ordered', outlier: { consecutiveFailures: 1 }, regions: { a: { transport: a }, b: { transport: b }, c: { transport: c } } });
    await expect(send(r, { path: '/', region: 'a' })).rejects.toMatchObject({ code: 'ERR_BERTH_CONNECT_REFUSED' });
    a.act = () => ({});
    expect((await send(r, { path: '/', allowedRegions: ['a'] })).meta.region).toBe('a');
    expect(r.stats().panicked).toBe(1);
  });
});

describe('health', () => {
  it('ejects after consecutive failures, switches away, and restores through a probe on probation', async () => {
    const a = fake({ latencyMs: 5 });
    const b = fake({ latencyMs: 40 });
    const r = make({
      regions: { a: { transport: a }, b: { transport: b } },
      probe: { intervalMs: 1000, timeoutMs: 100, jitterPct: 0 },
      switchAfterMs: 2000,
      outlier: { baseEjectionMs: 5000, ejectionJitterPct: 0 },
    });
    await vi.advanceTimersByTimeAsync(50);
    expect(r.currentRegion()).toBe('a');
    a.act = () => ({ error: 'ERR_BERTH_CONNECT_REFUSED', latencyMs: 1 });
    for (let i = 0; i < 5; i += 1) expect((await send(r, { path: '/' })).meta.region).toBe('b');
    expect(r.currentRegion()).toBe('b');
    expect(of(GEO_CHANNELS.regionSwitch).at(-1)).toMatchObject({ from: 'a', to: 'b', reason: 'ejected' });
    expect(r.stats()).toMatchObject({ panicked: 0, regions: { a: { health: 'ejected', healthy: false, ejections: 1 } } });
    a.act = () => ({ latencyMs: 5 });
    await vi.advanceTimersByTimeAsync(5000);
    expect(of(GEO_CHANNELS.restored)).toEqual([expect.objectContaining({ regionName: 'a' })]);
    // Back to healthy, but traffic returns only after the hysteresis.
    expect(r.currentRegion()).toBe('b');
    await vi.advanceTimersByTimeAsync(4000);
    expect(r.currentRegion()).toBe('a');
    expect(of(GEO_CHANNELS.regionSwitch).at(-1)).toMatchObject({ from: 'b', to: 'a', reason: 'faster' });
  });

  it('ejects again, for longer, when the probe on probation fails', async () => {
    const a = fake({ error: 'ERR_BERTH_CONNECT_REFUSED', latencyMs: 1 });
    const r = make({
      regions: { a: { transport: a }, b: { transport: fake() } },
      probe: { intervalMs: 100_000, jitterPct: 0, initialDelayMs: 100_000 },
      outlier: { consecutiveFailures: 1, baseEjectionMs: 1000, ejectionJitterPct: 0 },
    });
    expect((await send(r, { path: '/', allowedRegions: ['a', 'b'] })).meta.region).toBe('b');
    await vi.advanceTimersByTimeAsync(1000);
    const ejected = of(GEO_CHANNELS.ejected);
    expect(ejected.map((e) => [e['reason'], e['durationMs']])).toEqual([
      ['consecutive-failures', 1000],
      ['probe-failed', 2000],
    ]);
  });

  it('puts a region on probation without probes and lets the next request judge it', async () => {
    const a = fake({ error: 'ERR_BERTH_CONNECT_REFUSED', latencyMs: 1 });
    const b = fake({ latencyMs: 50 });
    const r = make({ strategy: 'ordered', regions: { a: { transport: a }, b: { transport: b } }, outlier: { consecutiveFailures: 1, baseEjectionMs: 1000 } });
    await send(r);
    expect(r.currentRegion()).toBe('b');
    await vi.advanceTimersByTimeAsync(1200);
    expect(r.stats().regions['a']?.health).toBe('probation');
    a.act = () => ({});
    expect((await send(r)).meta.region).toBe('a');
    expect(r.stats().regions['a']?.health).toBe('healthy');
  });

  it('ejects a region that never answered within initTimeoutMs and moves its waiting requests on', async () => {
    const a = fake({ hang: true });
    const b = fake();
    const unused = fake();
    const r = make({ strategy: 'ordered', regions: { a: { transport: a }, b: { transport: b }, c: { transport: unused } } });
    const waiting = r.request({ path: '/' });
    await vi.advanceTimersByTimeAsync(9_999);
    expect(r.stats().regions['a']?.health).toBe('healthy');
    await vi.advanceTimersByTimeAsync(20);
    expect((await waiting).meta).toMatchObject({ region: 'b', attempts: 2 });
    expect(of(GEO_CHANNELS.ejected)[0]).toMatchObject({ regionName: 'a', reason: 'init-timeout' });
    // b answered, and c was never tried: both stay.
    expect(r.stats().regions['b']?.health).toBe('healthy');
    expect(r.stats().regions['c']?.health).toBe('healthy');
  });

  it('ejects at once on a TLS verification failure and still delivers the request elsewhere', async () => {
    const warn = vi.fn();
    const a = fake({ error: 'ERR_BERTH_TLS_UNTRUSTED' });
    const r = make({
      strategy: 'ordered',
      logger: { debug: () => {}, info: () => {}, warn, error: () => {} },
      regions: { a: { transport: a }, b: { transport: fake() } },
    });
    expect((await send(r, { path: '/', method: 'POST' })).meta.region).toBe('b');
    expect(of(GEO_CHANNELS.ejected)[0]).toMatchObject({ regionName: 'a', reason: 'tls-verification' });
    expect(warn).toHaveBeenCalledWith('geo-router region ejected', expect.objectContaining({ region: 'a', reason: 'tls-verification' }));
  });

  it('never ejects the last healthy region, and penalizes its estimate instead', async () => {
    const a = fake({ error: 'ERR_BERTH_CONNECT_REFUSED', latencyMs: 1 });
    const r = make({ regions: { a: { transport: a } }, outlier: { consecutiveFailures: 1 } });
    for (let i = 0; i < 3; i += 1) await expect(send(r)).rejects.toMatchObject({ code: 'ERR_BERTH_CONNECT_REFUSED' });
    expect(r.stats().regions['a']).toMatchObject({ health: 'healthy', latencyMs: 30 * 8 });
    expect(of(GEO_CHANNELS.ejected)).toHaveLength(0);
  });

  it('ejects a region whose success rate is below the others at the sweep', async () => {
    const a = fake((req) => (req.path === '/bad' ? { status: 500 } : {}));
    const b = fake();
    const r = make({ strategy: 'p2c', regions: { a: { transport: a }, b: { transport: b } }, outlier: { minRequests: 10, consecutiveFailures: 100 } });
    for (let i = 0; i < 10; i += 1) {
      await send(r, { path: i % 2 === 0 ? '/bad' : '/', region: 'a' });
      await send(r, { path: '/', region: 'b' });
    }
    await vi.advanceTimersByTimeAsync(10_000);
    expect(of(GEO_CHANNELS.ejected)[0]).toMatchObject({ regionName: 'a', reason: 'success-rate' });
  });

  it('sends to the fallback region only when no other is healthy, then panics', async () => {
    const a = fake({ error: 'ERR_BERTH_CONNECT_REFUSED' });
    const fb = fake();
    const b = fake({ error: 'ERR_BERTH_CONNECT_REFUSED' });
    const r = make({
      strategy: 'ordered',
      fallbackRegion: 'fb',
      regions: { a: { transport: a }, fb: { transport: fb }, b: { transport: b } },
      outlier: { consecutiveFailures: 1, maxEjectionPct: 100 },
    });
    const first = await send(r);
    expect(first.meta).toMatchObject({ region: 'fb', attempts: 3 });
    expect(r.currentRegion()).toBe('fb');
    expect(of(GEO_CHANNELS.regionSwitch).at(-1)).toMatchObject({ to: 'fb', reason: 'fallback' });
    fb.act = () => ({ error: 'ERR_BERTH_CONNECT_REFUSED' });
    await expect(send(r, { path: '/', region: 'fb' })).rejects.toMatchObject({ code: 'ERR_BERTH_CONNECT_REFUSED' });
    // fb is the last healthy region, so it is never ejected.
    expect(r.stats().regions['fb']?.health).toBe('healthy');
    expect(r.stats().panicked).toBe(0);
  });
});

describe('hedging', () => {
  it('sends a copy after the fixed delay, keeps the first answer and aborts the other', async () => {
    const a = fake({ latencyMs: 500 });
    const b = fake({ latencyMs: 20 });
    const r = make({ strategy: 'ordered', hedge: { delayMs: 50, budgetPct: 100 }, regions: { a: { transport: a }, b: { transport: b } } });
    const res = await send(r);
    expect(res.meta).toMatchObject({ region: 'b', attempts: 2 });
    expect(a.aborted).toHaveLength(1);
    expect(r.stats().hedges).toEqual({ sent: 1, refused: 0, won: 1 });
    expect(of(GEO_CHANNELS.hedge)).toEqual([
      expect.objectContaining({ primary: 'a', secondary: 'b' }),
      expect.objectContaining({ primary: 'a', secondary: 'b', winner: 'secondary' }),
    ]);
  });

  it('hedges after the region’s p95 and stays within the budget', async () => {
    let n = 0;
    const a = fake(() => ({ latencyMs: (n += 1) % 20 === 0 ? 1000 : 10 }));
    const b = fake({ latencyMs: 10 });
    const r = make({ strategy: 'ordered', hedge: { budgetPct: 5 }, regions: { a: { transport: a }, b: { transport: b } } });
    const total = 400;
    let slowest = 0;
    for (let i = 0; i < total; i += 1) {
      const started = Date.now();
      await send(r, { path: '/' });
      await vi.advanceTimersByTimeAsync(1000);
      slowest = Math.max(slowest, Date.now() - started);
    }
    const { sent, refused } = r.stats().hedges;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThanOrEqual(total * 0.05);
    expect(sent + refused).toBeGreaterThanOrEqual(total / 20 - 1);
  });

  it('waits for the copy when the primary fails after the hedge, and reports the last failure when both fail', async () => {
    const a = fake({ latencyMs: 100, status: 503 });
    const b = fake({ latencyMs: 200, error: 'ERR_BERTH_UPSTREAM_RESET' });
    const c = fake({ latencyMs: 10 });
    const r = make({ strategy: 'ordered', hedge: { delayMs: 50, budgetPct: 100 }, regions: { a: { transport: a }, b: { transport: b }, c: { transport: c } } });
    const res = await send(r);
    expect(res.meta).toMatchObject({ region: 'c', attempts: 3 });
    expect(a.dumped).toBe(1);
  });

  it('passes a caller abort through its own controller to a hedged attempt', async () => {
    const a = fake({ latencyMs: 500 });
    const b = fake({ latencyMs: 500 });
    const r = make({ strategy: 'ordered', hedge: { delayMs: 50, budgetPct: 100 }, regions: { a: { transport: a }, b: { transport: b } } });
    const controller = new AbortController();
    const pending = r.request({ path: '/', signal: controller.signal });
    pending.catch(() => {});
    await vi.advanceTimersByTimeAsync(60);
    controller.abort();
    await vi.advanceTimersByTimeAsync(10);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
    expect([a.aborted.length, b.aborted.length]).toEqual([1, 1]);
    await expect(send(r, { path: '/', signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
  });

  it('does not hedge before there is a p95, nor a non-idempotent request', async () => {
    const a = fake({ latencyMs: 100 });
    const b = fake();
    const r = make({ strategy: 'ordered', hedge: {}, regions: { a: { transport: a }, b: { transport: b } } });
    await send(r);
    await send(r, { path: '/', method: 'POST' });
    expect(b.calls).toHaveLength(0);
  });

  it('fails over normally when the primary fails before the hedge delay', async () => {
    const a = fake({ latencyMs: 5, error: 'ERR_BERTH_CONNECT_REFUSED' });
    const b = fake();
    const r = make({ strategy: 'ordered', hedge: { delayMs: 50, budgetPct: 100 }, regions: { a: { transport: a }, b: { transport: b } } });
    const res = await send(r);
    expect(res.meta).toMatchObject({ region: 'b', attempts: 2 });
    expect(r.stats().hedges.sent).toBe(0);
  });
});

describe('lifecycle', () => {
  it('reports stats for every region', async () => {
    const r = make({ regions: { a: { transport: fake({ latencyMs: 7 }) }, b: { transport: fake(), priority: 1, weight: 2 } } });
    await send(r);
    expect(r.stats()).toMatchObject({
      kind: 'geo-router',
      name: 'geo-router',
      state: 'ready',
      strategy: 'lowest-latency',
      current: 'a',
      requests: 1,
      inFlight: 0,
      queued: 2,
      regions: {
        a: { latencyMs: 7, p95Ms: 7, samples: 1, pending: 0, healthy: true, requests: 1, ejectedUntil: undefined },
        b: { latencyMs: 30, p95Ms: undefined, samples: 0, priority: 1, weight: 2 },
      },
    });
  });

  it('closes every region transport, stops its timers and refuses new requests', async () => {
    const a = fake();
    const r = make({ regions: { a: { transport: a }, b: { transport: fake() } }, probe: { intervalMs: 100 } });
    await vi.advanceTimersByTimeAsync(300);
    const closing = r.close();
    expect(r.close()).toBe(closing);
    expect(r.stats().state).toBe('draining');
    await closing;
    await r.close();
    expect(a.closed).toBe(true);
    expect(r.stats().state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
    await expect(r.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_CLOSED' });
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy, startHttpServer, startWsServer, testPki } from '@berth/testkit';
import type { FaultProxy, TestServer, TestWsServer } from '@berth/testkit';
import { ConfigError, createBerth } from './index.js';
import type { Berth } from './index.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: Parameters<typeof startHttpServer>[0]): Promise<TestServer> {
  const s = await startHttpServer(options);
  cleanups.push(() => s.close());
  return s;
}

async function proxy(target: TestServer, latencyMs: number): Promise<FaultProxy> {
  const p = await startFaultProxy({ host: target.host, port: target.port }, { latencyMs });
  cleanups.push(() => p.close());
  return p;
}

function client(config: Parameters<typeof createBerth>[0]): Berth {
  const b = createBerth(config);
  cleanups.push(() => b.close());
  return b;
}

async function tls() {
  return { ca: (await testPki()).ca.cert, useSystemRoots: false };
}

describe('createBerth with one origin', () => {
  it('picks HTTP/1.1 by ALPN for an h1-only origin and serves requests over a warm pool', async () => {
    const s = await server({ protocol: 'https', behaviour: { body: 'hello' } });
    const berth = client({ origin: s.origin, tls: await tls(), pool: { minIdle: 2 }, scaling: false });
    await berth.ready();
    const res = await berth.request({ path: '/a' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello');
    expect(res.meta).toMatchObject({ protocol: 'http/1.1', region: 'default', attempts: 1 });
    const stats = berth.stats();
    expect(stats.regions['default']?.protocol).toBe('http/1.1');
    expect(stats.regions['default']?.connections?.length).toBeGreaterThanOrEqual(2);
    expect(stats.tls.handshakes).toBeGreaterThanOrEqual(1);
    await berth.close();
    expect(berth.stats().state).toBe('closed');
    await expect(berth.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_CLOSED' });
  });

  it('picks HTTP/2 by ALPN for an h2 origin', async () => {
    const s = await server({ protocol: 'h2', behaviour: { body: 'two' } });
    const berth = client({ origin: s.origin, tls: await tls() });
    const responses = await Promise.all(Array.from({ length: 20 }, () => berth.request({ path: '/' })));
    for (const res of responses) expect(await res.text()).toBe('two');
    expect(responses[0]?.meta.protocol).toBe('h2');
    expect(berth.stats().regions['default']?.protocol).toBe('h2');
    // One ALPN probe, then one session for 20 concurrent requests: no cold-burst fan-out.
    expect(s.totalConnections()).toBeLessThanOrEqual(2);
  });

  it('honours an explicit protocol without probing', async () => {
    const s = await server({ protocol: 'h2', allowHttp1: true });
    const berth = client({ origin: s.origin, tls: await tls(), protocol: 'h1', scaling: false, pool: { minIdle: 0 } });
    const res = await berth.request({ path: '/' });
    await res.dump();
    expect(res.meta.protocol).toBe('http/1.1');
    expect(s.requests[0]?.protocol).toBe('http/1.1');
  });
});

describe('createBerth with regions', () => {
  it('sends traffic to the fastest region and fails over without losing an idempotent request', async () => {
    const servers = await Promise.all([0, 1, 2].map(() => server({ protocol: 'https' })));
    const proxies = await Promise.all(servers.map((s, i) => proxy(s, [5, 40, 80][i] ?? 0)));
    const [fast, mid, slow] = proxies as [FaultProxy, FaultProxy, FaultProxy];
    const berth = client({
      regions: {
        fast: { origin: `https://127.0.0.1:${fast.port}` },
        mid: { origin: `https://127.0.0.1:${mid.port}` },
        slow: { origin: `https://127.0.0.1:${slow.port}` },
      },
      protocol: 'h1',
      tls: await tls(),
      pool: { minIdle: 1 },
      scaling: false,
      routing: { probe: { intervalMs: 200, timeoutMs: 1000 } },
    });
    await berth.ready();
    let failed = 0;
    const seen = new Map<string, number>();
    const run = async (count: number) => {
      for (let i = 0; i < count; i++) {
        try {
          const res = await berth.request({ path: '/' });
          await res.dump();
          seen.set(res.meta.region ?? '?', (seen.get(res.meta.region ?? '?') ?? 0) + 1);
        } catch {
          failed += 1;
        }
      }
    };
    await run(20);
    expect(seen.get('fast') ?? 0).toBeGreaterThan(10);
    await fast.set({ mode: 'reset' });
    fast.cutAll();
    seen.clear();
    await run(20);
    expect(failed).toBe(0);
    expect(seen.get('fast') ?? 0).toBe(0);
    expect(berth.stats().router.failovers + (berth.stats().router.regions['fast']?.ejections ?? 0)).toBeGreaterThan(0);
  });

  it('never sends a pinned request outside its region', async () => {
    const [a, b] = await Promise.all([server({ protocol: 'https' }), server({ protocol: 'https' })]);
    const berth = client({
      regions: { a: { origin: a.origin }, b: { origin: b.origin } },
      protocol: 'h1',
      tls: await tls(),
      scaling: false,
      pool: { minIdle: 0 },
      routing: { probe: false },
    });
    for (let i = 0; i < 10; i++) await (await berth.request({ path: '/', region: 'b' })).dump();
    expect(a.requests).toHaveLength(0);
    expect(b.requests).toHaveLength(10);
  });
});

describe('configuration', () => {
  it('reports every problem of every section in one ERR_BERTH_CONFIG', () => {
    let error: unknown;
    try {
      createBerth({
        regions: { eu: { origin: 'ftp://x' }, us: { origin: 'https://us.example.test', priority: -1 } },
        protocol: 'h3' as never,
        pool: { maxConnections: 0 },
        http2: { maxConcurrentStreams: -5 },
        routing: { fallbackRegion: 'mars' },
        resilience: { retry: { maxAttempts: 0 } },
        tls: { minVersion: 'TLSv1' as never },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const paths = (error as ConfigError).problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'protocol',
        'regions.eu.origin',
        'regions.us.priority',
        'pool.maxConnections',
        'http2.maxConcurrentStreams',
        'routing.fallbackRegion',
        'tls.minVersion',
      ]),
    );
    expect(paths.some((p) => p.startsWith('resilience.'))).toBe(true);
  });

  it('requires exactly one of origin and regions, and https unless cleartext is allowed', () => {
    expect(() => createBerth({})).toThrow(/origin: expected an origin, or `regions`/);
    expect(() => createBerth({ origin: 'https://a.test', regions: { x: { origin: 'https://b.test' } } })).toThrow(/not both/);
    expect(() => createBerth({ origin: 'http://a.test' })).toThrow(/allowCleartext/);
    expect(() => createBerth({ origin: 'https://a.test/v1' })).toThrow(/no path/);
  });
});

describe('websocket()', () => {
  it('opens a pool to the best region over the shared TLS configuration', async () => {
    const ws: TestWsServer = await startWsServer();
    cleanups.push(() => ws.close());
    const berth = client({ origin: `https://127.0.0.1:${ws.port}`, tls: await tls(), protocol: 'h1', scaling: false, pool: { minIdle: 0 } });
    const pool = berth.websocket('/stream', { pingIntervalMs: 0 });
    await pool.ready();
    await pool.send('numbered 1');
    await ws.waitForMessages((r) => r.length === 1);
    expect(ws.received[0]?.data).toBe('numbered 1');
    expect(berth.stats().websockets).toBe(1);
    await berth.close();
    expect(pool.state()).toBe('closed');
  });
});

describe('websocket() across regions', () => {
  it('moves to the next region when its region is ejected, and its channels move with it', async () => {
    const [wsA, wsB] = await Promise.all([startWsServer(), startWsServer()]);
    cleanups.push(() => wsA.close(), () => wsB.close());
    const pA = await startFaultProxy({ host: '127.0.0.1', port: wsA.port }, { latencyMs: 2 });
    const pB = await startFaultProxy({ host: '127.0.0.1', port: wsB.port }, { latencyMs: 30 });
    cleanups.push(() => pA.close(), () => pB.close());
    const berth = client({
      regions: { a: { origin: `https://127.0.0.1:${pA.port}` }, b: { origin: `https://127.0.0.1:${pB.port}` } },
      protocol: 'h1',
      tls: await tls(),
      scaling: false,
      pool: { minIdle: 0 },
      routing: { probe: { intervalMs: 100, timeoutMs: 500 } },
    });
    for (let i = 0; i < 10; i++) await (await berth.request({ path: '/' })).dump();
    const socket = berth.websocket('/ws', { pingIntervalMs: 0 });
    expect(socket.region).toBe('a');
    await socket.ready();
    const channel = socket.channel('numbers');
    await channel.send(1);
    await wsA.waitForMessages((r) => r.some((m) => m.data.includes('numbers') && m.data.includes('1')));

    await pA.set({ mode: 'reset' });
    pA.cutAll();
    // Requests fail over to b while a collects failures until outlier detection ejects it.
    const deadline = Date.now() + 10_000;
    while (socket.region === 'a' && Date.now() < deadline) {
      await (await berth.request({ path: '/' })).dump();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(socket.region).toBe('b');
    expect(socket.stats()).toMatchObject({ region: 'b', regionMoves: 1 });
    await channel.send(2);
    await wsB.waitForMessages((r) => r.some((m) => m.data.includes('numbers') && m.data.includes('2')));
    await berth.close();
    expect(socket.state()).toBe('closed');
  });
});

/**
 * Fault matrix, TLS and regions: every TLS failure fails closed with its own code and
 * nothing reaches the server; a whole region goes down and comes back without a lost request.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBerth } from 'berth';
import type { Berth, BerthConfig } from 'berth';
import { createTlsConfig } from '@berth/tls-config';
import { createHttpsPool } from '@berth/https-pool';
import { startFaultProxy, startHttpServer, testPki } from '@berth/testkit';
import type { FaultProxy, TestServer, TestServerOptions } from '@berth/testkit';
import { burst, exchange, idsSeen } from './harness.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: TestServerOptions = {}): Promise<TestServer> {
  const s = await startHttpServer({ protocol: 'https', ...options });
  cleanups.push(() => s.close());
  return s;
}

async function berth(config: BerthConfig): Promise<Berth> {
  const b = createBerth({ scaling: false, tls: { ca: (await testPki()).ca.cert, useSystemRoots: false }, ...config });
  cleanups.push(() => b.close());
  return b;
}

describe('TLS fails closed through the facade', () => {
  const cases: { name: string; code: string; serve: () => Promise<TestServerOptions>; pins?: () => Promise<string[]> }[] = [
    { name: 'an expired certificate', code: 'ERR_BERTH_TLS_EXPIRED', serve: async () => ({ tls: { cert: (await testPki()).expired } }) },
    { name: 'a certificate for another host', code: 'ERR_BERTH_TLS_HOSTNAME', serve: async () => ({ tls: { cert: (await testPki()).wrongHost } }) },
    { name: 'a chain to an untrusted CA', code: 'ERR_BERTH_TLS_UNTRUSTED', serve: async () => ({ tls: { cert: (await testPki()).untrusted } }) },
    {
      name: 'a key that matches no pin',
      code: 'ERR_BERTH_TLS_PIN_MISMATCH',
      serve: () => Promise.resolve({}),
      pins: async () => [(await testPki()).serverAlt.spkiPin],
    },
    { name: 'a downgrade to TLS 1.1', code: 'ERR_BERTH_TLS_HANDSHAKE', serve: () => Promise.resolve({ tls: { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' } }) },
    { name: 'a downgrade to TLS 1.0', code: 'ERR_BERTH_TLS_HANDSHAKE', serve: () => Promise.resolve({ tls: { minVersion: 'TLSv1', maxVersion: 'TLSv1' } }) },
  ];
  for (const { name, code, serve, pins } of cases) {
    for (const protocol of ['h1', 'auto'] as const) {
      it(`${name} (protocol ${protocol}): every request fails with ${code}, nothing reaches the server`, async () => {
        const s = await server({ ...(await serve()), protocol: protocol === 'auto' ? 'h2' : 'https' });
        const b = await berth({
          origin: s.origin,
          protocol,
          resilience: false,
          tls: { ca: (await testPki()).ca.cert, useSystemRoots: false, ...(pins === undefined ? {} : { pins: await pins() }) },
        });
        const tally = await burst(6, () => exchange(b, { path: '/' }));
        expect(tally).toEqual({ succeeded: 0, failed: { [code]: 6 } });
        expect(s.requests).toHaveLength(0);
      });
    }
  }

  it('the https-pool alone over a tls-config connector fails closed on an untrusted chain, with retries on', async () => {
    const s = await server({ tls: { cert: (await testPki()).untrusted } });
    const tls = createTlsConfig({ ca: (await testPki()).ca.cert, useSystemRoots: false });
    const pool = createHttpsPool(s.origin, { tls, minIdle: 0 });
    cleanups.push(async () => {
      await pool.close();
      tls.close();
    });
    const tally = await burst(6, () => exchange(pool, { path: '/' }));
    expect(tally).toEqual({ succeeded: 0, failed: { ERR_BERTH_TLS_UNTRUSTED: 6 } });
    expect(s.requests).toHaveLength(0);
  });
});

describe('a whole region down and back', () => {
  it('a region whose breaker is open is skipped: callers never see ERR_BERTH_CIRCUIT_OPEN while another region is healthy', async () => {
    const [sa, sb] = await Promise.all([server({ behaviour: { status: 503 } }), server()]);
    const b = await berth({
      regions: { a: { origin: sa.origin }, b: { origin: sb.origin } },
      protocol: 'h1',
      routing: { strategy: 'p2c', probe: false },
      resilience: { retry: false, breaker: { consecutiveFailures: 3, openMs: 60_000 } },
    });
    const statuses = new Map<string, number>();
    const tally = await burst(4, async () => {
      for (let i = 0; i < 25; i++) {
        const res = await b.request({ path: '/' });
        await res.dump();
        statuses.set(`${res.meta.region ?? '?'} ${res.status}`, (statuses.get(`${res.meta.region ?? '?'} ${res.status}`) ?? 0) + 1);
      }
    });
    expect(tally).toEqual({ succeeded: 4, failed: {} });
    // The router re-sends a 503 from a to b, so callers only ever see b's answers …
    expect(Object.fromEntries(statuses)).toEqual({ 'b 200': 100 });
    // … and a stops getting traffic once its breaker opens (3 in a row, plus what was in flight).
    expect(sa.requests.length).toBeGreaterThanOrEqual(3);
    expect(sa.requests.length).toBeLessThanOrEqual(3 + 4);
    expect(sb.requests).toHaveLength(100);
  });

  it('fails over to the healthy region without losing or duplicating an idempotent request, then takes traffic back', async () => {
    const [sa, sb] = await Promise.all([server(), server()]);
    const proxies: FaultProxy[] = [];
    for (const s of [sa, sb] as TestServer[]) {
      const p = await startFaultProxy({ host: s.host, port: s.port });
      cleanups.push(() => p.close());
      proxies.push(p);
    }
    const [pa, pb] = proxies as [FaultProxy, FaultProxy];
    // a is the preferred priority level; b takes traffic only while a is unhealthy.
    const b = await berth({
      regions: { a: { origin: `https://127.0.0.1:${pa.port}`, priority: 0 }, b: { origin: `https://127.0.0.1:${pb.port}`, priority: 1 } },
      protocol: 'h1',
      pool: { minIdle: 1 },
      routing: { probe: { intervalMs: 100, timeoutMs: 500 }, outlier: { baseEjectionMs: 200, maxEjectionMs: 400 } },
      resilience: { breaker: { openMs: 200, maxOpenMs: 400 } },
    });
    await b.ready();
    const run = (tag: string, n: number) => burst(n, (i) => exchange(b, { path: '/', timeoutMs: 2000, headers: { 'x-id': `${tag}-${i}` } }));

    expect(await run('up', 10)).toEqual({ succeeded: 10, failed: {} });
    expect(idsSeen(sa.requests).size).toBe(10);
    // testkit: set({ mode: 'refuse' }) resolves only once the proxy's live connections are
    // gone (it awaits server.close()), so cut them before awaiting it.
    const refusing = pa.set({ mode: 'refuse' });
    pa.cutAll();
    await refusing;
    const down = await run('down', 20);
    expect(down).toEqual({ succeeded: 20, failed: {} });

    await pa.set({ mode: 'pass' });
    let back = 0;
    const deadline = Date.now() + 10_000;
    for (let round = 0; Date.now() < deadline && back === 0; round++) {
      const before = sa.requests.length;
      expect(await run(`back${round}`, 4)).toEqual({ succeeded: 4, failed: {} });
      back = sa.requests.length - before;
      if (back === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(back).toBeGreaterThan(0);

    // Every id that a caller saw succeed reached exactly one server exactly once.
    const seen = idsSeen([...sa.requests, ...sb.requests]);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    for (let i = 0; i < 20; i++) expect(seen.get(`down-${i}`)).toBe(1);
  });
});

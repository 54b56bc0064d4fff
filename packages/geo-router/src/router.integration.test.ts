import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GEO_CHANNELS } from '@berth/core-types';
import type { ResponseData } from '@berth/core-types';
import { createTestTransport, startFaultProxy, startHttpServer, testPki } from '@berth/testkit';
import type { FaultProxy, TestServer } from '@berth/testkit';
import { createGeoRouter } from './router.js';
import type { GeoRouter } from './router.js';
import type { GeoRouterOptions } from './options.js';

// Three real regions: TLS servers on loopback behind fault proxies that add one-way latency
// (round trip + 2 × latency), reached through real keep-alive transports.
const LATENCY = { fast: 0, mid: 15, slow: 30 } as const;
type Name = keyof typeof LATENCY;
const NAMES = Object.keys(LATENCY) as Name[];

let servers: Record<Name, TestServer>;
let proxies: Record<Name, FaultProxy>;
let router: GeoRouter | undefined;
const events: { channel: string; at: number; message: Record<string, unknown> }[] = [];
const listeners = Object.values(GEO_CHANNELS).map((name) => ({
  name,
  fn: (message: unknown) => events.push({ channel: name, at: performance.now(), message: message as Record<string, unknown> }),
}));

beforeEach(async () => {
  events.length = 0;
  for (const { name, fn } of listeners) diagnosticsChannel.subscribe(name, fn);
  const s = {} as Record<Name, TestServer>;
  const p = {} as Record<Name, FaultProxy>;
  for (const name of NAMES) {
    s[name] = await startHttpServer();
    p[name] = await startFaultProxy({ host: '127.0.0.1', port: s[name].port }, { latencyMs: LATENCY[name] });
  }
  servers = s;
  proxies = p;
});

afterEach(async () => {
  await router?.close();
  router = undefined;
  for (const name of NAMES) {
    await proxies[name].close();
    await servers[name].close();
  }
  for (const { name, fn } of listeners) diagnosticsChannel.unsubscribe(name, fn);
});

async function start(extra: Partial<GeoRouterOptions> = {}): Promise<GeoRouter> {
  const { ca } = await testPki();
  const regions = Object.fromEntries(
    NAMES.map((name) => [name, { transport: createTestTransport({ origin: `https://127.0.0.1:${proxies[name].port}`, ca: ca.cert, name }) }]),
  );
  router = createGeoRouter({
    regions,
    probe: { path: '/probe', intervalMs: 100, timeoutMs: 1000 },
    switchAfterMs: 300,
    outlier: { consecutiveFailures: 3, baseEjectionMs: 300 },
    ...extra,
  });
  return router;
}

/** Waits (polling, bounded) until `predicate` holds. */
async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Requests the server saw on `path` (probes excluded). */
const seen = (name: Name, path = '/work') => servers[name].requests.filter((r) => r.path === path).length;

async function get(r: GeoRouter, path = '/work', extra: Partial<Parameters<GeoRouter['request']>[0]> = {}): Promise<ResponseData> {
  const res = await r.request({ path, ...extra });
  await res.dump();
  return res;
}

describe('geo-router over three real regions', () => {
  it('sends traffic to the fastest region', async () => {
    const r = await start();
    await until(() => NAMES.every((n) => (r.stats().regions[n]?.samples ?? 0) > 0));
    await until(() => r.currentRegion() === 'fast');
    for (let i = 0; i < 20; i += 1) expect((await get(r)).meta.region).toBe('fast');
    expect([seen('fast'), seen('mid'), seen('slow')]).toEqual([20, 0, 0]);
    const stats = r.stats().regions;
    expect(stats['fast']!.latencyMs).toBeLessThan(stats['slow']!.latencyMs);
  });

  it('moves traffic when the fastest region dies, loses no idempotent request, and brings it back after the hysteresis', async () => {
    const r = await start();
    await until(() => r.currentRegion() === 'fast');
    const failures: unknown[] = [];
    const regionsAfterKill: string[] = [];
    let killed = false;
    let stop = false;
    // Four workers sending back to back: the kill lands with requests in flight.
    const worker = async () => {
      while (!stop) {
        try {
          const res = await get(r);
          if (killed) regionsAfterKill.push(res.meta.region ?? '?');
        } catch (error) {
          failures.push(error);
        }
      }
    };
    const workers = [worker(), worker(), worker(), worker()];
    try {
      await until(() => seen('fast') >= 40);
      await proxies.fast.set({ mode: 'reset' });
      proxies.fast.cutAll();
      killed = true;
      await until(() => r.stats().regions['fast']!.health !== 'healthy');
      const fastAtEjection = seen('fast');
      await until(() => regionsAfterKill.length >= 60);
      // Nothing reaches the dead region once it is ejected; traffic went to the next best.
      expect(seen('fast')).toBe(fastAtEjection);
      expect(regionsAfterKill.slice(-20).every((name) => name !== 'fast')).toBe(true);
      expect(regionsAfterKill.filter((name) => name === 'mid').length).toBeGreaterThan(regionsAfterKill.length / 2);
      expect(r.currentRegion()).not.toBe('fast');

      await proxies.fast.set({ mode: 'pass' });
      await until(() => r.currentRegion() === 'fast');
    } finally {
      stop = true;
      await Promise.all(workers);
    }
    expect(failures).toEqual([]);

    const at = (channel: string, filter: (m: Record<string, unknown>) => boolean) =>
      events.find((e) => e.channel === channel && filter(e.message))?.at ?? Number.NaN;
    const ejected = at(GEO_CHANNELS.ejected, (m) => m['regionName'] === 'fast');
    const restored = at(GEO_CHANNELS.restored, (m) => m['regionName'] === 'fast');
    const back = at(GEO_CHANNELS.regionSwitch, (m) => m['to'] === 'fast' && m['reason'] === 'faster' && m['from'] !== undefined);
    expect(ejected).toBeLessThan(restored);
    // Hysteresis: the restored region had to stay better for switchAfterMs before it took over.
    expect(back - restored).toBeGreaterThanOrEqual(300);
    expect(r.stats().failovers).toBeGreaterThan(0);
  });

  it('moves replayable requests off a region that goes silent (blackhole) after attemptTimeoutMs', async () => {
    // Generous enough that a healthy region never trips it on a loaded CI machine.
    const r = await start({ attemptTimeoutMs: 1000 });
    await until(() => r.currentRegion() === 'fast');
    for (let i = 0; i < 5; i += 1) await get(r);
    await proxies.fast.set({ mode: 'blackhole' });
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => get(r)));
    const regions = results.map((x) => (x.status === 'fulfilled' ? x.value.meta.region : `failed: ${String(x.reason)}`));
    expect(regions.filter((region) => region !== 'mid' && region !== 'slow'), regions.join(', ')).toEqual([]);
    expect(r.stats().regions['fast']!.health).toBe('ejected');
    const after = await get(r);
    expect(after.meta.region).not.toBe('fast');
    expect(after.meta.attempts).toBe(1);
  });

  it('never sends a request outside its pin or allowedRegions (data residency)', async () => {
    const r = await start();
    await until(() => r.currentRegion() === 'fast' && NAMES.every((n) => (r.stats().regions[n]?.samples ?? 0) > 0));
    for (let i = 0; i < 10; i += 1) expect((await get(r, '/eu', { allowedRegions: ['mid', 'slow'] })).meta.region).toBe('mid');
    await proxies.mid.set({ mode: 'reset' });
    proxies.mid.cutAll();
    for (let i = 0; i < 10; i += 1) expect((await get(r, '/eu', { allowedRegions: ['mid', 'slow'] })).meta.region).toBe('slow');
    await proxies.slow.set({ mode: 'reset' });
    proxies.slow.cutAll();
    const codes = new Set<string>();
    for (let i = 0; i < 10; i += 1) {
      try {
        await get(r, '/pinned', { region: 'slow' });
      } catch (error) {
        codes.add((error as { code: string }).code);
      }
    }
    expect(codes.has('ERR_BERTH_REGION_UNAVAILABLE')).toBe(true);
    expect(seen('fast', '/eu')).toBe(0);
    expect(seen('fast', '/pinned') + seen('mid', '/pinned')).toBe(0);
  });

  it('cuts the tail by hedging when the fastest region has a slow p99, within its budget', async () => {
    let n = 0;
    // Every 25th request to the fast region stalls for 2 s: a slow 4 % tail.
    servers.fast.behave((req) => (req.path === '/h' && (n += 1) % 25 === 0 ? { delayMs: 2000 } : {}));
    const r = await start({ hedge: { budgetPct: 10 } });
    await until(() => r.currentRegion() === 'fast');
    const total = 150;
    const regions: string[] = [];
    for (let i = 0; i < total; i += 1) regions.push((await get(r, '/h')).meta.region ?? '?');
    const stalled = Math.floor(seen('fast', '/h') / 25);
    const { sent, won } = r.stats().hedges;
    expect(stalled).toBeGreaterThan(0);
    // Every stalled request that could be hedged was answered by another region.
    expect(won).toBeGreaterThanOrEqual(Math.min(stalled, sent) - 1);
    expect(regions.filter((x) => x !== 'fast').length).toBeGreaterThanOrEqual(won);
    expect(sent).toBeLessThanOrEqual(total * 0.1 + 1);
  });
});

/**
 * Fault matrix, HTTP/2: GOAWAY storms, refused streams, dead peers behind a blackhole, resets,
 * through the facade on an h2 origin with concurrent streams on shared sessions.
 */
import { describe, expect, it } from 'vitest';
import { createBerth } from 'berth';
import type { Berth, BerthConfig } from 'berth';
import { testPki } from '@berth/testkit';
import { useFixtures } from './fixtures.js';
import { behaviourHeader, burst, exchange, idsSeen } from './harness.js';

const { closing, server, proxy } = useFixtures('h2');

async function berth(origin: string, config: Omit<BerthConfig, 'origin'> = {}): Promise<Berth> {
  const b = createBerth({
    origin,
    protocol: 'h2',
    tls: { ca: (await testPki()).ca.cert, useSystemRoots: false },
    ...config,
  });
  return closing(b);
}

describe('HTTP/2 faults through the facade', () => {
  it('GOAWAY storm every 50 ms: every idempotent request completes and each reaches the server exactly once', async () => {
    const s = await server({ behaviour: { delayMs: 20 } });
    const b = await berth(s.origin);
    const storm = setInterval(() => s.goaway(), 50);
    let tally;
    try {
      tally = await burst(60, (i) => exchange(b, { path: '/g', headers: { 'x-id': String(i) } }));
    } finally {
      clearInterval(storm);
    }
    expect(tally).toEqual({ succeeded: 60, failed: {} });
    const seen = idsSeen(s.requests);
    expect(seen.size).toBe(60);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });

  it('REFUSED_STREAM: refused streams are retried once then fail with ERR_BERTH_REFUSED_STREAM; the others complete', async () => {
    const s = await server();
    const b = await berth(s.origin, { resilience: false });
    const tally = await burst(20, (i) =>
      exchange(b, { path: '/r', headers: { 'x-id': String(i), ...(i % 4 === 0 ? behaviourHeader({ refuseStream: true }) : {}) } }),
    );
    expect(tally).toEqual({ succeeded: 15, failed: { ERR_BERTH_REFUSED_STREAM: 5 } });
    const seen = idsSeen(s.requests);
    for (let i = 0; i < 20; i++) expect(seen.get(String(i)) ?? 0).toBe(i % 4 === 0 ? 2 : 1);
  });

  it('peer stops answering pings (proxy blackhole): in-flight streams fail with ERR_BERTH_PING_TIMEOUT, then traffic recovers', async () => {
    const s = await server();
    const p = await proxy(s);
    const b = await berth(`https://127.0.0.1:${p.port}`, {
      resilience: false,
      tls: { ca: (await testPki()).ca.cert, useSystemRoots: false, handshakeTimeoutMs: 300 },
      http2: { pingIntervalMs: 100, pingTimeoutMs: 150, connectTimeoutMs: 300 },
    });
    expect(await burst(4, () => exchange(b, { path: '/warm' }))).toEqual({ succeeded: 4, failed: {} });
    await p.set({ mode: 'blackhole' });
    // POSTs on the dead session fail with the ping timeout; GETs were never answered, so the
    // multiplexer may replay them on a new session, which the blackhole times out.
    const dead = await burst(6, (i) => exchange(b, { path: '/dead', ...(i < 3 ? { method: 'POST', body: 'x' } : { method: 'GET' }) }));
    expect(dead).toEqual({ succeeded: 0, failed: { ERR_BERTH_PING_TIMEOUT: 3, ERR_BERTH_CONNECT_TIMEOUT: 3 } });
    expect(dead.elapsedMs).toBeLessThan(3000);
    await p.set({ mode: 'pass' });
    expect(await burst(6, () => exchange(b, { path: '/alive' }))).toEqual({ succeeded: 6, failed: {} });
  });

  it('peer goes silent on a busy session: requests fail at their deadline and the PING after their resets breaks the session within pingTimeoutMs', async () => {
    const s = await server();
    const p = await proxy(s);
    // The read-idle keep-alive is far away, as on a busy session: only the reset PING can tell.
    const b = await berth(`https://127.0.0.1:${p.port}`, { resilience: false, http2: { pingIntervalMs: 60_000, pingTimeoutMs: 300 } });
    expect(await burst(4, () => exchange(b, { path: '/warm' }))).toEqual({ succeeded: 4, failed: {} });
    expect(p.connectionCount()).toBe(1);
    await p.set({ mode: 'blackhole' });
    const stalled = await burst(4, () => exchange(b, { path: '/stalled', timeoutMs: 200 }));
    expect(stalled).toEqual({ succeeded: 0, failed: { ERR_BERTH_TIMEOUT: 4 } });
    expect(stalled.elapsedMs).toBeLessThan(1000);
    // The session is given up (its socket closed) once the PING deadline passes.
    const deadline = Date.now() + 2000;
    while (p.connectionCount() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(p.connectionCount()).toBe(0);
    await p.set({ mode: 'pass' });
    expect(await burst(4, () => exchange(b, { path: '/after' }))).toEqual({ succeeded: 4, failed: {} });
    expect(s.requests.filter((r) => r.path === '/stalled')).toHaveLength(0);
  });

  it('RST_STREAM mid-body: those streams fail with ERR_BERTH_UPSTREAM_RESET and are not replayed; the session serves the rest', async () => {
    const s = await server({ behaviour: { bodyBytes: 32 * 1024, chunkBytes: 4096 } });
    const b = await berth(s.origin);
    const tally = await burst(12, (i) =>
      exchange(b, {
        path: '/m',
        headers: { 'x-id': String(i), ...(i < 4 ? behaviourHeader({ bodyBytes: 32 * 1024, chunkBytes: 4096, resetMidBody: true }) : {}) },
      }),
    );
    expect(tally).toEqual({ succeeded: 8, failed: { ERR_BERTH_UPSTREAM_RESET: 4 } });
    expect([...idsSeen(s.requests).values()].every((n) => n === 1)).toBe(true);
    expect(s.requests).toHaveLength(12);
  });

  it('connect refused: every request fails with ERR_BERTH_CONNECT_REFUSED', async () => {
    const s = await server();
    const p = await proxy(s);
    await p.set({ mode: 'refuse' });
    const b = await berth(`https://127.0.0.1:${p.port}`, { resilience: false });
    const tally = await burst(10, () => exchange(b, { path: '/' }));
    expect(tally).toEqual({ succeeded: 0, failed: { ERR_BERTH_CONNECT_REFUSED: 10 } });
    expect(s.requests).toHaveLength(0);
  });

  it('latency spike past headersTimeoutMs: streams fail with ERR_BERTH_HEADERS_TIMEOUT, then recover', async () => {
    const s = await server();
    const p = await proxy(s);
    const b = await berth(`https://127.0.0.1:${p.port}`, { resilience: false, http2: { headersTimeoutMs: 150 } });
    expect(await burst(4, () => exchange(b, { path: '/warm' }))).toEqual({ succeeded: 4, failed: {} });
    await p.set({ latencyMs: 300 });
    const spike = await burst(8, () => exchange(b, { path: '/spike' }));
    expect(spike).toEqual({ succeeded: 0, failed: { ERR_BERTH_HEADERS_TIMEOUT: 8 } });
    await p.set({ latencyMs: 0 });
    // Chunks the proxy already holds keep their 300 ms due time; let them drain first.
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await burst(8, () => exchange(b, { path: '/after' }))).toEqual({ succeeded: 8, failed: {} });
  });

  it('DNS failure: an unresolvable h2 origin fails every request with ERR_BERTH_DNS', async () => {
    const b = await berth('https://berth-does-not-exist.invalid', { resilience: false });
    const tally = await burst(5, () => exchange(b, { path: '/' }));
    expect(tally).toEqual({ succeeded: 0, failed: { ERR_BERTH_DNS: 5 } });
  });
});

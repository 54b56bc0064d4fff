/**
 * Fault matrix, HTTP/1.1: each scenario drives a burst of concurrent requests through the
 * facade (or the pool alone) into a real TLS server behind testkit's fault proxy, and asserts
 * exact counts on both sides.
 */
import { describe, expect, it } from 'vitest';
import { createBerth } from 'berth';
import type { Berth, BerthConfig } from 'berth';
import { testPki } from '@berth/testkit';
import { useFixtures } from './fixtures.js';
import { behaviourHeader, burst, exchange, idsSeen } from './harness.js';

const { closing, server, proxy } = useFixtures('https');

async function berth(origin: string, config: Omit<BerthConfig, 'origin'> = {}): Promise<Berth> {
  const b = createBerth({
    origin,
    protocol: 'h1',
    tls: { ca: (await testPki()).ca.cert, useSystemRoots: false },
    scaling: false,
    ...config,
    pool: { minIdle: 0, maxConnections: 8, ...config.pool },
  });
  return closing(b);
}

describe('HTTP/1.1 faults through the facade', () => {
  it('reset mid-body: the reset responses fail with ERR_BERTH_UPSTREAM_RESET, are not replayed, the rest complete', async () => {
    const s = await server({ behaviour: { bodyBytes: 64 * 1024, chunkBytes: 8 * 1024 } });
    const b = await berth(s.origin);
    const tally = await burst(16, (i) =>
      exchange(b, {
        path: '/r',
        headers: { 'x-id': String(i), ...(i % 2 === 0 ? behaviourHeader({ bodyBytes: 64 * 1024, chunkBytes: 8 * 1024, resetMidBody: true }) : {}) },
      }),
    );
    expect(tally.failed).toEqual({ ERR_BERTH_UPSTREAM_RESET: 8 });
    expect(tally.succeeded).toBe(8);
    // A response whose head was delivered is never replayed: each id reached the server once.
    expect(s.requests).toHaveLength(16);
    expect([...idsSeen(s.requests).values()].every((n) => n === 1)).toBe(true);
  });

  it('server closes keep-alive sockets as requests arrive: every idempotent request succeeds, none is duplicated', async () => {
    const s = await server({ behaviour: { closeAfterResponse: true } });
    const b = await berth(s.origin, { pool: { maxConnections: 4 } });
    let total = 0;
    for (let wave = 0; wave < 4; wave++) {
      const tally = await burst(8, (i) => exchange(b, { path: '/k', headers: { 'x-id': `${wave}-${i}` } }));
      expect(tally).toEqual({ succeeded: 8, failed: {} });
      total += 8;
    }
    const seen = idsSeen(s.requests);
    expect(seen.size).toBe(total);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });

  it('server keep-alive timeout races the next request: waves sent as the server times idle sockets out all succeed, none is duplicated', async () => {
    // The server closes a socket idle for 40 ms; each wave starts 35–45 ms after the previous
    // one ended, so some requests are written onto sockets the server is closing.
    const s = await server({ keepAliveTimeoutMs: 40 });
    const b = await berth(s.origin, { pool: { maxConnections: 4 } });
    for (let wave = 0; wave < 8; wave++) {
      const tally = await burst(4, (i) => exchange(b, { path: '/ka', headers: { 'x-id': `${wave}-${i}` } }));
      expect(tally).toEqual({ succeeded: 4, failed: {} });
      await new Promise((resolve) => setTimeout(resolve, 35 + (wave % 3) * 5));
    }
    const seen = idsSeen(s.requests);
    expect(seen.size).toBe(32);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });

  it('connect refused: every request fails with ERR_BERTH_CONNECT_REFUSED, nothing reaches the server', async () => {
    const s = await server();
    const p = await proxy(s);
    await p.set({ mode: 'refuse' });
    const b = await berth(`https://127.0.0.1:${p.port}`, { resilience: false });
    const tally = await burst(10, () => exchange(b, { path: '/' }));
    expect(tally).toEqual({ succeeded: 0, failed: { ERR_BERTH_CONNECT_REFUSED: 10 } });
    expect(s.requests).toHaveLength(0);
  });

  it('blackhole: the TCP handshake completes but no byte flows; requests fail with ERR_BERTH_CONNECT_TIMEOUT by the connect deadline', async () => {
    const s = await server();
    const p = await proxy(s);
    await p.set({ mode: 'blackhole' });
    const b = await berth(`https://127.0.0.1:${p.port}`, {
      resilience: false,
      tls: { ca: (await testPki()).ca.cert, useSystemRoots: false, handshakeTimeoutMs: 200 },
      pool: { connectTimeoutMs: 200 },
    });
    const tally = await burst(8, () => exchange(b, { path: '/' }));
    expect(tally).toEqual({ succeeded: 0, failed: { ERR_BERTH_CONNECT_TIMEOUT: 8 } });
    expect(tally.elapsedMs).toBeLessThan(5000);
    expect(s.requests).toHaveLength(0);
  });

  it('slow drip body: a body that stalls past bodyTimeoutMs fails with ERR_BERTH_BODY_TIMEOUT, fast ones complete', async () => {
    const s = await server();
    const b = await berth(s.origin, { resilience: false, pool: { bodyTimeoutMs: 100 } });
    const tally = await burst(8, (i) =>
      exchange(b, {
        path: '/d',
        // Stalls 1.5 s after the first chunk: past undici's ~1 s body-timer resolution (see below).
        headers: i < 4 ? behaviourHeader({ bodyBytes: 8, chunkBytes: 4, chunkIntervalMs: 1500 }) : {},
      }),
    );
    expect(tally).toEqual({ succeeded: 4, failed: { ERR_BERTH_BODY_TIMEOUT: 4 } });
    expect(tally.elapsedMs).toBeLessThan(1500);
    expect(s.requests).toHaveLength(8);
  });

  // Regression: undici's body timer is a "fast timer" ticking every 499 ms, re-armed on each
  // chunk, so a body dripping a chunk every 300 ms never timed out. The pool now enforces
  // bodyTimeoutMs itself, on its Clock.
  it('https-pool honours a sub-second bodyTimeoutMs on a body that drips a chunk every 300 ms', async () => {
    const s = await server({ behaviour: { bodyBytes: 16, chunkBytes: 4, chunkIntervalMs: 300 } });
    const b = await berth(s.origin, { resilience: false, pool: { bodyTimeoutMs: 100 } });
    const tally = await burst(2, () => exchange(b, { path: '/drip' }));
    expect(tally.failed).toEqual({ ERR_BERTH_BODY_TIMEOUT: 2 });
    expect(tally.elapsedMs).toBeLessThan(1000);
  });

  it('latency spike: requests in flight during the spike fail with ERR_BERTH_TIMEOUT at their deadline, then traffic recovers', async () => {
    const s = await server();
    const p = await proxy(s);
    const b = await berth(`https://127.0.0.1:${p.port}`, { resilience: false });
    expect(await burst(8, () => exchange(b, { path: '/before' }))).toEqual({ succeeded: 8, failed: {} });
    await p.set({ latencyMs: 400 });
    const spike = await burst(8, () => exchange(b, { path: '/spike', timeoutMs: 150 }));
    expect(spike).toEqual({ succeeded: 0, failed: { ERR_BERTH_TIMEOUT: 8 } });
    expect(spike.elapsedMs).toBeLessThan(2000);
    await p.set({ latencyMs: 0 });
    expect(await burst(8, () => exchange(b, { path: '/after', timeoutMs: 5000 }))).toEqual({ succeeded: 8, failed: {} });
  });

  it('bandwidth collapse: large bodies time out at the request deadline, small ones still fit', async () => {
    const s = await server();
    const p = await proxy(s);
    const b = await berth(`https://127.0.0.1:${p.port}`, { resilience: false });
    await b.ready();
    await p.set({ bytesPerSec: 16 * 1024 });
    const tally = await burst(6, (i) =>
      exchange(b, { path: '/b', timeoutMs: 600, headers: behaviourHeader(i < 3 ? { bodyBytes: 256 * 1024 } : { body: 'x' }) }),
    );
    expect(tally.failed).toEqual({ ERR_BERTH_TIMEOUT: 3 });
    expect(tally.succeeded).toBe(3);
  });

  it('reset before any response byte: idempotent GETs are resent once, POSTs fail with ERR_BERTH_UPSTREAM_RESET and are never resent', async () => {
    const s = await server();
    const b = await berth(s.origin, { resilience: { retry: { maxAttempts: 1 }, breaker: false } });
    const tally = await burst(8, (i) =>
      exchange(b, {
        path: '/x',
        headers: { 'x-id': String(i), ...behaviourHeader({ resetBeforeResponse: true }) },
        ...(i < 4 ? { method: 'GET' } : { method: 'POST', body: 'payload' }),
      }),
    );
    expect(tally.failed).toEqual({ ERR_BERTH_UPSTREAM_RESET: 8 });
    const seen = idsSeen(s.requests);
    // POSTs: exactly once each. GETs: at most the pool's one safe resend.
    for (let i = 4; i < 8; i++) expect(seen.get(String(i))).toBe(1);
    for (let i = 0; i < 4; i++) expect(seen.get(String(i))).toBeLessThanOrEqual(2);
  });

  it('DNS failure: an unresolvable name fails every request with ERR_BERTH_DNS', async () => {
    const b = await berth('https://berth-does-not-exist.invalid', { resilience: false });
    const tally = await burst(5, () => exchange(b, { path: '/' }));
    expect(tally).toEqual({ succeeded: 0, failed: { ERR_BERTH_DNS: 5 } });
  });
});

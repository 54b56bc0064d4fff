/**
 * Fault matrix, WebSocket: the server cuts every socket at once, a peer goes half-open, the
 * name does not resolve, the port refuses, the certificate is untrusted. Every message a
 * caller was told is `written` after the fault reaches the server exactly once; every other
 * one is refused with a code.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBerth } from 'berth';
import { createTlsConfig } from '@berth/tls-config';
import type { TlsConfig } from '@berth/tls-config';
import { createWsPool } from '@berth/ws-pool';
import type { WsPool, WsPoolOptions } from '@berth/ws-pool';
import { startFaultProxy, startHttpServer, startWsServer, testPki } from '@berth/testkit';
import type { TestWsServer, TestWsServerOptions } from '@berth/testkit';
import { burst } from './harness.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function wsServer(options: TestWsServerOptions = {}): Promise<TestWsServer> {
  const s = await startWsServer(options);
  cleanups.push(() => s.close());
  return s;
}

async function tlsConfig(): Promise<TlsConfig> {
  const tls = createTlsConfig({ ca: (await testPki()).ca.cert, useSystemRoots: false });
  cleanups.push(() => Promise.resolve(tls.close()));
  return tls;
}

async function pool(url: string, options: Omit<WsPoolOptions, 'tls'> = {}): Promise<WsPool> {
  const p = createWsPool(url, { tls: await tlsConfig(), backoffBaseMs: 20, backoffCapMs: 100, ...options });
  cleanups.push(() => p.close());
  return p;
}

/** Polls (real time, 10 ms) until `predicate` holds, failing after `timeoutMs`. */
async function until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const payloads = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);

describe('WebSocket faults', () => {
  it('the server cuts every socket at once: the pool reconnects and every later message arrives exactly once', async () => {
    const s = await wsServer();
    const b = createBerth({ origin: `https://127.0.0.1:${s.port}`, tls: { ca: (await testPki()).ca.cert, useSystemRoots: false }, scaling: false });
    cleanups.push(() => b.close());
    const ws = b.websocket('/', { size: 3, backoffBaseMs: 20, backoffCapMs: 100 });
    cleanups.push(() => ws.close());
    await ws.ready({ timeoutMs: 3000 });
    const before = payloads('before', 30);
    expect(await burst(30, (i) => ws.send(before[i] ?? ''))).toEqual({ succeeded: 30, failed: {} });
    await s.waitForMessages((r) => r.length >= 30);
    s.cutAll();
    // Without acks a send is at-most-once: a frame written before the client sees the reset
    // is lost with the socket. Send once every socket has been replaced (acks cover the race).
    await until(() => ws.stats().reconnects >= 3 && ws.stats().sockets.ready === 3);
    const after = payloads('after', 30);
    expect(await burst(30, (i) => ws.send(after[i] ?? ''))).toEqual({ succeeded: 30, failed: {} });
    await s.waitForMessages((r) => r.length >= 60);
    const data = s.received.map((m) => m.data).sort();
    expect(data).toEqual([...before, ...after].sort());
    expect(ws.stats().reconnects).toBeGreaterThanOrEqual(3);
  });

  it('half-open peer (proxy blackhole): the heartbeat terminates the socket by pong timeout; messages sent afterwards arrive exactly once', async () => {
    const s = await wsServer();
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: s.port });
    cleanups.push(() => proxy.close());
    const p = await pool(`wss://localhost:${proxy.port}/`, { size: 2, pingIntervalMs: 100, pongTimeoutMs: 100, handshakeTimeoutMs: 300 });
    await p.ready({ timeoutMs: 3000 });
    await proxy.set({ mode: 'blackhole' });
    await until(() => p.stats().sockets.ready === 0);
    await proxy.set({ mode: 'pass' });
    const later = payloads('later', 20);
    expect(await burst(20, (i) => p.send(later[i] ?? ''))).toEqual({ succeeded: 20, failed: {} });
    await s.waitForMessages((r) => r.length >= 20);
    expect(s.received.map((m) => m.data).sort()).toEqual([...later].sort());
    expect(p.stats().reconnects).toBeGreaterThanOrEqual(2);
  });

  it('DNS failure: buffered messages expire with ERR_BERTH_WS_EXPIRED at their ttl, none is silently dropped', async () => {
    const p = await pool('wss://berth-does-not-exist.invalid/', { size: 2 });
    const tally = await burst(10, () => p.send('x', { ttlMs: 200 }));
    expect(tally).toEqual({ succeeded: 0, failed: { ERR_BERTH_WS_EXPIRED: 10 } });
    expect(tally.elapsedMs).toBeLessThan(2000);
  });

  it('connect refused: buffered messages expire with ERR_BERTH_WS_EXPIRED at their ttl', async () => {
    const s = await wsServer();
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: s.port }, { mode: 'refuse' });
    cleanups.push(() => proxy.close());
    const p = await pool(`wss://localhost:${proxy.port}/`, { size: 2 });
    const tally = await burst(10, () => p.send('x', { ttlMs: 200 }));
    expect(tally).toEqual({ succeeded: 0, failed: { ERR_BERTH_WS_EXPIRED: 10 } });
    expect(s.received).toHaveLength(0);
  });

  it('an untrusted certificate: the pool never opens a socket and nothing reaches the server', async () => {
    const s = await wsServer({ cert: (await testPki()).untrusted });
    const p = await pool(`wss://localhost:${s.port}/`, { size: 2 });
    const tally = await burst(10, () => p.send('x', { ttlMs: 300 }));
    // TLS verification failures are retried with backoff like any dial failure, so buffered
    // messages end by their ttl; the pool never writes a byte past a failed verification.
    expect(tally).toEqual({ succeeded: 0, failed: { ERR_BERTH_WS_EXPIRED: 10 } });
    expect(s.totalSockets()).toBe(0);
    expect(s.received).toHaveLength(0);
  });

  it('a plain https server answering the upgrade with 200 fails every buffered message with ERR_BERTH_WS_CLOSED at once', async () => {
    const s = await startHttpServer({ protocol: 'https' });
    cleanups.push(() => s.close());
    const p = await pool(`wss://localhost:${s.port}/`, { size: 1 });
    const tally = await burst(5, () => p.send('x', { ttlMs: 300 }));
    // A 200 to an upgrade is not retryable: the socket ends errored and the buffer is failed at once.
    expect(tally).toEqual({ succeeded: 0, failed: { ERR_BERTH_WS_CLOSED: 5 } });
    expect(tally.elapsedMs).toBeLessThan(300);
  });
});

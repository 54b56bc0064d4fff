import diagnostics from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { H2_CHANNELS } from '@berth/core-types';
import { startFaultProxy, startHttpServer } from '@berth/testkit';
import type { FaultProxy, TestServer } from '@berth/testkit';
import { createH2Multiplexer } from './multiplexer.js';
import type { H2Multiplexer } from './multiplexer.js';
import type { H2MultiplexerOptions } from './options.js';

// Only the timers are faked: sockets, setImmediate and Date stay real, so real HTTP/2 traffic
// flows while the multiplexer's keep-alive, idle and age timers move only when told to.
const FAKED = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] as const;

let server: TestServer | undefined;
let proxy: FaultProxy | undefined;
let mux: H2Multiplexer | undefined;

beforeEach(() => {
  vi.useFakeTimers({ toFake: [...FAKED] });
});

afterEach(async () => {
  vi.useRealTimers();
  await mux?.close({ deadlineMs: 50 });
  await proxy?.close();
  await server?.close();
  mux = undefined;
  proxy = undefined;
  server = undefined;
});

/** Lets real I/O run until `predicate` holds (fake timers do not move meanwhile). */
async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Lets real I/O run for `n` event-loop turns. */
async function ioTurns(n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

function create(origin: string, options: H2MultiplexerOptions): H2Multiplexer {
  mux = createH2Multiplexer(origin, { allowCleartext: true, ...options });
  return mux;
}

describe('keep-alive PING', () => {
  it('destroys a blackholed session when its PING times out and replays the idempotent request on a new session', async () => {
    server = await startHttpServer({ protocol: 'h2c' });
    proxy = await startFaultProxy({ host: server.host, port: server.port });
    const m = create(`http://127.0.0.1:${proxy.port}`, { pingIntervalMs: 10_000, pingTimeoutMs: 5_000, idleTimeoutMs: 0 });
    const first = await m.request({ path: '/first' });
    await first.dump();
    await proxy.set({ mode: 'blackhole' });
    const pending = m.request({ path: '/second' });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(m.stats().sessions[0]?.state).toBe('busy');
    await proxy.set({ mode: 'pass' });
    await vi.advanceTimersByTimeAsync(5_000);
    await until(() => server?.requests.length === 2, 'the replayed request');
    const second = await pending;
    expect(await second.text()).toBe('ok');
    expect(second.meta.attempts).toBe(2);
    expect(second.meta.connectionId).not.toBe(first.meta.connectionId);
    const stats = m.stats();
    expect(stats.retries['ping-timeout']).toBe(1);
    expect(stats.sessionsClosed.broken).toBe(1);
    expect(server.totalConnections()).toBe(2);
  });

  it('answers keep-alive PINGs on an idle session and records the round trip', async () => {
    server = await startHttpServer({ protocol: 'h2c' });
    const m = create(server.origin, { pingIntervalMs: 1_000, idleTimeoutMs: 0 });
    await (await m.request({ path: '/' })).dump();
    // The first checks may still see bytes arriving (the ACK of the PING that follows a reset).
    for (let i = 0; i < 5 && m.stats().sessions[0]?.rttMs === undefined; i += 1) {
      await vi.advanceTimersByTimeAsync(1_000);
      await ioTurns(20);
    }
    expect(m.stats().sessions[0]?.rttMs).toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(m.stats().sessions).toHaveLength(1);
  });

  it('fails a non-idempotent request on a session found dead by PING with ERR_BERTH_PING_TIMEOUT', async () => {
    server = await startHttpServer({ protocol: 'h2c' });
    proxy = await startFaultProxy({ host: server.host, port: server.port });
    const m = create(`http://127.0.0.1:${proxy.port}`, { pingIntervalMs: 1_000, pingTimeoutMs: 1_000, idleTimeoutMs: 0 });
    await (await m.request({ path: '/' })).dump();
    await proxy.set({ mode: 'blackhole' });
    const post = m.request({ path: '/', method: 'POST', body: 'x' });
    const outcome = expect(post).rejects.toMatchObject({ code: 'ERR_BERTH_PING_TIMEOUT' });
    await vi.advanceTimersByTimeAsync(3_000);
    await outcome;
  });
});

describe('the PING after a reset (Go x/net #59690)', () => {
  it('breaks a silent session when the PING confirming a timed-out stream is not answered, even with keep-alive off', async () => {
    server = await startHttpServer({ protocol: 'h2c' });
    proxy = await startFaultProxy({ host: server.host, port: server.port });
    const m = create(`http://127.0.0.1:${proxy.port}`, { pingIntervalMs: 0, pingTimeoutMs: 2_000, idleTimeoutMs: 0 });
    const first = await m.request({ path: '/first' });
    await first.dump();
    // Nothing of the first exchange may still be waiting for a PING ACK when the peer goes silent.
    await until(() => m.stats().sessions[0]?.pendingResets === 0, 'the first exchange to settle');
    await proxy.set({ mode: 'blackhole' });
    const stalled = expect(m.request({ path: '/stalled', timeoutMs: 500 })).rejects.toMatchObject({ code: 'ERR_BERTH_TIMEOUT' });
    await vi.advanceTimersByTimeAsync(500);
    await stalled;
    // The reset's PING is out; the session still looks alive until its deadline.
    expect(m.stats().sessions[0]?.pendingResets).toBe(1);
    // (Deadlines are read from the real clock while only timers are faked: check either side of it with room.)
    await vi.advanceTimersByTimeAsync(1_500);
    expect(m.stats().sessionsClosed.broken).toBe(0);
    await vi.advanceTimersByTimeAsync(500);
    await until(() => m.stats().sessionsClosed.broken === 1, 'the silent session to be broken');
    await proxy.set({ mode: 'pass' });
    const next = await m.request({ path: '/next' });
    await next.dump();
    expect(next.meta.connectionId).not.toBe(first.meta.connectionId);
    expect(server.requests.map((r) => r.path)).toEqual(['/first', '/next']);
  });

  it('keeps a session whose peer answers the PING after a reset', async () => {
    server = await startHttpServer({ protocol: 'h2c' });
    const m = create(server.origin, { pingIntervalMs: 0, pingTimeoutMs: 2_000, idleTimeoutMs: 0 });
    const slow = expect(
      m.request({ path: '/slow', timeoutMs: 100, headers: { 'x-berth-behaviour': JSON.stringify({ delayMs: 1_000 }) } }),
    ).rejects.toMatchObject({ code: 'ERR_BERTH_TIMEOUT' });
    await vi.advanceTimersByTimeAsync(100);
    await slow;
    await until(() => m.stats().sessions[0]?.pendingResets === 0, 'the reset PING to be answered');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(m.stats().sessionsClosed.broken).toBe(0);
    const next = await m.request({ path: '/next' });
    await next.dump();
    expect(m.stats().sessions).toHaveLength(1);
    expect(server.totalConnections()).toBe(1);
  });
});

describe('idle and max-age retirement', () => {
  it('closes a session idle for idleTimeoutMs, and the next request opens a new one', async () => {
    server = await startHttpServer({ protocol: 'h2c' });
    const m = create(server.origin, { idleTimeoutMs: 5_000, pingIntervalMs: 0 });
    await (await m.request({ path: '/' })).dump();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(m.stats().sessions).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => m.stats().sessions.length === 0, 'the idle session to close');
    expect(m.stats().sessionsClosed.idle).toBe(1);
    const next = await m.request({ path: '/' });
    await next.dump();
    expect(next.meta.reused).toBe(false);
    expect(server.totalConnections()).toBe(2);
  });

  it('retires a busy session at its maximum age make-before-break: the replacement is ready before the old one drains', async () => {
    server = await startHttpServer({ protocol: 'h2c' });
    const m = create(server.origin, { maxAgeMs: 10_000, maxAgeJitter: 0, idleTimeoutMs: 0, pingIntervalMs: 0 });
    const slow = m.request({ path: '/slow', headers: { 'x-berth-behaviour': JSON.stringify({ delayMs: 30_000 }) } });
    await until(() => server?.requests.length === 1, 'the slow request');
    await vi.advanceTimersByTimeAsync(10_000);
    await until(() => m.stats().sessions.length === 2 && m.stats().sessions.some((s) => s.state === 'draining'), 'the replacement');
    const draining = m.stats().sessions.find((s) => s.state === 'draining');
    const fresh = await m.request({ path: '/fresh' });
    await fresh.dump();
    expect(fresh.meta.connectionId).not.toBe(draining?.id);
    await vi.advanceTimersByTimeAsync(20_000);
    const old = await slow;
    expect(await old.text()).toBe('ok');
    expect(old.meta.connectionId).not.toBe(fresh.meta.connectionId);
    await until(() => m.stats().sessionsClosed.lifetime >= 1, 'the old session to close');
  });

  it('closes an idle session at its maximum age without dialling a replacement', async () => {
    server = await startHttpServer({ protocol: 'h2c' });
    const m = create(server.origin, { maxAgeMs: 10_000, maxAgeJitter: 0.5, idleTimeoutMs: 0, pingIntervalMs: 0, random: { next: () => 1 - Number.EPSILON } });
    await (await m.request({ path: '/' })).dump();
    await vi.advanceTimersByTimeAsync(5_001);
    await until(() => m.stats().sessions.length === 0, 'the aged session to close');
    expect(m.stats().sessionsClosed.lifetime).toBe(1);
    expect(server.totalConnections()).toBe(1);
  });

  it('fails a dial that gets no SETTINGS within connectTimeoutMs with ERR_BERTH_CONNECT_TIMEOUT', async () => {
    server = await startHttpServer({ protocol: 'h2c' });
    proxy = await startFaultProxy({ host: server.host, port: server.port }, { mode: 'blackhole' });
    const m = create(`http://127.0.0.1:${proxy.port}`, { connectTimeoutMs: 2_000 });
    const outcome = expect(m.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_CONNECT_TIMEOUT' });
    await until(() => proxy?.connectionCount() === 1, 'the TCP connection');
    await vi.advanceTimersByTimeAsync(2_000);
    await outcome;
  });
});

describe('session-closed events', () => {
  it('reports an idle close without an error, and a peer reset with one', async () => {
    const closed: { reason: string; error?: { code: string } }[] = [];
    const onClosed = (msg: unknown) => closed.push(msg as { reason: string; error?: { code: string } });
    diagnostics.subscribe(H2_CHANNELS.sessionClosed, onClosed);
    try {
      server = await startHttpServer({ protocol: 'h2c' });
      const m = create(server.origin, { idleTimeoutMs: 1_000, pingIntervalMs: 0 });
      await (await m.request({ path: '/' })).dump();
      await vi.advanceTimersByTimeAsync(1_000);
      await until(() => closed.length === 1, 'the idle close');
      expect(closed[0]).toEqual(expect.objectContaining({ reason: 'idle' }));
      expect(closed[0]?.error).toBeUndefined();
      await (await m.request({ path: '/' })).dump();
      server.dropConnections();
      await until(() => closed.length === 2, 'the broken session');
      expect(closed[1]).toMatchObject({ reason: 'broken', error: { code: 'ERR_BERTH_UPSTREAM_RESET' } });
    } finally {
      diagnostics.unsubscribe(H2_CHANNELS.sessionClosed, onClosed);
    }
  });
});

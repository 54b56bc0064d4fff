import { WS_CHANNELS } from '@berth/core-types';
import type { WsReconnectMessage, WsStateMessage } from '@berth/core-types';
import { seededRandom, startFaultProxy } from '@berth/testkit';
import { describe, expect, it } from 'vitest';
import { collect, pool, server, track, eventually } from '../test/fixtures.js';
import { manualClock } from '../test/manual-clock.js';

describe('reconnect after a mass cut', () => {
  it('spreads 100 sockets cut at once uniformly over the first backoff window, then reconnects them all', async () => {
    const clock = manualClock();
    const s = await server();
    const reconnects = collect<WsReconnectMessage>(WS_CHANNELS.reconnect);
    const p = await pool(s.url, { clock, random: seededRandom(7), size: 100, maxConcurrentHandshakes: 8, backoffBaseMs: 1_000 });
    await p.ready();
    s.cutAll();
    await eventually(() => expect(reconnects).toHaveLength(100));
    const delays = reconnects.map((r) => r.delayMs);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(1_000);
    // Full jitter: each tenth of the window gets about 10 of the 100 reconnects.
    const buckets = Array.from({ length: 10 }, () => 0);
    for (const delay of delays) buckets[Math.floor(delay / 100)]! += 1;
    expect(Math.min(...buckets)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...buckets)).toBeLessThanOrEqual(20);
    // No two sockets retry in the same millisecond bucket more than a handful of times.
    expect(new Set(delays.map((d) => Math.floor(d))).size).toBeGreaterThan(90);
    // Halfway through the window about half of them are back.
    clock.advance(500);
    await eventually(() => expect(s.totalSockets()).toBe(100 + buckets.slice(0, 5).reduce((a, b) => a + b, 0)));
    clock.advance(500);
    await eventually(() => expect(p.stats().sockets.ready).toBe(100));
    expect(s.totalSockets()).toBe(200);
  });

  it('resets the attempt count only after minUptimeMs of ready', async () => {
    const clock = manualClock();
    const s = await server();
    const reconnects = collect<WsReconnectMessage>(WS_CHANNELS.reconnect);
    const p = await pool(s.url, { clock, backoffBaseMs: 10, minUptimeMs: 5_000 });
    await p.ready();
    s.cutAll();
    await eventually(() => expect(reconnects).toHaveLength(1));
    clock.advance(10);
    await p.ready();
    s.cutAll(); // flapping: up for 0 ms
    await eventually(() => expect(reconnects).toHaveLength(2));
    clock.advance(20);
    await p.ready();
    clock.advance(5_000);
    s.cutAll(); // stable for 5 s: counter resets
    await eventually(() => expect(reconnects).toHaveLength(3));
    expect(reconnects.map((r) => r.attempt)).toEqual([1, 2, 1]);
  });
});

describe('close codes drive retry decisions', () => {
  it('does not reconnect after 1008 (policy) and leaves errored on reconnect()', async () => {
    const clock = manualClock();
    const s = await server();
    const p = await pool(s.url, { clock });
    const channel = p.channel('c');
    await p.ready();
    s.closeAll(1008, 'bad token');
    await eventually(() => expect(p.stats().sockets.errored).toBe(1));
    expect(p.stats().reconnects).toBe(0);
    await expect(channel.send('x')).rejects.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
    await expect(p.ready()).rejects.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
    p.reconnect();
    await p.ready();
    expect(s.totalSockets()).toBe(2);
    // The registry resubscribes the channel on the new socket.
    await s.waitForMessages((r) => r.filter((m) => m.data === '{"t":"sub","c":"c"}').length === 2);
  });

  it('reconnects after 1008 when retryOnPolicyClose is set', async () => {
    const clock = manualClock();
    const s = await server();
    const p = await pool(s.url, { clock, retryOnPolicyClose: true });
    await p.ready();
    s.closeAll(1008);
    await eventually(() => expect(p.stats().sockets.backoff).toBe(1));
  });

  it.each([1012, 1013, 1014])('waits at least retryLaterMs after %i (restart / try later)', async (code) => {
    const clock = manualClock();
    const s = await server();
    const reconnects = collect<WsReconnectMessage>(WS_CHANNELS.reconnect);
    const p = await pool(s.url, { clock, retryLaterMs: 3_000, backoffBaseMs: 100 });
    await p.ready();
    s.closeAll(code);
    await eventually(() => expect(reconnects).toHaveLength(1));
    expect(reconnects[0]!.closeCode).toBe(code);
    expect(reconnects[0]!.delayMs).toBeGreaterThanOrEqual(3_000);
    expect(reconnects[0]!.delayMs).toBeLessThan(3_100);
  });

  it('retries a 1000 sent by the server (a restart) but never one it sent itself', async () => {
    const clock = manualClock();
    const s = await server();
    const states = collect<WsStateMessage>(WS_CHANNELS.state);
    const p = await pool(s.url, { clock });
    await p.ready();
    s.closeAll(1000);
    await eventually(() => expect(p.stats().sockets.backoff).toBe(1));
    await p.close();
    expect(states.at(-1)).toMatchObject({ to: 'closed' });
    expect(p.stats().reconnects).toBe(1);
  });

  it('honours Retry-After on a 429 handshake, plus jitter', async () => {
    const clock = manualClock();
    const s = await server();
    s.rejectHandshakes({ status: 429, headers: { 'retry-after': '7' } });
    const reconnects = collect<WsReconnectMessage>(WS_CHANNELS.reconnect);
    const p = await pool(s.url, { clock, backoffBaseMs: 100 });
    await eventually(() => expect(reconnects).toHaveLength(1));
    expect(reconnects[0]!.error).toMatchObject({ code: 'ERR_BERTH_WS_HANDSHAKE' });
    expect(reconnects[0]!.delayMs).toBeGreaterThanOrEqual(7_000);
    expect(reconnects[0]!.delayMs).toBeLessThan(7_100);
    s.rejectHandshakes(undefined);
    clock.advance(7_100);
    await p.ready();
  });

  it('gives up on a 404 handshake and says why', async () => {
    const s = await server();
    s.rejectHandshakes({ status: 404 });
    const states = collect<WsStateMessage>(WS_CHANNELS.state);
    const p = await pool(s.url, { clock: manualClock() });
    await expect(p.ready()).rejects.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
    expect(states.at(-1)).toMatchObject({ to: 'errored' });
    expect(p.stats().sockets.errored).toBe(1);
  });

  it('goes errored after maxRetries failed attempts, and reconnect() starts over', async () => {
    const clock = manualClock();
    const s = await server();
    s.rejectHandshakes({ status: 503 });
    const reconnects = collect<WsReconnectMessage>(WS_CHANNELS.reconnect);
    const p = await pool(s.url, { clock, maxRetries: 2, retryLaterMs: 0, backoffBaseMs: 10 });
    const waiting = p.ready({ timeoutMs: 5 });
    clock.advance(5);
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_BERTH_TIMEOUT' });
    await eventually(() => expect(reconnects).toHaveLength(1));
    clock.advance(10);
    await eventually(() => expect(reconnects).toHaveLength(2));
    clock.advance(20);
    await eventually(() => expect(p.stats().sockets.errored).toBe(1));
    s.rejectHandshakes(undefined);
    p.reconnect();
    await p.ready();
  });

  it('times out a handshake that never completes (blackholed) and retries', async () => {
    const clock = manualClock();
    const s = await server();
    const proxy = track(await startFaultProxy({ host: '127.0.0.1', port: s.port }, { mode: 'blackhole' }));
    const reconnects = collect<WsReconnectMessage>(WS_CHANNELS.reconnect);
    const p = await pool(`wss://127.0.0.1:${proxy.port}`, { clock, handshakeTimeoutMs: 2_000 });
    await eventually(() => expect(proxy.connectionCount()).toBe(1));
    clock.advance(2_000);
    await eventually(() => expect(reconnects).toHaveLength(1));
    expect(reconnects[0]!.error).toMatchObject({ code: 'ERR_BERTH_WS_HANDSHAKE' });
    expect(p.stats().sockets.backoff).toBe(1);
  });

  it('goes errored with the reason when ws refuses to start (invalid header value)', async () => {
    const s = await server();
    const p = await pool(s.url, { clock: manualClock(), headers: { 'x-bad': 'line\nbreak' } });
    await expect(p.ready()).rejects.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
    expect(p.stats().sockets.errored).toBe(1);
    await expect(p.send('x')).rejects.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED', cause: expect.objectContaining({ code: 'ERR_BERTH_WS_HANDSHAKE' }) });
  });

  it('reconnect() skips the remaining backoff', async () => {
    const clock = manualClock();
    const s = await server();
    const p = await pool(s.url, { clock, backoffBaseMs: 20_000, random: { next: () => 0.99 } });
    await p.ready();
    s.cutAll();
    await eventually(() => expect(p.stats().sockets.backoff).toBe(1));
    p.reconnect();
    await p.ready();
    expect(s.totalSockets()).toBe(2);
  });

  it('a custom classifier overrides the default (4500 normally retries)', async () => {
    const clock = manualClock();
    const s = await server();
    const p = await pool(s.url, { clock, classifyClose: (info) => (info.code === 4500 ? { action: 'stop' } : undefined) });
    await p.ready();
    s.closeAll(4500);
    await eventually(() => expect(p.stats().sockets.errored).toBe(1));
  });
});

import { WS_CHANNELS } from '@berth/core-types';
import type { WsReconnectMessage } from '@berth/core-types';
import { startFaultProxy } from '@berth/testkit';
import type { TestWsServer } from '@berth/testkit';
import { describe, expect, it } from 'vitest';
import { collect, pool, server, track, eventually } from '../test/fixtures.js';
import { manualClock } from '../test/manual-clock.js';
import { createWsPool } from './ws-pool.js';

describe('WsPool basics', () => {
  it('connects over TLS through the TlsConnector and echoes a channel message', async () => {
    const s = await server();
    const p = await pool(s.url);
    const channel = p.channel('news');
    const iterator = channel[Symbol.asyncIterator]();
    await expect(channel.send({ hello: 1 })).resolves.toBe('written');
    await p.ready();
    const first = await iterator.next();
    expect(first.value).toEqual({ hello: 1 });
    expect(s.received.map((m) => m.data)).toEqual(['{"t":"sub","c":"news"}', '{"c":"news","d":{"hello":1}}']);
    expect(p.stats().sockets.ready).toBe(1);
  });

  it('refuses ws: URLs unless allowCleartext is set, listing every bad option at once', () => {
    expect(() => createWsPool('ws://127.0.0.1:1', { size: 0, ttlMs: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_BERTH_CONFIG', problems: expect.arrayContaining([expect.objectContaining({ path: 'url' }), expect.objectContaining({ path: 'size' }), expect.objectContaining({ path: 'ttlMs' })]) }),
    );
  });

  it('sends custom headers and subprotocols, verifies the certificate against servername, and offers no permessage-deflate', async () => {
    const s = await server();
    const p = await pool(s.url, { headers: { authorization: 'Bearer t' }, protocols: ['v2.proto'], servername: 'localhost' });
    await p.ready();
    expect(s.handshakes[0]).toMatchObject({ authorization: 'Bearer t', 'sec-websocket-protocol': 'v2.proto' });
    expect(s.handshakes[0]?.['sec-websocket-extensions']).toBeUndefined();
  });

  it('does not connect when the certificate does not cover servername, and retries with backoff', async () => {
    const s = await server();
    const reconnects = collect<WsReconnectMessage>(WS_CHANNELS.reconnect);
    const p = await pool(s.url, { servername: 'wrong.example', clock: manualClock() });
    await eventually(() => expect(reconnects).toHaveLength(1));
    expect(reconnects[0]!.error).toMatchObject({ code: 'ERR_BERTH_WS_HANDSHAKE' });
    expect(reconnects[0]!.error?.message).toMatch(/wrong\.example|altnames|certificate/i);
    expect(p.stats().sockets.backoff).toBe(1);
    expect(s.totalSockets()).toBe(0);
  });

  it('sends raw frames over ws: when allowCleartext is set', async () => {
    const s = await server({ tls: false, echo: false });
    const p = createWsPool(s.url, { allowCleartext: true, pingIntervalMs: 0, clock: manualClock() });
    track(p);
    await expect(p.send('raw-1')).resolves.toBe('written');
    await s.waitForMessages((r) => r.length === 1);
    expect(s.received[0]?.data).toBe('raw-1');
  });
});

describe('delivery across a cut', () => {
  it('delivers every one of 10 000 acked messages exactly once and in order when the server drops the socket mid-stream', async () => {
    const log: number[] = [];
    const last = new Map<string, number>();
    let raw = 0;
    let cut = false;
    const holder: { s?: TestWsServer } = {};
    const s = await server({
      echo: false,
      onMessage(data) {
        const m = JSON.parse(data) as { t?: string; c: string; s: number; d: number };
        if (m.t !== undefined) return undefined;
        raw += 1;
        // The server side of the contract: drop seq <= last seen, ack cumulatively.
        if (m.s > (last.get(m.c) ?? 0)) {
          last.set(m.c, m.s);
          log.push(m.d);
        }
        if (!cut && log.length >= 5_000) {
          cut = true;
          setImmediate(() => holder.s?.cutAll());
        }
        return JSON.stringify({ t: 'ack', c: m.c, s: last.get(m.c) });
      },
    });
    holder.s = s;
    const p = await pool(s.url, { acks: true, maxBufferedMessages: 20_000, backoffBaseMs: 5, backoffCapMs: 20 });
    const channel = p.channel('orders');
    const results = await Promise.all(Array.from({ length: 10_000 }, (_, i) => channel.send(i + 1)));
    expect(results.every((r) => r === 'acked')).toBe(true);
    expect(cut).toBe(true);
    expect(s.totalSockets()).toBe(2);
    expect(log).toEqual(Array.from({ length: 10_000 }, (_, i) => i + 1));
    // Messages in flight at the cut were resent; the server saw them twice and kept one.
    expect(raw).toBeGreaterThanOrEqual(10_000);
    expect(p.stats().reconnects).toBe(1);
    expect(p.stats().lost).toEqual({ 'drop-oldest': 0, 'drop-newest': 0, rejected: 0, expired: 0, closed: 0, aborted: 0 });
  });

  it('writes raw messages buffered during an outage after the reconnect, in order', async () => {
    const clock = manualClock();
    const s = await server({ echo: false });
    const p = await pool(s.url, { clock, backoffBaseMs: 100 });
    await p.ready();
    await p.send('before');
    await s.waitForMessages((r) => r.length === 1);
    s.cutAll();
    await eventually(() => expect(p.stats().sockets.backoff).toBe(1));
    const later = [p.send('during-1'), p.send('during-2')];
    expect(p.stats().bufferedMessages).toBe(2);
    clock.advance(100);
    await expect(Promise.all(later)).resolves.toEqual(['written', 'written']);
    await s.waitForMessages((r) => r.length === 3);
    expect(s.received).toEqual([
      { socket: 0, data: 'before' },
      { socket: 1, data: 'during-1' },
      { socket: 1, data: 'during-2' },
    ]);
  });
});

describe('heartbeat', () => {
  it('terminates a blackholed socket when the pong does not come, then reconnects', async () => {
    const clock = manualClock();
    const s = await server();
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: s.port });
    track(proxy);
    const beats = collect<{ timedOut: boolean }>(WS_CHANNELS.heartbeat);
    const reconnects = collect<WsReconnectMessage>(WS_CHANNELS.reconnect);
    const p = await pool(`wss://127.0.0.1:${proxy.port}`, { clock, pingIntervalMs: 1_000, pongTimeoutMs: 500 });
    await p.ready();
    await proxy.set({ mode: 'blackhole' });
    clock.advance(1_000);
    expect(p.stats().sockets.ready).toBe(1);
    clock.advance(500);
    await eventually(() => expect(p.stats().sockets.backoff).toBe(1));
    expect(beats).toContainEqual(expect.objectContaining({ timedOut: true }));
    expect(reconnects[0]).toMatchObject({ attempt: 1, closeCode: 1006, error: { code: 'ERR_BERTH_PING_TIMEOUT' } });
  });

  it('does not count an event-loop stall (pong deadline fired late) as a dead peer, and records the RTT', async () => {
    const clock = manualClock();
    const s = await server();
    const beats = collect<{ timedOut: boolean; rttMs?: number }>(WS_CHANNELS.heartbeat);
    const p = await pool(s.url, { clock, pingIntervalMs: 1_000, pongTimeoutMs: 500 });
    await p.ready();
    clock.advance(1_000);
    // Time jumps past the deadline before the pong could be read: the timer fires 5 s late.
    clock.jump(5_500);
    expect(p.stats().sockets.ready).toBe(1);
    await eventually(() => expect(beats).toContainEqual(expect.objectContaining({ timedOut: false })));
    clock.advance(100);
    expect(p.stats().sockets.ready).toBe(1);
    expect(s.totalSockets()).toBe(1);
    expect(p.stats().rttMs).toBe(5_500);
  });

  it('treats any frame after the ping as proof of life', async () => {
    const clock = manualClock();
    const s = await server({ ignorePings: true });
    const frames: string[] = [];
    const p = await pool(s.url, {
      clock,
      pingIntervalMs: 1_000,
      pongTimeoutMs: 500,
      onMessage: (data) => frames.push(data.toString()),
    });
    await p.ready();
    clock.advance(1_000);
    s.broadcast('still here');
    await eventually(() => expect(frames).toEqual(['still here']));
    clock.advance(500);
    expect(p.stats().sockets.ready).toBe(1);
    // The next ping gets neither a pong nor a frame: now the peer is dead.
    clock.advance(1_500);
    await eventually(() => expect(p.stats().sockets.backoff).toBe(1));
  });
});

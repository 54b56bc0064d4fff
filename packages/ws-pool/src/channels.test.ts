import { WS_CHANNELS } from '@berth/core-types';
import type { WsRotationMessage } from '@berth/core-types';
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { collect, pool, server, track, eventually } from '../test/fixtures.js';
import { manualClock } from '../test/manual-clock.js';

/**
 * A server speaking the JSON envelope: keeps subscriptions per socket, numbers what it
 * publishes per channel, acks and dedupes what it receives.
 */
async function envelopeServer() {
  const subscribers = new Map<string, Set<WebSocket>>();
  const published = new Map<string, number>();
  const lastSeen = new Map<string, number>();
  const kept: Array<{ channel: string; data: unknown }> = [];
  const s = await server({
    echo: false,
    onMessage(data, socket) {
      const m = JSON.parse(data) as { t?: string; c: string; s?: number; d?: unknown };
      if (m.t === 'sub') {
        const set = subscribers.get(m.c) ?? new Set();
        set.add(socket);
        subscribers.set(m.c, set);
        return undefined;
      }
      if (m.t === 'unsub') {
        subscribers.get(m.c)?.delete(socket);
        return undefined;
      }
      if (m.s === undefined) {
        kept.push({ channel: m.c, data: m.d });
        return undefined;
      }
      if (m.s > (lastSeen.get(m.c) ?? 0)) {
        lastSeen.set(m.c, m.s);
        kept.push({ channel: m.c, data: m.d });
      }
      return JSON.stringify({ t: 'ack', c: m.c, s: lastSeen.get(m.c) });
    },
    onConnection(socket) {
      socket.on('close', () => {
        for (const set of subscribers.values()) set.delete(socket);
      });
    },
  });
  const publish = (channel: string) => {
    const seq = (published.get(channel) ?? 0) + 1;
    published.set(channel, seq);
    for (const socket of subscribers.get(channel) ?? []) socket.send(JSON.stringify({ c: channel, s: seq, d: seq }));
  };
  return { s, subscribers, kept, publish };
}

describe('channels', () => {
  it('rotates at maxAgeMs make-before-break: the channel sees every published message once, and the server every sent one', async () => {
    const clock = manualClock();
    const { s, subscribers, kept, publish } = await envelopeServer();
    const rotations = collect<WsRotationMessage>(WS_CHANNELS.rotation);
    const p = await pool(s.url, { clock, acks: true, maxAgeMs: 60_000, maxAgeJitter: 0 });
    const ticks = p.channel('ticks');
    const received: unknown[] = [];
    const reader = (async () => {
      for await (const value of ticks) received.push(value);
    })();
    await p.ready();
    await eventually(() => expect(subscribers.get('ticks')?.size).toBe(1));
    let sent = 0;
    const sends: Array<Promise<unknown>> = [];
    const producer = setInterval(() => {
      publish('ticks');
      sends.push(ticks.send((sent += 1)));
    }, 1);
    track({ close: () => Promise.resolve(clearInterval(producer)) });
    await eventually(() => expect(received.length).toBeGreaterThan(20));
    const before = ticks.socketId();
    clock.advance(60_000);
    await eventually(() => expect(rotations).toHaveLength(1));
    const atRotation = received.length;
    await eventually(() => expect(received.length).toBeGreaterThan(atRotation + 20));
    clearInterval(producer);
    await Promise.all(sends);
    expect(ticks.socketId()).not.toBe(before);
    expect(rotations[0]).toMatchObject({ oldSocketId: before, newSocketId: ticks.socketId(), channelsMoved: 1, reason: 'max-age' });
    expect(s.totalSockets()).toBe(2);
    await eventually(() => expect(s.sockets()).toHaveLength(1));
    // Inbound: contiguous, no gap and no duplicate across the two sockets.
    const first = received[0] as number;
    expect(received).toEqual(Array.from({ length: received.length }, (_, i) => first + i));
    // Outbound: everything sent, exactly once, in order.
    expect(kept.map((k) => k.data)).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
    await ticks.close();
    await reader;
  });

  it('places channels least-loaded, or sticky by key, within maxChannelsPerSocket', async () => {
    const s = await server({ echo: false });
    const p = await pool(s.url, { clock: manualClock(), size: 3, maxChannelsPerSocket: 2 });
    const a = p.channel('a');
    const b = p.channel('b');
    const c = p.channel('c');
    expect(new Set([a.socketId(), b.socketId(), c.socketId()]).size).toBe(3);
    expect(p.channel('a')).toBe(a);
    const k1 = p.channel('k1', { key: 'user-42' });
    await k1.close();
    const again = p.channel('k1b', { key: 'user-42' });
    expect(again.socketId()).toBe(k1.socketId());
    p.channel('d');
    p.channel('e');
    expect(() => p.channel('f')).toThrow(expect.objectContaining({ code: 'ERR_BERTH_QUEUE_FULL' }));
  });

  it('drops duplicate inbound messages by seq and hands the rest to the reader in order', async () => {
    const s = await server({ echo: false });
    const p = await pool(s.url);
    const channel = p.channel('d');
    await p.ready();
    for (const seq of [1, 2, 2, 1, 3]) s.broadcast(JSON.stringify({ c: 'd', s: seq, d: seq }));
    s.broadcast(JSON.stringify({ c: 'other', d: 0 }));
    const iterator = channel[Symbol.asyncIterator]();
    const values = [(await iterator.next()).value, (await iterator.next()).value, (await iterator.next()).value];
    expect(values).toEqual([1, 2, 3]);
    await eventually(() => expect(channel.stats().duplicates).toBe(2));
    expect(p.channelStats()).toEqual([expect.objectContaining({ name: 'd', received: 3, duplicates: 2 })]);
  });

  it('closing a channel unsubscribes, rejects its buffered sends and ends its reader', async () => {
    const s = await server({ echo: false });
    const p = await pool(s.url, { clock: manualClock(), onOpen: () => new Promise<void>(() => undefined) });
    const channel = p.channel('gone');
    const pending = channel.send('x');
    const iterator = channel[Symbol.asyncIterator]();
    const next = iterator.next();
    await channel.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
    await expect(next).resolves.toEqual({ value: undefined, done: true });
    await expect(channel.send('y')).rejects.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
    expect(channel.closed).toBe(true);
  });

  it('rejects unacked messages with maybeDelivered when the pool closes', async () => {
    const s = await server({ echo: false });
    const p = await pool(s.url, { acks: true });
    const channel = p.channel('u');
    await p.ready();
    const outcome = channel.send('never acked').then(
      () => undefined,
      (error: unknown) => error,
    );
    await s.waitForMessages((r) => r.length === 2);
    expect(channel.stats().unacked).toBe(1);
    await p.close();
    await expect(outcome).resolves.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED', details: expect.objectContaining({ maybeDelivered: true }) });
  });

  it('moves the channels of a socket that gave up to a healthy one instead of failing them', async () => {
    let closed = false;
    const s = await server({
      echo: false,
      onMessage(data, socket) {
        if (!closed && data === '{"t":"sub","c":"a"}') {
          closed = true;
          socket.close(4500, 'go away for good');
        }
        return undefined;
      },
    });
    const p = await pool(s.url, { clock: manualClock(), size: 2, classifyClose: (info) => (info.code === 4500 ? { action: 'stop' } : undefined) });
    await p.ready();
    const channel = p.channel('a');
    const first = channel.socketId();
    await eventually(() => expect(p.stats().sockets.errored).toBe(1));
    expect(channel.socketId()).not.toBe(first);
    await expect(channel.send('still here')).resolves.toBe('written');
    await s.waitForMessages((r) => r.some((m) => m.data === '{"c":"a","d":"still here"}'));
    expect(s.received.filter((m) => m.data === '{"t":"sub","c":"a"}')).toHaveLength(2);
  });

  it('rotate() moves channels and buffered raw messages to a fresh socket on demand', async () => {
    const { s, subscribers } = await envelopeServer();
    const rotations = collect<WsRotationMessage>(WS_CHANNELS.rotation);
    const p = await pool(s.url, { closeTimeoutMs: 50 });
    const a = p.channel('a');
    await p.ready();
    const before = a.socketId();
    await p.rotate();
    expect(a.socketId()).not.toBe(before);
    expect(rotations).toEqual([expect.objectContaining({ reason: 'manual', channelsMoved: 1 })]);
    await eventually(() => expect([...(subscribers.get('a') ?? [])]).toHaveLength(1));
    expect(p.stats().rotations).toBe(1);
  });

  it('closes both sockets when the pool closes in the middle of a rotation', async () => {
    const s = await server({ echo: false });
    const p = await pool(s.url, { clock: manualClock() });
    p.channel('a');
    await p.ready();
    const rotating = p.rotate();
    await s.waitForMessages((r) => r.filter((m) => m.data === '{"t":"sub","c":"a"}').length === 2);
    expect(p.stats().details).toHaveLength(2);
    await p.close();
    await rotating;
    expect(p.stats().sockets.closed).toBe(1);
    await eventually(() => expect(s.connectionCount()).toBe(0));
  });

  it('keeps the old socket when the replacement cannot open', async () => {
    const s = await server({ echo: false });
    const p = await pool(s.url);
    const a = p.channel('a');
    await p.ready();
    const before = a.socketId();
    s.rejectHandshakes({ status: 404 });
    await p.rotate();
    expect(a.socketId()).toBe(before);
    expect(p.stats().rotations).toBe(0);
    await expect(a.send('still')).resolves.toBe('written');
  });

  it('drops the oldest received messages for a reader that falls behind, counts and logs it once', async () => {
    const s = await server({ echo: false });
    const warnings: string[] = [];
    const logger = { debug: () => {}, info: () => {}, warn: (m: string) => warnings.push(m), error: () => {} };
    const p = await pool(s.url, { maxInboundMessages: 2, logger });
    const channel = p.channel('slow');
    await p.ready();
    for (let i = 1; i <= 5; i += 1) s.broadcast(JSON.stringify({ c: 'slow', d: i }));
    await eventually(() => expect(channel.stats().received).toBe(5));
    expect(channel.stats().overflowed).toBe(3);
    expect(warnings).toHaveLength(1);
    const iterator = channel[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toBe(4);
  });

  it('refuses a message the codec cannot encode', async () => {
    const s = await server({ echo: false });
    const p = await pool(s.url, { clock: manualClock() });
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    await expect(p.channel('x').send(circular)).rejects.toMatchObject({ code: 'ERR_BERTH_INVALID_REQUEST' });
  });
});

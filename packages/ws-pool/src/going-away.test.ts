import { WS_CHANNELS } from '@berth/core-types';
import type { WsMessageLostMessage, WsReconnectMessage, WsRotationMessage, WsStateMessage } from '@berth/core-types';
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { collect, deferred, pool, server, eventually } from '../test/fixtures.js';
import { manualClock } from '../test/manual-clock.js';

const SUB = '{"t":"sub","c":"c"}';

/** A server that records each accepted socket and greets every subscription with a channel message. */
async function drainingServer() {
  const sockets: WebSocket[] = [];
  const s = await server({
    echo: false,
    onConnection: (socket) => sockets.push(socket),
    onMessage: (data) => (data === SUB ? '{"c":"c","d":"welcome"}' : undefined),
  });
  const bySocket = (index: number) => s.received.filter((m) => m.socket === index).map((m) => m.data);
  return { s, sockets, bySocket };
}

describe('server closes with 1001 (going away)', () => {
  it('redials at once with no backoff, resubscribes, and writes what was sent during the gap in order', async () => {
    const clock = manualClock();
    const { s, sockets, bySocket } = await drainingServer();
    const reconnects = collect<WsReconnectMessage>(WS_CHANNELS.reconnect);
    const lost = collect<WsMessageLostMessage>(WS_CHANNELS.messageLost);
    const p = await pool(s.url, { clock, backoffBaseMs: 10_000 });
    const channel = p.channel('c');
    await p.ready();
    await expect(channel.send('before')).resolves.toBe('written');
    await s.waitForMessages((r) => r.length === 2);
    sockets[0]!.close(1001, 'draining');
    await eventually(() => expect(reconnects).toHaveLength(1));
    expect(reconnects[0]).toMatchObject({ closeCode: 1001, delayMs: 0, attempt: 1 });
    const gap = [channel.send('gap-1'), p.send('raw'), channel.send('gap-2')];
    // No clock advance: the new connection does not wait for a backoff timer.
    await expect(Promise.all(gap)).resolves.toEqual(['written', 'written', 'written']);
    await s.waitForMessages((r) => r.length === 6);
    expect(bySocket(0)).toEqual([SUB, '{"c":"c","d":"before"}']);
    expect(bySocket(1)).toEqual([SUB, '{"c":"c","d":"gap-1"}', 'raw', '{"c":"c","d":"gap-2"}']);
    expect(s.totalSockets()).toBe(2);
    expect(lost).toEqual([]);
  });

  it('backs off on a second 1001 before minUptimeMs (a flapping endpoint is not hammered)', async () => {
    const clock = manualClock();
    const { s, sockets } = await drainingServer();
    const reconnects = collect<WsReconnectMessage>(WS_CHANNELS.reconnect);
    const p = await pool(s.url, { clock, backoffBaseMs: 1_000, minUptimeMs: 5_000, random: { next: () => 0.5 } });
    await p.ready();
    sockets[0]!.close(1001);
    await eventually(() => expect(reconnects).toHaveLength(1));
    await p.ready();
    expect(s.totalSockets()).toBe(2);
    sockets[1]!.close(1001);
    await eventually(() => expect(reconnects).toHaveLength(2));
    expect(reconnects[1]).toMatchObject({ closeCode: 1001, attempt: 2 });
    expect(reconnects[1]!.delayMs).toBe(1_000); // 0.5 × min(cap, 1 000 × 2¹)
    expect(p.stats().sockets.backoff).toBe(1);
    clock.advance(1_000);
    await p.ready();
    expect(s.totalSockets()).toBe(3);
  });
});

describe('server closes with 1012 (service restart)', () => {
  it('keeps buffered sends and channels through the retryLaterMs floor, then replays them in order', async () => {
    const clock = manualClock();
    const { s, sockets, bySocket } = await drainingServer();
    const reconnects = collect<WsReconnectMessage>(WS_CHANNELS.reconnect);
    const p = await pool(s.url, { clock, retryLaterMs: 2_000, backoffBaseMs: 100, random: { next: () => 0 } });
    const channel = p.channel('c');
    await p.ready();
    sockets[0]!.close(1012, 'restart');
    await eventually(() => expect(reconnects).toHaveLength(1));
    expect(reconnects[0]).toMatchObject({ closeCode: 1012, delayMs: 2_000 });
    const sends = [channel.send('one'), channel.send('two'), p.send('three')];
    clock.advance(1_999);
    expect(s.totalSockets()).toBe(1);
    expect(p.stats().bufferedMessages).toBe(3);
    clock.advance(1);
    await expect(Promise.all(sends)).resolves.toEqual(['written', 'written', 'written']);
    await s.waitForMessages((r) => r.length === 5);
    expect(bySocket(1)).toEqual([SUB, '{"c":"c","d":"one"}', '{"c":"c","d":"two"}', 'three']);
  });
});

describe('going-away hint before the close (make-before-break)', () => {
  it('dials the replacement at once, moves the channel, and closes the old socket only after the new subscription is live', async () => {
    const clock = manualClock();
    const { s, sockets, bySocket } = await drainingServer();
    const rotations = collect<WsRotationMessage>(WS_CHANNELS.rotation);
    const p = await pool(s.url, { clock });
    const channel = p.channel('c');
    const iterator = channel[Symbol.asyncIterator]();
    await p.ready();
    expect((await iterator.next()).value).toBe('welcome');
    const firstId = channel.socketId();
    sockets[0]!.send('{"t":"goaway","r":"deploy"}');
    await eventually(() => expect(rotations).toHaveLength(1));
    expect(rotations[0]).toMatchObject({ reason: 'going-away: deploy', channelsMoved: 1, oldSocketId: firstId });
    expect(channel.socketId()).not.toBe(firstId);
    expect((await iterator.next()).value).toBe('welcome'); // from the replacement
    await expect(channel.send('after')).resolves.toBe('written');
    await s.waitForMessages((r) => r.some((m) => m.data === '{"c":"c","d":"after"}'));
    expect(bySocket(1)).toEqual([SUB, '{"c":"c","d":"after"}']);
    await eventually(() => expect(s.sockets()).toHaveLength(1));
    expect(p.stats().sockets).toMatchObject({ ready: 1, backoff: 0, connecting: 0 });
    expect(s.totalSockets()).toBe(2);
  });

  it('loses nothing when the old socket closes with 1001 before the replacement is ready: it waits instead of redialling, and its buffer moves over in order', async () => {
    const clock = manualClock();
    const { s, sockets, bySocket } = await drainingServer();
    const lost = collect<WsMessageLostMessage>(WS_CHANNELS.messageLost);
    const rotations = collect<WsRotationMessage>(WS_CHANNELS.rotation);
    const gate = deferred();
    let opens = 0;
    const p = await pool(s.url, {
      clock,
      // The first connection is ready at once; the replacement waits in onOpen until the test releases it.
      onOpen: () => (opens++ === 0 ? undefined : gate.promise),
    });
    const channel = p.channel('c');
    await p.ready();
    await expect(channel.send('a')).resolves.toBe('written');
    sockets[0]!.send('{"t":"goaway"}');
    await eventually(() => expect(p.stats().sockets.open).toBe(1)); // the replacement, held in onOpen
    sockets[0]!.close(1001);
    await eventually(() => expect(p.stats().sockets.backoff).toBe(1)); // the old one waits, it does not redial
    const sends = [channel.send('b'), p.send('raw'), channel.send('c')];
    expect(p.stats().bufferedMessages).toBe(3);
    gate.resolve();
    await expect(Promise.all(sends)).resolves.toEqual(['written', 'written', 'written']);
    await eventually(() => expect(rotations).toHaveLength(1));
    expect(rotations[0]).toMatchObject({ reason: 'going-away', channelsMoved: 1 });
    await s.waitForMessages((r) => r.length === 6);
    expect(bySocket(0)).toEqual([SUB, '{"c":"c","d":"a"}']);
    expect(bySocket(1)).toEqual([SUB, '{"c":"c","d":"b"}', 'raw', '{"c":"c","d":"c"}']);
    expect(s.totalSockets()).toBe(2);
    expect(p.stats().sockets).toMatchObject({ ready: 1, backoff: 0 });
    expect(lost).toEqual([]);
  });

  it('parks a closed old socket while the replacement opens, and reconnects it when the replacement fails', async () => {
    const clock = manualClock();
    const { s, sockets, bySocket } = await drainingServer();
    const lost = collect<WsMessageLostMessage>(WS_CHANNELS.messageLost);
    const gate = deferred();
    let opens = 0;
    const p = await pool(s.url, {
      clock,
      backoffBaseMs: 100,
      random: { next: () => 0.5 },
      // The replacement's auth fails once the test releases it; every other connection is ready at once.
      onOpen: async () => {
        if (opens++ !== 1) return;
        await gate.promise;
        throw new Error('token refused');
      },
      classifyClose: (info) => (info.error?.message.includes('token refused') === true ? { action: 'stop' } : undefined),
    });
    const channel = p.channel('c');
    await p.ready();
    sockets[0]!.send('{"t":"goaway"}');
    await eventually(() => expect(p.stats().sockets.open).toBe(1));
    sockets[0]!.close(1001);
    await eventually(() => expect(p.stats().sockets.backoff).toBe(1));
    clock.advance(1_000); // the old socket's backoff runs out: it stays parked, no third connection
    const sends = [channel.send('x'), p.send('y')];
    expect(s.totalSockets()).toBe(2);
    gate.resolve();
    await expect(Promise.all(sends)).resolves.toEqual(['written', 'written']);
    await s.waitForMessages((r) => r.filter((m) => m.socket === 2).length === 3);
    expect(bySocket(2)).toEqual([SUB, '{"c":"c","d":"x"}', 'y']);
    expect(s.totalSockets()).toBe(3);
    expect(p.stats()).toMatchObject({ rotations: 0, sockets: expect.objectContaining({ ready: 1, errored: 0 }) });
    expect(lost).toEqual([]);
  });

  it('keeps serving on the old socket when the replacement cannot open; a later 1001 then redials at once', async () => {
    const clock = manualClock();
    const { s, sockets } = await drainingServer();
    const states = collect<WsStateMessage>(WS_CHANNELS.state);
    const reconnects = collect<WsReconnectMessage>(WS_CHANNELS.reconnect);
    const p = await pool(s.url, { clock, backoffBaseMs: 10_000 });
    await p.ready();
    s.rejectHandshakes({ status: 404 }); // the replacement gives up: errored
    sockets[0]!.send('{"t":"goaway"}');
    await eventually(() => expect(states.some((e) => e.to === 'errored')).toBe(true));
    await eventually(() => expect(p.stats().details).toHaveLength(1));
    await expect(p.send('still on the old socket')).resolves.toBe('written');
    s.rejectHandshakes(undefined);
    sockets[0]!.close(1001);
    await eventually(() => expect(reconnects).toHaveLength(1));
    expect(reconnects[0]).toMatchObject({ delayMs: 0 });
    await p.ready();
    expect(p.stats().rotations).toBe(0);
    expect(s.totalSockets()).toBe(2);
  });

  it('with acks, delivers every one of 10 000 messages exactly once and in order when a draining server hints, drops what it gets afterwards, then closes with 1001', async () => {
    const log: number[] = [];
    let last = 0;
    let dropped = 0;
    let draining: number | undefined;
    const s = await server({
      echo: false,
      onMessage(data, socket, index) {
        const m = JSON.parse(data) as { t?: string; c: string; s: number; d: number };
        if (m.t !== undefined) return undefined;
        if (index === draining) {
          // Worst case for the client: the draining instance neither keeps nor acks anything more.
          dropped += 1;
          if (dropped === 100) setImmediate(() => socket.close(1001, 'drained'));
          return undefined;
        }
        if (m.s > last) {
          last = m.s;
          log.push(m.d);
        }
        if (draining === undefined && log.length >= 3_000) {
          draining = index;
          setImmediate(() => socket.send('{"t":"goaway","r":"deploy"}'));
        }
        return JSON.stringify({ t: 'ack', c: m.c, s: last });
      },
    });
    const rotations = collect<WsRotationMessage>(WS_CHANNELS.rotation);
    const p = await pool(s.url, { acks: true, maxBufferedMessages: 20_000, closeTimeoutMs: 200, backoffBaseMs: 5, backoffCapMs: 20 });
    const channel = p.channel('orders');
    const results = await Promise.all(Array.from({ length: 10_000 }, (_, i) => channel.send(i + 1)));
    expect(results.every((r) => r === 'acked')).toBe(true);
    expect(log).toEqual(Array.from({ length: 10_000 }, (_, i) => i + 1));
    expect(dropped).toBeGreaterThan(0);
    await eventually(() => expect(rotations).toHaveLength(1));
    expect(rotations[0]).toMatchObject({ reason: 'going-away: deploy', channelsMoved: 1 });
    expect(s.totalSockets()).toBe(2);
    expect(p.stats().lost).toEqual({ 'drop-oldest': 0, 'drop-newest': 0, rejected: 0, expired: 0, closed: 0, aborted: 0 });
  });
});

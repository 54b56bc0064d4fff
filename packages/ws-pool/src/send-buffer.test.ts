import { WS_CHANNELS } from '@berth/core-types';
import type { WsMessageLostMessage } from '@berth/core-types';
import { describe, expect, it } from 'vitest';
import { collect, deferred, pool, server, eventually } from '../test/fixtures.js';
import { manualClock } from '../test/manual-clock.js';
import type { WsOpenContext } from './open-context.js';

/** A pool whose sockets stay in `open` (auth pending) until `release()`: every send is buffered. */
async function held(options: Parameters<typeof pool>[1] = {}) {
  const s = await server({ echo: false });
  const gate = deferred();
  const p = await pool(s.url, { clock: manualClock(), onOpen: () => gate.promise, ...options });
  await eventually(() => expect(p.stats().sockets.open).toBe(1));
  return { s, p, release: gate.resolve };
}

describe('bounded send buffer', () => {
  it('reject: refuses the message over maxBufferedMessages with ERR_BERTH_WS_BUFFER_FULL and keeps the others', async () => {
    const lost = collect<WsMessageLostMessage>(WS_CHANNELS.messageLost);
    const { s, p, release } = await held({ maxBufferedMessages: 2 });
    const a = p.send('a');
    const b = p.send('b');
    await expect(p.send('c')).rejects.toMatchObject({ code: 'ERR_BERTH_WS_BUFFER_FULL' });
    release();
    await expect(Promise.all([a, b])).resolves.toEqual(['written', 'written']);
    await s.waitForMessages((r) => r.length === 2);
    expect(s.received.map((m) => m.data)).toEqual(['a', 'b']);
    expect(lost).toEqual([expect.objectContaining({ reason: 'rejected', bytes: 1 })]);
    expect(p.stats().lost.rejected).toBe(1);
  });

  it('reject: counts bytes too (maxBufferedBytes)', async () => {
    const { p } = await held({ maxBufferedBytes: 5 });
    void p.send('abc').catch(() => undefined);
    await expect(p.send('def')).rejects.toMatchObject({ code: 'ERR_BERTH_WS_BUFFER_FULL', details: expect.objectContaining({ bytes: 3 }) });
    expect(p.stats().bufferedBytes).toBe(3);
  });

  it('drop-oldest: evicts the oldest message with ERR_BERTH_WS_DROPPED to make room', async () => {
    const lost = collect<WsMessageLostMessage>(WS_CHANNELS.messageLost);
    const { s, p, release } = await held({ maxBufferedMessages: 2, overflow: 'drop-oldest' });
    const a = p.send('a');
    const b = p.send('b');
    const c = p.send('c');
    await expect(a).rejects.toMatchObject({ code: 'ERR_BERTH_WS_DROPPED' });
    release();
    await expect(Promise.all([b, c])).resolves.toEqual(['written', 'written']);
    await s.waitForMessages((r) => r.length === 2);
    expect(s.received.map((m) => m.data)).toEqual(['b', 'c']);
    expect(lost).toEqual([expect.objectContaining({ reason: 'drop-oldest' })]);
  });

  it('drop-newest: discards the new message with ERR_BERTH_WS_DROPPED and keeps the buffered ones', async () => {
    const lost = collect<WsMessageLostMessage>(WS_CHANNELS.messageLost);
    const { s, p, release } = await held({ maxBufferedMessages: 2, overflow: 'drop-newest' });
    const a = p.send('a');
    const b = p.send('b');
    await expect(p.send('c')).rejects.toMatchObject({ code: 'ERR_BERTH_WS_DROPPED' });
    release();
    await expect(Promise.all([a, b])).resolves.toEqual(['written', 'written']);
    await s.waitForMessages((r) => r.length === 2);
    expect(s.received.map((m) => m.data)).toEqual(['a', 'b']);
    expect(lost).toEqual([expect.objectContaining({ reason: 'drop-newest' })]);
  });

  it('expires a buffered message after its ttlMs with ERR_BERTH_WS_EXPIRED and never sends it late', async () => {
    const s = await server({ echo: false });
    const clock = manualClock();
    const gate = deferred();
    const lost = collect<WsMessageLostMessage>(WS_CHANNELS.messageLost);
    const p = await pool(s.url, { clock, ttlMs: 1_000, onOpen: () => gate.promise });
    const channel = p.channel('c');
    const short = channel.send('short');
    const long = channel.send('long', { ttlMs: 5_000 });
    clock.advance(999);
    expect(p.stats().bufferedMessages).toBe(2);
    clock.advance(1);
    await expect(short).rejects.toMatchObject({ code: 'ERR_BERTH_WS_EXPIRED', details: expect.objectContaining({ channel: 'c' }) });
    expect(p.stats().bufferedMessages).toBe(1);
    gate.resolve();
    await expect(long).resolves.toBe('written');
    await s.waitForMessages((r) => r.length === 2);
    expect(s.received.map((m) => m.data)).toEqual(['{"t":"sub","c":"c"}', '{"c":"c","d":"long"}']);
    expect(lost).toEqual([expect.objectContaining({ reason: 'expired', channel: 'c' })]);
  });

  it('writes auth, then resubscribes every channel, then flushes the buffer in order, on every connection', async () => {
    const clock = manualClock();
    const s = await server({ echo: false, onMessage: (data) => (data === 'auth' ? 'auth-ok' : undefined) });
    const replies: string[] = [];
    const onOpen = async (socket: WsOpenContext) => {
      await socket.send('auth');
      const reply = await socket.nextMessage();
      replies.push(reply.data.toString());
    };
    const p = await pool(s.url, { clock, onOpen, backoffBaseMs: 100 });
    const news = p.channel('news');
    const prices = p.channel('prices');
    const first = [news.send(1), prices.send(2), news.send(3)];
    await Promise.all(first);
    await s.waitForMessages((r) => r.length === 6);
    s.cutAll();
    await eventually(() => expect(p.stats().sockets.backoff).toBe(1));
    const second = [prices.send(4), news.send(5)];
    clock.advance(100);
    await Promise.all(second);
    const bySocket = (i: number) => s.received.filter((m) => m.socket === i).map((m) => m.data);
    expect(bySocket(0)).toEqual([
      'auth',
      '{"t":"sub","c":"news"}',
      '{"t":"sub","c":"prices"}',
      '{"c":"news","d":1}',
      '{"c":"prices","d":2}',
      '{"c":"news","d":3}',
    ]);
    await s.waitForMessages((r) => r.filter((m) => m.socket === 1).length === 5);
    expect(bySocket(1)).toEqual(['auth', '{"t":"sub","c":"news"}', '{"t":"sub","c":"prices"}', '{"c":"prices","d":4}', '{"c":"news","d":5}']);
    expect(replies).toEqual(['auth-ok', 'auth-ok']);
  });

  it('fails the connection (and retries) when onOpen throws or overruns readyTimeoutMs', async () => {
    const clock = manualClock();
    const s = await server();
    let calls = 0;
    const p = await pool(s.url, {
      clock,
      readyTimeoutMs: 1_000,
      backoffBaseMs: 10,
      onOpen: () => {
        calls += 1;
        if (calls === 1) throw new Error('token refused');
        if (calls === 2) return new Promise<void>(() => undefined);
        return undefined;
      },
    });
    await eventually(() => expect(p.stats().sockets.backoff).toBe(1));
    clock.advance(10);
    await eventually(() => expect(p.stats().sockets.open).toBe(1));
    clock.advance(1_000);
    await eventually(() => expect(p.stats().sockets.backoff).toBe(1));
    clock.advance(20);
    await p.ready();
    expect(calls).toBe(3);
  });

  it('makes sends wait above the high-water mark of unconfirmed bytes, and keeps them in order', async () => {
    const s = await server({ echo: false });
    const p = await pool(s.url, { highWaterMarkBytes: 64 * 1024 });
    await p.ready();
    const chunk = 'x'.repeat(32 * 1024);
    const sends = Array.from({ length: 64 }, (_, i) => p.send(`${i}:${chunk}`));
    expect(p.stats().bufferedMessages).toBeGreaterThan(0);
    await Promise.all(sends);
    await s.waitForMessages((r) => r.length === 64);
    expect(s.received.map((m) => Number(m.data.split(':')[0]))).toEqual(Array.from({ length: 64 }, (_, i) => i));
  });

  it('rejects a message over maxPayloadBytes before buffering it', async () => {
    const { p } = await held({ maxPayloadBytes: 4 });
    await expect(p.send('12345')).rejects.toMatchObject({ code: 'ERR_BERTH_INVALID_REQUEST' });
    await expect(p.channel('c').send('12345')).rejects.toMatchObject({ code: 'ERR_BERTH_INVALID_REQUEST' });
  });
});

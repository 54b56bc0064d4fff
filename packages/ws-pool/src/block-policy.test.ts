import { WS_CHANNELS } from '@berth/core-types';
import type { WsMessageLostMessage } from '@berth/core-types';
import { describe, expect, it } from 'vitest';
import { collect, deferred, pool, server, eventually } from '../test/fixtures.js';
import { manualClock } from '../test/manual-clock.js';

/** A pool whose socket stays in `open` (auth pending) until `release()`: every send waits. */
async function held(options: Parameters<typeof pool>[1] = {}) {
  const s = await server({ echo: false });
  const gate = deferred();
  const clock = manualClock();
  const p = await pool(s.url, { clock, onOpen: () => gate.promise, overflow: 'block', ...options });
  await eventually(() => expect(p.stats().sockets.open).toBe(1));
  return { s, p, clock, release: gate.resolve };
}

/** Settles `promise` into a record so a test can look at it without awaiting it. */
function observe<T>(promise: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const seen: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  promise.then(
    (value) => Object.assign(seen, { state: 'resolved', value }),
    (error: unknown) => Object.assign(seen, { state: 'rejected', error }),
  );
  return seen;
}

describe("overflow: 'block'", () => {
  it('holds senders past maxBufferedMessages instead of refusing them, then writes everything in send order', async () => {
    const lost = collect<WsMessageLostMessage>(WS_CHANNELS.messageLost);
    const { s, p, release } = await held({ maxBufferedMessages: 2 });
    const sends = ['a', 'b', 'c', 'd', 'e'].map((data) => observe(p.send(data)));
    await Promise.resolve();
    expect(sends.map((x) => x.state)).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);
    expect(p.stats()).toMatchObject({ bufferedMessages: 2, blockedMessages: 3 });
    release();
    await eventually(() => expect(sends.every((x) => x.state === 'resolved')).toBe(true));
    await s.waitForMessages((r) => r.length === 5);
    expect(s.received.map((m) => m.data)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(p.stats()).toMatchObject({ bufferedMessages: 0, blockedMessages: 0 });
    expect(lost).toEqual([]);
  });

  it('admits blocked senders first come first served: a later small message never overtakes a blocked large one', async () => {
    const { s, p, release } = await held({ maxBufferedBytes: 10 });
    const first = p.send('x'.repeat(8));
    const large = p.send('L'.repeat(9)); // does not fit next to the first: blocks
    const small = p.send('s'); // would fit, but a sender is already blocked: waits behind it
    expect(p.stats()).toMatchObject({ bufferedMessages: 1, blockedMessages: 2 });
    release();
    await Promise.all([first, large, small]);
    await s.waitForMessages((r) => r.length === 3);
    expect(s.received.map((m) => m.data)).toEqual(['x'.repeat(8), 'L'.repeat(9), 's']);
  });

  it('bounds a blocked send by its ttlMs: ERR_BERTH_WS_EXPIRED with details.blocked, and the others keep their place', async () => {
    const lost = collect<WsMessageLostMessage>(WS_CHANNELS.messageLost);
    const { s, p, clock, release } = await held({ maxBufferedMessages: 1, ttlMs: 10_000 });
    const a = p.send('a');
    const b = p.send('b', { ttlMs: 1_000 });
    const c = p.send('c');
    clock.advance(999);
    expect(p.stats().blockedMessages).toBe(2);
    clock.advance(1);
    await expect(b).rejects.toMatchObject({ code: 'ERR_BERTH_WS_EXPIRED', details: expect.objectContaining({ blocked: true }) });
    expect(p.stats()).toMatchObject({ bufferedMessages: 1, blockedMessages: 1 });
    release();
    await expect(Promise.all([a, c])).resolves.toEqual(['written', 'written']);
    await s.waitForMessages((r) => r.length === 2);
    expect(s.received.map((m) => m.data)).toEqual(['a', 'c']);
    expect(lost).toEqual([expect.objectContaining({ reason: 'expired', bytes: 1 })]);
  });

  it('a buffered message that expires frees room for the first blocked sender', async () => {
    const { s, p, clock, release } = await held({ maxBufferedMessages: 1 });
    const a = p.send('a', { ttlMs: 500 });
    const b = p.send('b', { ttlMs: 5_000 });
    clock.advance(500);
    await expect(a).rejects.toMatchObject({ code: 'ERR_BERTH_WS_EXPIRED' });
    expect(p.stats()).toMatchObject({ bufferedMessages: 1, blockedMessages: 0 });
    release();
    await expect(b).resolves.toBe('written');
    await s.waitForMessages((r) => r.length === 1);
    expect(s.received.map((m) => m.data)).toEqual(['b']);
  });

  it('refuses at once a message larger than maxBufferedBytes: it could never fit', async () => {
    const { p } = await held({ maxBufferedBytes: 4 });
    await expect(p.send('12345')).rejects.toMatchObject({ code: 'ERR_BERTH_WS_BUFFER_FULL' });
    expect(p.stats().blockedMessages).toBe(0);
  });

  it('keeps every send of a burst far above the buffer on a ready socket paced by the high-water mark, in order', async () => {
    const s = await server({ echo: false });
    const p = await pool(s.url, { overflow: 'block', maxBufferedMessages: 4, highWaterMarkBytes: 64 });
    await p.ready();
    const payloads = Array.from({ length: 300 }, (_, i) => `m${String(i).padStart(4, '0')}`);
    const results = await Promise.all(payloads.map((data) => p.send(data)));
    expect(results.every((r) => r === 'written')).toBe(true);
    await s.waitForMessages((r) => r.length === 300);
    expect(s.received.map((m) => m.data)).toEqual(payloads);
    expect(p.stats().lost).toMatchObject({ rejected: 0, expired: 0 });
  });

  it('rejects blocked senders with ERR_BERTH_WS_CLOSED when the pool closes', async () => {
    const { p } = await held({ maxBufferedMessages: 1 });
    const a = p.send('a');
    const b = p.send('b');
    const closing = p.close();
    await expect(a).rejects.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
    await expect(b).rejects.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
    await closing;
  });

  it('moves blocked channel messages with the channel when it closes: they are rejected, not left behind', async () => {
    const { p, release } = await held({ maxBufferedMessages: 1 });
    const channel = p.channel('c');
    const a = channel.send('a');
    const b = channel.send('b');
    expect(p.stats().blockedMessages).toBe(1);
    await channel.close();
    await expect(a).rejects.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
    await expect(b).rejects.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
    expect(p.stats()).toMatchObject({ bufferedMessages: 0, blockedMessages: 0 });
    release();
  });
});

describe('AbortSignal on send()', () => {
  it('takes a blocked send back: ERR_BERTH_ABORTED, a message-lost event, and the next sender moves up', async () => {
    const lost = collect<WsMessageLostMessage>(WS_CHANNELS.messageLost);
    const { s, p, release } = await held({ maxBufferedMessages: 1 });
    const controller = new AbortController();
    const a = p.send('a');
    const b = p.send('b', { signal: controller.signal });
    const c = p.send('c');
    controller.abort();
    await expect(b).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
    expect(p.stats()).toMatchObject({ bufferedMessages: 1, blockedMessages: 1, lost: expect.objectContaining({ aborted: 1 }) });
    release();
    await Promise.all([a, c]);
    await s.waitForMessages((r) => r.length === 2);
    expect(s.received.map((m) => m.data)).toEqual(['a', 'c']);
    expect(lost).toEqual([expect.objectContaining({ reason: 'aborted' })]);
  });

  it('takes a buffered send back, on a channel and on a lease too', async () => {
    const { s, p, release } = await held({ overflow: 'reject' });
    const channel = p.channel('c');
    const controller = new AbortController();
    const kept = channel.send('kept');
    const dropped = channel.send('dropped', { signal: controller.signal });
    controller.abort();
    await expect(dropped).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED', details: expect.objectContaining({ channel: 'c' }) });
    release();
    await expect(kept).resolves.toBe('written');
    await s.waitForMessages((r) => r.some((m) => m.data.includes('kept')));
    expect(s.received.some((m) => m.data.includes('dropped'))).toBe(false);
  });

  it('rejects at once when the signal has already fired, on the pool, a channel and a lease', async () => {
    const s = await server({ echo: false });
    const p = await pool(s.url);
    await p.ready();
    const signal = AbortSignal.abort();
    await expect(p.send('x', { signal })).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
    await expect(p.channel('c').send('x', { signal })).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
    const lease = await p.acquire();
    await expect(lease.send('x', { signal })).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED' });
    const controller = new AbortController();
    const waiting = lease.send('y', { signal: controller.signal });
    await expect(waiting).resolves.toBe('written');
    controller.abort(); // written already: nothing to take back
    await lease.release();
    await s.waitForMessages((r) => r.some((m) => m.data === 'y'));
    expect(s.received.map((m) => m.data)).toEqual(['{"t":"sub","c":"c"}', 'y']);
  });

  it('changes nothing once the message was written, and forgets its listener when the send settles', async () => {
    const s = await server({ echo: false });
    const p = await pool(s.url);
    await p.ready();
    const controller = new AbortController();
    let listeners = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    const remove = controller.signal.removeEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners += 1;
      add(...args);
    });
    controller.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      listeners -= 1;
      remove(...args);
    });
    await expect(p.send('x', { signal: controller.signal })).resolves.toBe('written');
    expect(listeners).toBe(0);
    controller.abort();
    expect(p.stats().lost.aborted).toBe(0);
  });
});

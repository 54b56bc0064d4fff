import { describe, expect, it } from 'vitest';
import { WS_CHANNELS } from '@berth/core-types';
import type { WsMessageLostMessage } from '@berth/core-types';
import { collect, eventually, pool, server } from '../test/fixtures.js';
import { manualClock } from '../test/manual-clock.js';
import { resolveOptions as resolveWsPoolOptions } from './options.js';
import { SendRate } from './send-rate.js';

describe('SendRate (token bucket)', () => {
  it('starts full, refills continuously at perSec and never holds more than burst', () => {
    const rate = new SendRate(10, 3, 0);
    expect([rate.tryTake(0), rate.tryTake(0), rate.tryTake(0), rate.tryTake(0)]).toEqual([true, true, true, false]);
    expect(rate.waitMs(0)).toBe(100);
    expect(rate.tryTake(99)).toBe(false);
    expect(rate.tryTake(100)).toBe(true);
    // A long pause refills to burst, not beyond.
    expect(rate.waitMs(10_000)).toBe(0);
    let taken = 0;
    while (rate.tryTake(10_000)) taken += 1;
    expect(taken).toBe(3);
  });

  it('holds the configured rate over a long run within one token', () => {
    const rate = new SendRate(7, 2, 0);
    let taken = 0;
    for (let t = 0; t <= 60_000; t += 5) if (rate.tryTake(t)) taken += 1;
    // The initial burst plus 60 s at 7/s.
    expect(Math.abs(taken - (2 + 7 * 60))).toBeLessThanOrEqual(1);
  });
});

describe('maxMessagesPerSec', () => {
  it('paces writes per connection: the burst goes at once, the rest at the rate, in send order, none lost', async () => {
    const lost = collect<WsMessageLostMessage>(WS_CHANNELS.messageLost);
    const s = await server({ echo: false });
    const clock = manualClock();
    const p = await pool(s.url, { clock, maxMessagesPerSec: 10, burstMessages: 2 });
    await p.ready({ timeoutMs: 5_000 });
    const sends = Array.from({ length: 6 }, (_, i) => p.send(`m${i}`));
    await s.waitForMessages((r) => r.length === 2);
    expect(p.stats().bufferedMessages).toBe(4);
    for (let written = 3; written <= 6; written++) {
      clock.advance(99);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(s.received).toHaveLength(written - 1);
      clock.advance(1);
      await s.waitForMessages((r) => r.length === written);
    }
    await Promise.all(sends);
    expect(s.received.map((m) => m.data)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    expect(lost).toEqual([]);
  });

  it('lets a paced message expire at its ttlMs with ERR_BERTH_WS_EXPIRED rather than wait forever', async () => {
    const s = await server({ echo: false });
    const clock = manualClock();
    const p = await pool(s.url, { clock, maxMessagesPerSec: 1 });
    await p.ready({ timeoutMs: 5_000 });
    await p.send('first');
    const late = p.send('late', { ttlMs: 500 });
    const outcome = expect(late).rejects.toMatchObject({ code: 'ERR_BERTH_WS_EXPIRED' });
    clock.advance(500);
    await outcome;
    clock.advance(1_000);
    await eventually(() => expect(p.stats().bufferedMessages).toBe(0));
    await s.waitForMessages((r) => r.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(s.received.map((m) => m.data)).toEqual(['first']);
  });

  it('gives each new connection a full bucket (servers meter per connection)', async () => {
    const s = await server({ echo: false });
    const clock = manualClock();
    const p = await pool(s.url, { clock, maxMessagesPerSec: 1, burstMessages: 2, size: 2 });
    await p.ready({ timeoutMs: 5_000 });
    await Promise.all([p.send('a'), p.send('b'), p.send('c'), p.send('d')]);
    await s.waitForMessages((r) => r.length === 4);
    expect(new Set(s.received.map((m) => m.socket)).size).toBe(2);
  });

  it('rejects a bad rate or a burst without a rate with ERR_BERTH_CONFIG naming the field', () => {
    expect(() => resolveWsPoolOptions('wss://example.test/', { maxMessagesPerSec: 0 })).toThrow(/maxMessagesPerSec/);
    expect(() => resolveWsPoolOptions('wss://example.test/', { burstMessages: 5 })).toThrow(/burstMessages/);
    expect(() => resolveWsPoolOptions('wss://example.test/', { maxMessagesPerSec: 5, burstMessages: 0.5 })).toThrow(/burstMessages/);
    expect(resolveWsPoolOptions('wss://example.test/', { maxMessagesPerSec: 2.5 }).sendRate).toEqual({ perSec: 2.5, burst: 3 });
  });
});

describe('maxMessagesPerSec with acks', () => {
  it('paces the unacknowledged messages sent again after a reconnect like new ones, ahead of them', async () => {
    const s = await server({ echo: false });
    const clock = manualClock();
    const p = await pool(s.url, { clock, acks: true, maxMessagesPerSec: 5, burstMessages: 5, backoffBaseMs: 1, backoffCapMs: 1 });
    const channel = p.channel('feed');
    await p.ready({ timeoutMs: 5_000 });
    const data = (socket: number) => s.received.filter((m) => m.socket === socket && m.data.includes('"d"'));
    for (let i = 0; i < 8; i++) void channel.send(i).catch(() => undefined);
    await eventually(() => expect(data(0)).toHaveLength(5));
    clock.advance(600);
    await eventually(() => expect(data(0)).toHaveLength(8));
    // Never acknowledged: all eight go again on the next connection, five at once, then at the rate.
    s.cutAll();
    await eventually(() => {
      clock.advance(1);
      expect(s.totalSockets()).toBe(2);
    });
    await eventually(() => expect(data(1)).toHaveLength(5));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(data(1)).toHaveLength(5);
    clock.advance(200);
    await eventually(() => expect(data(1)).toHaveLength(6));
    clock.advance(400);
    await eventually(() => expect(data(1)).toHaveLength(8));
    expect(data(1).map((m) => m.data)).toEqual(data(0).map((m) => m.data));
    await p.close();
  });
});

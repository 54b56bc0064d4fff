import { describe, expect, it } from 'vitest';
import { Deque } from './deque.js';
import { HandshakeGate } from './handshake-gate.js';
import { InboundQueue } from './inbound-queue.js';
import { chooseSlot } from './placement.js';
import { WsClosedError } from './errors.js';

describe('Deque', () => {
  it('keeps FIFO order through shifts, compaction, requeues and removals', () => {
    const d = new Deque<number>();
    for (let i = 0; i < 3_000; i += 1) d.push(i);
    for (let i = 0; i < 2_000; i += 1) expect(d.shift()).toBe(i);
    d.unshiftAll([-2, -1]);
    expect(d.peek()).toBe(-2);
    expect(d.removeIf((n) => n % 2 === 0).length).toBe(501);
    expect(d.removeIf(() => false)).toEqual([]);
    expect([...d].slice(0, 3)).toEqual([-1, 2001, 2003]);
    d.unshiftAll([]);
    expect(d.drain()).toHaveLength(501);
    expect(d.shift()).toBeUndefined();
    expect(d.length).toBe(0);
  });
});

describe('HandshakeGate', () => {
  it('admits up to the limit, first come first served, and lets waiters leave the line', async () => {
    const gate = new HandshakeGate(1);
    const a = gate.enter();
    const b = gate.enter();
    const c = gate.enter();
    await a.granted;
    expect(gate.running).toBe(1);
    b.release();
    a.release();
    a.release();
    await c.granted;
    expect(gate.running).toBe(1);
    c.release();
    expect(gate.running).toBe(0);
  });
});

describe('InboundQueue', () => {
  it('hands messages to one reader, drops the oldest over its bound, and ends with an error', async () => {
    const dropped: number[] = [];
    const q = new InboundQueue<number>(2, (n) => dropped.push(n));
    const it = q[Symbol.asyncIterator]();
    const waiting = it.next();
    q.push(1);
    await expect(waiting).resolves.toEqual({ value: 1, done: false });
    q.push(2);
    q.push(3);
    q.push(4);
    expect(dropped).toEqual([2]);
    expect(q.length).toBe(2);
    await expect(it.next()).resolves.toEqual({ value: 3, done: false });
    q.end(new WsClosedError('gone'));
    q.push(5);
    await expect(it.next()).resolves.toEqual({ value: 4, done: false });
    await expect(it.next()).rejects.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
  });

  it('rejects a waiting reader when ended with an error, and return() ends it', async () => {
    const q = new InboundQueue<number>(10, () => undefined);
    const it = q[Symbol.asyncIterator]();
    const waiting = it.next();
    q.end(new WsClosedError('gone'));
    q.end();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_BERTH_WS_CLOSED' });
    const other = new InboundQueue<number>(10, () => undefined);
    const it2 = other[Symbol.asyncIterator]();
    await expect(it2.return?.()).resolves.toEqual({ value: undefined, done: true });
    await expect(it2.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('compacts after many messages without losing order', async () => {
    const q = new InboundQueue<number>(5_000, () => undefined);
    const it = q[Symbol.asyncIterator]();
    for (let i = 0; i < 3_000; i += 1) q.push(i);
    for (let i = 0; i < 2_500; i += 1) expect((await it.next()).value).toBe(i);
    for (let i = 3_000; i < 4_000; i += 1) q.push(i);
    expect((await it.next()).value).toBe(2_500);
    expect(q.length).toBe(1_499);
  });
});

describe('chooseSlot', () => {
  const slots = (channels: number[], healthy = channels.map(() => true)) =>
    channels.map((c, slot) => ({ slot, channels: c, load: 0, healthy: healthy[slot] ?? true }));

  it('picks the least-loaded healthy slot', () => {
    expect(chooseSlot(slots([2, 0, 1]), 10, undefined)).toBe(1);
    expect(chooseSlot(slots([2, 0, 1], [true, false, true]), 10, undefined)).toBe(2);
    expect(chooseSlot(slots([1, 1]), 1, undefined)).toBeUndefined();
  });

  it('keeps a key on the same slot, moves only ~1/n of keys when a slot is added, and skips full slots', () => {
    const keys = Array.from({ length: 1_000 }, (_, i) => `key-${i}`);
    const four = keys.map((k) => chooseSlot(slots([0, 0, 0, 0]), 10, k));
    const five = keys.map((k) => chooseSlot(slots([0, 0, 0, 0, 0]), 10, k));
    expect(keys.map((k) => chooseSlot(slots([0, 0, 0, 0]), 10, k))).toEqual(four);
    const moved = four.filter((slot, i) => slot !== five[i]).length;
    expect(moved).toBeGreaterThan(120);
    expect(moved).toBeLessThan(280);
    const first = four[0]!;
    const full = [0, 0, 0, 0];
    full[first] = 10;
    expect(chooseSlot(slots(full), 10, keys[0])).not.toBe(first);
  });
});

import { describe, expect, it } from 'vitest';
import type { Clock, TimerHandle } from '@berth/core-types';
import { DeadlineList } from './deadline-list.js';

/** A hand-driven clock: `now` moves only with `advance`, and timers fire in due order. */
function manualClock() {
  let now = 0;
  let nextId = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const handle = (id: number): TimerHandle => ({ unref: () => id, ref: () => id, hasRef: () => true, [Symbol.toPrimitive]: () => id }) as unknown as TimerHandle;
  const clock: Clock = {
    now: () => now,
    wallNow: () => now,
    setTimeout: (fn, ms) => {
      nextId += 1;
      timers.set(nextId, { at: now + ms, fn });
      return handle(nextId);
    },
    clearTimeout: (h) => {
      if (h !== undefined) timers.delete(Number(h));
    },
    setInterval: () => handle(0),
    clearInterval: () => {},
  };
  return {
    clock,
    pending: () => timers.size,
    /** Fires only the earliest timer, with `now()` reading `lag` ms before its due time. */
    fireNext(lag = 0) {
      const next = [...timers.entries()].sort((a, b) => a[1].at - b[1].at)[0];
      if (next === undefined) return;
      timers.delete(next[0]);
      now = next[1].at - lag;
      next[1].fn();
    },
    /** Moves time to `to`, firing due timers; `lag` makes `now()` read that much behind when they fire (node rounds timers to whole ms). */
    advance(to: number, lag = 0) {
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= to).sort((a, b) => a[1].at - b[1].at)[0];
        if (due === undefined) break;
        timers.delete(due[0]);
        now = due[1].at - lag;
        due[1].fn();
      }
      now = to;
    },
  };
}

describe('DeadlineList', () => {
  it('expires items in due order on a single timer, and leaves no timer once emptied', () => {
    const c = manualClock();
    const expired: string[] = [];
    const list = new DeadlineList<string>(c.clock, (item) => expired.push(item));
    list.add('a', 100);
    const b = list.add('b', 150);
    list.add('c', 200);
    expect(c.pending()).toBe(1);
    expect(list.size).toBe(3);
    list.remove(b);
    list.remove(b);
    c.advance(120);
    expect(expired).toEqual(['a']);
    c.advance(300);
    expect(expired).toEqual(['a', 'c']);
    expect(c.pending()).toBe(0);
    const d = list.add('d', 400);
    expect(c.pending()).toBe(1);
    list.remove(d);
    expect(c.pending()).toBe(0);
    expect(list.size).toBe(0);
  });

  it('keeps out-of-order deadlines sorted, re-arms for an earlier one, and trusts the timer when now() lags behind it', () => {
    const c = manualClock();
    const expired: string[] = [];
    const list = new DeadlineList<string>(c.clock, (item) => {
      expired.push(item);
      if (item === 'first') list.add('added-on-expiry', 260);
    });
    list.add('late', 300);
    list.add('middle', 250);
    list.add('first', 50);
    list.remove(undefined);
    // The timer for 'first' fires while now() still reads 0.4 ms short of its deadline.
    c.advance(60, 0.4);
    expect(expired).toEqual(['first']);
    c.advance(1000);
    expect(expired).toEqual(['first', 'middle', 'added-on-expiry', 'late']);
    expect(c.pending()).toBe(0);
  });

  it('does not expire an item added again by its own expiry in the same pass, even when now() lags behind the timer', () => {
    const c = manualClock();
    let expiries = 0;
    const list = new DeadlineList<string>(c.clock, (item) => {
      expiries += 1;
      // Like a body whose silence restarted: due a little after the lagging now(), before the fired deadline.
      if (expiries < 50) list.add(item, c.clock.now() + 5);
    });
    list.add('body', 50);
    c.fireNext(10);
    expect(expiries).toBe(1);
    expect(list.size).toBe(1);
    expect(c.pending()).toBe(1);
    c.fireNext(0);
    expect(expiries).toBe(2);
  });
});

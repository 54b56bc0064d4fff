import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '@berth/core-types';
import { LifetimeSchedule } from './lifetime-schedule.js';

const FAKE: Parameters<typeof vi.useFakeTimers>[0] = { toFake: ['setTimeout', 'clearTimeout', 'performance'] };

afterEach(() => {
  vi.useRealTimers();
});

function entry(expiresInMs: number, ended: string[], name: string): { expiresAt: number; lifetimeEnded: () => void } {
  return { expiresAt: performance.now() + expiresInMs, lifetimeEnded: () => ended.push(name) };
}

describe('LifetimeSchedule', () => {
  it('ends each lifetime at its own expiry on one timer, earliest first', async () => {
    vi.useFakeTimers(FAKE);
    const schedule = new LifetimeSchedule(systemClock);
    const ended: string[] = [];
    schedule.add(entry(300, ended, 'c'));
    schedule.add(entry(100, ended, 'a'));
    schedule.add(entry(200, ended, 'b'));
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(ended).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(ended).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(100);
    expect(ended).toEqual(['a', 'b']);
    await vi.advanceTimersByTimeAsync(100);
    expect(ended).toEqual(['a', 'b', 'c']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('waits in steps of at most 2³¹ − 1 ms for a lifetime longer than a Node timer allows (no 1 ms spin)', async () => {
    vi.useFakeTimers(FAKE);
    const delays: number[] = [];
    const clock = { ...systemClock, setTimeout: (fn: () => void, ms: number) => (delays.push(ms), systemClock.setTimeout(fn, ms)) };
    const schedule = new LifetimeSchedule(clock);
    const ended: string[] = [];
    schedule.add(entry(3_000_000_000, ended, 'long'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(ended).toEqual([]);
    expect(delays).toEqual([2_147_483_647]);
    await vi.advanceTimersByTimeAsync(2_147_483_647);
    expect(ended).toEqual([]);
    await vi.advanceTimersByTimeAsync(3_000_000_000 - 2_147_483_647 - 1_000);
    expect(ended).toEqual(['long']);
  });

  it('does not end a removed entry, and leaves no timer once nothing is watched', async () => {
    vi.useFakeTimers(FAKE);
    const schedule = new LifetimeSchedule(systemClock);
    const ended: string[] = [];
    const a = entry(100, ended, 'a');
    const b = entry(200, ended, 'b');
    schedule.add(a);
    schedule.add(b);
    schedule.remove(a);
    schedule.remove(a);
    await vi.advanceTimersByTimeAsync(150);
    expect(ended).toEqual([]);
    schedule.remove(b);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(ended).toEqual([]);
  });

  it('re-arms for the rest when its timer fires before the monotonic clock reaches the expiry', async () => {
    vi.useFakeTimers(FAKE);
    const schedule = new LifetimeSchedule(systemClock);
    const ended: string[] = [];
    const late = { expiresAt: performance.now() + 100, lifetimeEnded: () => ended.push('late') };
    schedule.add(late);
    late.expiresAt += 50; // as if the timer were early against the clock
    await vi.advanceTimersByTimeAsync(100);
    expect(ended).toEqual([]);
    await vi.advanceTimersByTimeAsync(50);
    expect(ended).toEqual(['late']);
  });
});

import { describe, expect, it } from 'vitest';
import { seededRandom } from '@berth/testkit';
import { connectBackoffMs } from './backoff.js';
import { LatencyWindow } from './latency-window.js';

describe('connectBackoffMs', () => {
  it('is zero before any failure, then jitters within [base/2, min(max, base·2^(n−1))]', () => {
    const random = seededRandom(3);
    expect(connectBackoffMs(0, 100, 10_000, random)).toBe(0);
    for (let n = 1; n <= 12; n += 1) {
      const ceiling = Math.min(10_000, 100 * 2 ** (n - 1));
      for (let i = 0; i < 50; i += 1) {
        const d = connectBackoffMs(n, 100, 10_000, random);
        expect(d).toBeGreaterThanOrEqual(50);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('spreads the delays of many clients (full jitter), so they do not reconnect in lock-step', () => {
    const random = seededRandom(9);
    const delays = new Set(Array.from({ length: 100 }, () => Math.round(connectBackoffMs(8, 100, 10_000, random))));
    expect(delays.size).toBeGreaterThan(90);
  });
});

describe('LatencyWindow', () => {
  it('summarizes the last samples and forgets the oldest', () => {
    const w = new LatencyWindow(100);
    expect(w.summary()).toEqual({ count: 0, meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 });
    for (let i = 1; i <= 100; i += 1) w.add(i);
    expect(w.summary()).toMatchObject({ count: 100, p50Ms: 50, p99Ms: 99, maxMs: 100, meanMs: 50.5 });
    for (let i = 0; i < 100; i += 1) w.add(1);
    expect(w.summary()).toMatchObject({ count: 100, p99Ms: 1, maxMs: 1 });
  });
});

import { describe, expect, it } from 'vitest';
import { seededRandom } from '@berth/testkit';
import { cappedExponentialMs, fullJitterMs } from './backoff.js';

describe('backoff', () => {
  it('doubles from the base delay and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 10].map((n) => cappedExponentialMs(100, 1_000, n))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('keeps every full-jitter delay within [0, cap] because the cap is applied before the jitter', () => {
    const random = seededRandom(42);
    const cap = 1_000;
    const samples: number[] = [];
    for (let n = 0; n < 30; n++) for (let i = 0; i < 500; i++) samples.push(fullJitterMs(100, cap, n, random));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThanOrEqual(cap);
    // Once capped, delays are uniform on [0, cap): the mean sits near cap/2, not at the cap.
    const capped = samples.slice(10 * 500);
    const mean = capped.reduce((a, b) => a + b, 0) / capped.length;
    expect(mean).toBeGreaterThan(cap * 0.45);
    expect(mean).toBeLessThan(cap * 0.55);
    // And they spread over the whole range (no clustering at the cap).
    const buckets = new Array<number>(10).fill(0);
    for (const s of capped) buckets[Math.min(9, Math.floor(s / 100))]! += 1;
    for (const b of buckets) expect(b).toBeGreaterThan(capped.length / 10 / 2);
  });

  it('draws its jitter from the injected Random, so a seed gives the same delays', () => {
    const a = [0, 1, 2].map((n) => fullJitterMs(100, 10_000, n, seededRandom(7)));
    const b = [0, 1, 2].map((n) => fullJitterMs(100, 10_000, n, seededRandom(7)));
    expect(a).toEqual(b);
    expect(fullJitterMs(100, 10_000, 3, { next: () => 0.5 })).toBe(400);
  });
});

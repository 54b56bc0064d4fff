import { seededRandom } from '@berth/testkit';
import { describe, expect, it } from 'vitest';
import { fullJitterDelayMs } from './backoff.js';

/** socket.io-client's backo2: jitter first, cap afterwards (the anchor to beat). */
function backo2(attempt: number, random: () => number): number {
  let ms = 1_000 * 2 ** attempt;
  const rand = random();
  const deviation = Math.floor(rand * 0.5 * ms);
  ms = (Math.floor(rand * 10) & 1) === 0 ? ms - deviation : ms + deviation;
  return Math.min(ms, 5_000);
}

describe('fullJitterDelayMs', () => {
  it('draws from [0, base · 2^attempt) while below the cap', () => {
    expect(fullJitterDelayMs(0, { baseMs: 500, capMs: 30_000 }, { next: () => 0.999 })).toBeCloseTo(499.5);
    expect(fullJitterDelayMs(3, { baseMs: 500, capMs: 30_000 }, { next: () => 0.5 })).toBe(2_000);
    expect(fullJitterDelayMs(0, { baseMs: 500, capMs: 30_000 }, { next: () => 0 })).toBe(0);
  });

  it('applies the cap before the jitter, so delays stay spread at the cap where socket.io collapses', () => {
    const ours = seededRandom(1);
    const theirs = seededRandom(1);
    const oursAt10 = Array.from({ length: 100 }, () => fullJitterDelayMs(10, { baseMs: 1_000, capMs: 5_000 }, ours));
    const theirsAt10 = Array.from({ length: 100 }, () => backo2(10, () => theirs.next()));
    expect(new Set(theirsAt10)).toEqual(new Set([5_000]));
    expect(Math.max(...oursAt10)).toBeLessThan(5_000);
    expect(Math.min(...oursAt10)).toBeLessThan(500);
    expect(new Set(oursAt10.map(Math.floor)).size).toBe(100);
  });

  it('does not overflow for huge attempt counts', () => {
    expect(fullJitterDelayMs(5_000, { baseMs: 500, capMs: 30_000 }, { next: () => 0.5 })).toBe(15_000);
  });
});

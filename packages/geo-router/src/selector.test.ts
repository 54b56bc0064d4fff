import { describe, expect, it } from 'vitest';
import { createPreference, lowestCost, pickP2c, updatePreference } from './selector.js';
import type { Candidate } from './selector.js';

const c = (name: string, costMs: number, extra: Partial<Candidate> = {}): Candidate => ({
  name,
  costMs,
  pending: 0,
  weight: 1,
  measured: true,
  ...extra,
});

describe('lowest-latency hysteresis', () => {
  it('adopts the best region at once when nothing is preferred yet', () => {
    const p = createPreference();
    expect(updatePreference(p, [c('a', 50), c('b', 20)], 0, 20, 3000)).toBe('initial');
    expect(p.preferred).toBe('b');
  });

  it('does not flap between two regions within the margin, however long it lasts', () => {
    const p = createPreference();
    updatePreference(p, [c('a', 50), c('b', 52)], 0, 20, 3000);
    for (let t = 0; t <= 60_000; t += 100) {
      const a = t % 200 === 0 ? 50 : 45;
      const b = t % 200 === 0 ? 41 : 44;
      expect(updatePreference(p, [c('a', a), c('b', b)], t, 20, 3000)).toBeUndefined();
    }
    expect(p.preferred).toBe('a');
  });

  it('switches only after a challenger stays better by the margin for switchAfterMs', () => {
    const p = createPreference();
    updatePreference(p, [c('a', 50), c('b', 60)], 0, 20, 3000);
    expect(updatePreference(p, [c('a', 50), c('b', 30)], 1000, 20, 3000)).toBeUndefined();
    expect(p.challenger).toBe('b');
    expect(updatePreference(p, [c('a', 50), c('b', 30)], 3999, 20, 3000)).toBeUndefined();
    expect(updatePreference(p, [c('a', 50), c('b', 30)], 4000, 20, 3000)).toBe('faster');
    expect(p.preferred).toBe('b');
  });

  it('restarts the challenger clock when it falls back within the margin', () => {
    const p = createPreference();
    updatePreference(p, [c('a', 50), c('b', 60)], 0, 20, 3000);
    updatePreference(p, [c('a', 50), c('b', 30)], 0, 20, 3000);
    updatePreference(p, [c('a', 50), c('b', 45)], 2000, 20, 3000);
    expect(p.challenger).toBeUndefined();
    expect(updatePreference(p, [c('a', 50), c('b', 30)], 3000, 20, 3000)).toBeUndefined();
    expect(updatePreference(p, [c('a', 50), c('b', 30)], 6000, 20, 3000)).toBe('faster');
  });

  it('keeps the challenger clock when a third region becomes the best meanwhile', () => {
    const p = createPreference();
    updatePreference(p, [c('a', 50), c('b', 60), c('c', 60)], 0, 20, 3000);
    updatePreference(p, [c('a', 50), c('b', 30), c('c', 60)], 0, 20, 3000);
    expect(updatePreference(p, [c('a', 50), c('b', 30), c('c', 20)], 3000, 20, 3000)).toBe('faster');
    expect(p.preferred).toBe('c');
  });

  it('replaces a preferred region that is no longer a candidate at once', () => {
    const p = createPreference();
    updatePreference(p, [c('a', 10), c('b', 60)], 0, 20, 3000);
    expect(updatePreference(p, [c('b', 60)], 1, 20, 3000)).toBe('unavailable');
    expect(p.preferred).toBe('b');
    expect(updatePreference(p, [], 2, 20, 3000)).toBeUndefined();
  });

  it('lets the first measured region beat a preferred region still at the prior', () => {
    const p = createPreference();
    updatePreference(p, [c('a', 30, { measured: false }), c('b', 30, { measured: false })], 0, 20, 3000);
    expect(p.preferred).toBe('a');
    expect(updatePreference(p, [c('a', 30, { measured: false }), c('b', 25)], 1, 20, 3000)).toBe('faster');
    expect(p.preferred).toBe('b');
  });

  it('never lets an unmeasured region challenge a measured preferred one', () => {
    const p = createPreference();
    updatePreference(p, [c('a', 80), c('b', 30, { measured: false })], 0, 20, 0);
    updatePreference(p, [c('a', 80), c('b', 30, { measured: false })], 0, 20, 0);
    expect(p.preferred).toBe('a');
  });

  it('switches at once with switchAfterMs 0', () => {
    const p = createPreference();
    updatePreference(p, [c('a', 50), c('b', 60)], 0, 20, 0);
    expect(updatePreference(p, [c('a', 50), c('b', 39)], 1, 20, 0)).toBe('faster');
  });
});

describe('lowestCost', () => {
  it('breaks ties by order and returns undefined for no candidate', () => {
    expect(lowestCost([c('a', 5), c('b', 5)])?.name).toBe('a');
    expect(lowestCost([])).toBeUndefined();
  });
});

describe('power of two choices', () => {
  const cost = (x: Candidate) => x.costMs;

  it('always compares two distinct candidates and keeps the lower load', () => {
    const list = [c('a', 10), c('b', 20), c('c', 30)];
    // r1 → index 0; r2 → index 0 of the others, i.e. 1.
    expect(pickP2c(list, 0, 0, cost)?.name).toBe('a');
    // r1 → index 2; r2 → 0 → a wins on cost.
    expect(pickP2c(list, 0.99, 0, cost)?.name).toBe('a');
    // b vs c.
    expect(pickP2c(list, 0.5, 0.99, cost)?.name).toBe('b');
  });

  it('weighs cost by pending + 1 and weight', () => {
    const busy = c('a', 10, { pending: 5 });
    const idle = c('b', 40);
    expect(pickP2c([busy, idle], 0, 0, cost)?.name).toBe('b');
    const heavy = c('c', 40, { weight: 10, pending: 2 });
    expect(pickP2c([c('d', 20), heavy], 0, 0, cost)?.name).toBe('c');
  });

  it('returns the only candidate, or undefined for none', () => {
    expect(pickP2c([c('a', 1)], 0.3, 0.7, cost)?.name).toBe('a');
    expect(pickP2c([], 0.3, 0.7, cost)).toBeUndefined();
  });
});

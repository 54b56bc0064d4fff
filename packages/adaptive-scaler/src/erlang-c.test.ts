import { describe, expect, it } from 'vitest';
import { erlangC } from './erlang-c.js';

describe('erlangC', () => {
  it('matches the closed forms for one and two servers', () => {
    // M/M/1: P(wait) = ρ. M/M/2 with a = 1: P(wait) = a² / (2 + a) … = 1/3.
    expect(erlangC(1, 0.7)).toBeCloseTo(0.7);
    expect(erlangC(2, 1)).toBeCloseTo(1 / 3);
  });

  it('matches a published table value (c = 10, a = 8 Erlangs → 0.409)', () => {
    expect(erlangC(10, 8)).toBeCloseTo(0.409, 3);
  });

  it('is 0 without load and 1 at or above the number of servers, and stays finite for large pools', () => {
    expect(erlangC(10, 0)).toBe(0);
    expect(erlangC(10, 10)).toBe(1);
    const large = erlangC(500, 480);
    expect(large).toBeGreaterThan(0);
    expect(large).toBeLessThan(1);
  });
});

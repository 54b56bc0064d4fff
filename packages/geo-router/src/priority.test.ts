import { describe, expect, it } from 'vitest';
import { pickLevel, priorityLoads } from './priority.js';

describe('Envoy priority spill', () => {
  it('keeps all traffic on level 0 until fewer than 71.4 % of it is healthy (factor 1.4)', () => {
    expect(priorityLoads([{ healthy: 10, total: 10 }, { healthy: 5, total: 5 }], 1.4)).toEqual([100, 0]);
    expect(priorityLoads([{ healthy: 5, total: 7 }, { healthy: 5, total: 5 }], 1.4)).toEqual([100, 0]);
    const [p0] = priorityLoads([{ healthy: 7, total: 10 }, { healthy: 5, total: 5 }], 1.4);
    expect(p0).toBeCloseTo(98, 10);
  });

  it('gives level 0 70 % and level 1 30 % when level 0 is half healthy', () => {
    const loads = priorityLoads([{ healthy: 1, total: 2 }, { healthy: 1, total: 1 }], 1.4);
    expect(loads[0]).toBeCloseTo(70, 10);
    expect(loads[1]).toBeCloseTo(30, 10);
  });

  it('normalizes when the levels together are under-provisioned', () => {
    // health 28 + 28 = 56 → each scaled by 100/56.
    const loads = priorityLoads([{ healthy: 1, total: 5 }, { healthy: 1, total: 5 }], 1.4);
    expect(loads[0]).toBeCloseTo(50, 10);
    expect(loads[1]).toBeCloseTo(50, 10);
  });

  it('returns all zeros when nothing is healthy, and treats an empty level as unhealthy', () => {
    expect(priorityLoads([{ healthy: 0, total: 3 }, { healthy: 0, total: 0 }], 1.4)).toEqual([0, 0]);
  });

  it('draws the level a uniform number falls in', () => {
    expect(pickLevel([70, 30], 0)).toBe(0);
    expect(pickLevel([70, 30], 0.69)).toBe(0);
    expect(pickLevel([70, 30], 0.7)).toBe(1);
    expect(pickLevel([0, 100], 0.1)).toBe(1);
    expect(pickLevel([0, 0], 0.5)).toBe(-1);
    // Rounding at the top end still lands in the last level with load.
    expect(pickLevel([70, 30, 0], 0.9999999999)).toBe(1);
  });
});

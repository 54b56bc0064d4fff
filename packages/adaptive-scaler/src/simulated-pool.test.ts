import { describe, expect, it } from 'vitest';
import { createSimulatedPool } from './simulated-pool.js';

describe('createSimulatedPool', () => {
  it('serves a load below its size directly, with Little\'s law holding for busy connections', () => {
    let now = 0;
    const pool = createSimulatedPool({ model: { arrivalRate: () => 200, serviceMs: () => 50 }, now: () => now, initialTarget: 40 });
    now = 10_000;
    const s = pool.stats();
    expect(s.busy).toBe(10);
    expect(s.idle).toBe(30);
    expect(s.acquires.direct + s.acquires.waited).toBeGreaterThanOrEqual(1990);
    expect(s.acquireWait.meanMs).toBeLessThan(1);
    expect(pool.latency()).toBe(50);
  });

  it('builds a backlog past its capacity, and times waiters out after acquireTimeoutMs', () => {
    let now = 0;
    const pool = createSimulatedPool({
      model: { arrivalRate: () => 200, serviceMs: () => 100 },
      now: () => now,
      initialTarget: 10,
      acquireTimeoutMs: 5_000,
    });
    now = 60_000;
    const s = pool.stats();
    expect(s.busy).toBe(10);
    expect(s.pending).toBe(500);
    expect(s.acquires.timedOut).toBeGreaterThan(0);
    expect(s.acquireWait.meanMs).toBeCloseTo(5_000, -2);
    expect(s.errors).toBe(s.acquires.timedOut);
  });

  it('slows down past the upstream\'s concurrency: latency grows with the connections in use', () => {
    let now = 0;
    const pool = createSimulatedPool({
      model: { arrivalRate: () => 2000, serviceMs: () => 100, upstreamConcurrency: 50 },
      now: () => now,
      initialTarget: 100,
    });
    now = 10_000;
    expect(pool.latency()).toBe(200);
  });

  it('refuses a target outside its bounds with ERR_BERTH_CONFIG, and counts shrinking as resize closes', () => {
    const pool = createSimulatedPool({ model: { arrivalRate: () => 0, serviceMs: () => 10 }, now: () => 0, initialTarget: 5, bounds: { min: 2, max: 8 } });
    expect(() => pool.resize(9)).toThrow(expect.objectContaining({ code: 'ERR_BERTH_CONFIG' }));
    expect(() => pool.resize(2.5)).toThrow(expect.objectContaining({ code: 'ERR_BERTH_CONFIG' }));
    pool.resize(8);
    pool.resize(3);
    const s = pool.stats();
    expect(s).toMatchObject({ target: 3, created: 8, reuseRate: 0 });
    expect(s.destroyed.resize).toBe(5);
  });
});

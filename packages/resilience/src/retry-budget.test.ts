import { describe, expect, it } from 'vitest';
import type { Clock } from '@berth/core-types';
import { RetryBudget } from './retry-budget.js';

function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  return {
    now: () => now,
    wallNow: () => now,
    setTimeout: () => {
      throw new Error('not used');
    },
    clearTimeout: () => {},
    setInterval: () => {
      throw new Error('not used');
    },
    clearInterval: () => {},
    advance(ms) {
      now += ms;
    },
  };
}

describe('RetryBudget (Finagle RetryBudget)', () => {
  it('allows the reserve of minRetriesPerSec × ttl before any request', () => {
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSec: 1, ttlMs: 5_000 }, manualClock());
    let allowed = 0;
    while (budget.tryWithdraw()) allowed += 1;
    expect(allowed).toBe(5);
  });

  it('allows ratio × requests on top of the reserve', () => {
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSec: 0, ttlMs: 10_000 }, manualClock());
    for (let i = 0; i < 100; i++) budget.deposit();
    let allowed = 0;
    while (budget.tryWithdraw()) allowed += 1;
    expect(allowed).toBe(20);
  });

  it('forgets deposits and withdrawals after the ttl', () => {
    const clock = manualClock();
    const budget = new RetryBudget({ ratio: 0.5, minRetriesPerSec: 0, ttlMs: 1_000 }, clock);
    for (let i = 0; i < 10; i++) budget.deposit();
    expect(budget.balance()).toBe(5);
    clock.advance(500);
    expect(budget.tryWithdraw()).toBe(true);
    clock.advance(600);
    // The deposits (t = 0) expired; the retry (t = 500) still counts.
    expect(budget.balance()).toBe(-1);
    clock.advance(500);
    expect(budget.balance()).toBe(0);
    for (let i = 0; i < 2; i++) budget.deposit();
    expect(budget.balance()).toBe(1);
    clock.advance(60_000);
    expect(budget.balance()).toBe(0);
  });

  it('keeps retries at ≤ ratio of the load plus the reserve rate during a sustained outage', () => {
    const clock = manualClock();
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSec: 10, ttlMs: 10_000 }, clock);
    let requests = 0;
    let retries = 0;
    // 60 s at 1 000 requests/s, every request failing and asking for up to 2 retries.
    for (let ms = 0; ms < 60_000; ms++) {
      budget.deposit();
      requests += 1;
      for (let r = 0; r < 2 && budget.tryWithdraw(); r++) retries += 1;
      clock.advance(1);
    }
    expect(retries).toBeLessThanOrEqual(0.2 * requests + 10 * 60 + 100);
    expect((requests + retries) / requests).toBeLessThan(1.22);
    expect(retries).toBeGreaterThan(0.19 * requests);
  });
});

import { describe, expect, it } from 'vitest';
import { HEDGE_BUCKET_CAPACITY, createHedgeBudget, creditHedgeBudget, trySpendHedge } from './hedge-budget.js';

describe('hedge budget', () => {
  it('allows one hedge per 100 / budgetPct requests and counts refusals', () => {
    const b = createHedgeBudget();
    expect(trySpendHedge(b)).toBe(false);
    for (let i = 0; i < 20; i += 1) creditHedgeBudget(b, 5);
    expect(trySpendHedge(b)).toBe(true);
    expect(trySpendHedge(b)).toBe(false);
    expect(b).toMatchObject({ spent: 1, refused: 2 });
  });

  it('caps the burst saved up during a quiet period', () => {
    const b = createHedgeBudget();
    for (let i = 0; i < 10_000; i += 1) creditHedgeBudget(b, 5);
    expect(b.tokens).toBe(HEDGE_BUCKET_CAPACITY);
  });
});

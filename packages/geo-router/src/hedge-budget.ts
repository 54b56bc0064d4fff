/**
 * The hedge budget: a token bucket filled by ordinary requests and drained by hedges, so hedged
 * copies stay within `budgetPct` % of requests however the latency distribution moves. "The
 * Tail at Scale" (Dean & Barroso, CACM 2013) hedges after the p95, which costs about 5 % more
 * requests only while the distribution holds; when a region degrades, every request passes its
 * old p95 and unbudgeted hedging doubles the load on the survivors. gRPC's retry throttling
 * (gRFC A6) uses the same shape.
 */
export interface HedgeBudget {
  tokens: number;
  /** Hedges sent / refused for lack of tokens, since creation. */
  spent: number;
  refused: number;
}

/** Most tokens the bucket holds: a burst of this many hedges after a quiet period. */
export const HEDGE_BUCKET_CAPACITY = 10;

/** An empty bucket (no hedge before `100 / budgetPct` requests have been sent). */
export function createHedgeBudget(): HedgeBudget {
  return { tokens: 0, spent: 0, refused: 0 };
}

/** Credits one primary request: `budgetPct / 100` of a token. */
export function creditHedgeBudget(budget: HedgeBudget, budgetPct: number): void {
  budget.tokens = Math.min(HEDGE_BUCKET_CAPACITY, budget.tokens + budgetPct / 100);
}

/** Takes one token for a hedge; false (and counted as refused) when there is none. */
export function trySpendHedge(budget: HedgeBudget): boolean {
  if (budget.tokens < 1) {
    budget.refused += 1;
    return false;
  }
  budget.tokens -= 1;
  budget.spent += 1;
  return true;
}

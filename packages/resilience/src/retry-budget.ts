import type { Clock } from '@berth/core-types';
import type { RetryBudgetOptions } from './options.js';

/** Number of buckets the TTL window is split into; deposits expire with 1/10 TTL granularity. */
const SLOTS = 10;

/**
 * A retry budget in the manner of Finagle's `RetryBudget`
 * (twitter/finagle: finagle-core/src/main/scala/com/twitter/finagle/service/RetryBudget.scala):
 * every request deposits `ratio` of a retry, every retry withdraws one, and a reserve of
 * `minRetriesPerSec · ttl` retries is always there so quiet clients may still retry. Both
 * deposits and withdrawals expire after `ttlMs` (Finagle's leaky `TokenBucket`), so during a
 * total outage retries stay at ≤ `ratio` of the offered load plus the reserve: retries never
 * multiply an outage. Envoy's retry budget (20 % of active requests) and gRPC's retry throttling
 * (gRFC A6, a token bucket that blocks retries below half its tokens) follow the same idea.
 *
 * Hand-written: cockatiel 3.x has no retry budget.
 */
export class RetryBudget {
  readonly #ratio: number;
  readonly #reserve: number;
  readonly #slotMs: number;
  readonly #clock: Clock;
  readonly #deposits = new Float64Array(SLOTS);
  readonly #withdrawals = new Float64Array(SLOTS);
  #slot = 0;
  #slotStart = Number.NaN;

  constructor(options: Required<RetryBudgetOptions>, clock: Clock) {
    this.#ratio = options.ratio;
    this.#reserve = options.minRetriesPerSec * (options.ttlMs / 1000);
    this.#slotMs = options.ttlMs / SLOTS;
    this.#clock = clock;
  }

  /** Records one request (not a retry). */
  deposit(): void {
    this.#rotate();
    this.#deposits[this.#slot] = (this.#deposits[this.#slot] ?? 0) + 1;
  }

  /** Takes one retry from the budget; false when the budget is spent (the retry must not happen). */
  tryWithdraw(): boolean {
    this.#rotate();
    if (this.balance() < 1) return false;
    this.#withdrawals[this.#slot] = (this.#withdrawals[this.#slot] ?? 0) + 1;
    return true;
  }

  /** Retries available now (fractional). */
  balance(): number {
    this.#rotate();
    let deposits = 0;
    let withdrawals = 0;
    for (let i = 0; i < SLOTS; i++) {
      deposits += this.#deposits[i] ?? 0;
      withdrawals += this.#withdrawals[i] ?? 0;
    }
    return this.#reserve + deposits * this.#ratio - withdrawals;
  }

  #rotate(): void {
    const now = this.#clock.now();
    if (Number.isNaN(this.#slotStart)) {
      this.#slotStart = now;
      return;
    }
    const steps = Math.floor((now - this.#slotStart) / this.#slotMs);
    if (steps <= 0) return;
    for (let i = 0; i < Math.min(steps, SLOTS); i++) {
      this.#slot = (this.#slot + 1) % SLOTS;
      this.#deposits[this.#slot] = 0;
      this.#withdrawals[this.#slot] = 0;
    }
    this.#slotStart += steps * this.#slotMs;
  }
}

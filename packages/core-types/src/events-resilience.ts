import type { BerthEvent, EventError } from './events.js';

/** States of a circuit breaker. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Channels of `@berth/resilience`. */
export const RESILIENCE_CHANNELS = {
  /** {@link RetryMessage} */
  retry: 'berth:resilience:retry',
  /** {@link BreakerStateMessage} */
  breaker: 'berth:resilience:breaker',
  /** {@link ThrottledMessage} */
  throttled: 'berth:resilience:throttled',
  /** {@link RejectedMessage} */
  rejected: 'berth:resilience:rejected',
  /** {@link RateAdjustedMessage} */
  rate: 'berth:resilience:rate',
} as const;

/** A request will be retried. */
export interface RetryMessage extends BerthEvent {
  /** Policy key (origin, region …). */
  readonly key: string;
  /** The attempt about to be made (2 = first retry). */
  readonly attempt: number;
  /** Milliseconds before it. */
  readonly delayMs: number;
  /** What failed. */
  readonly error?: EventError;
  /** Status that caused the retry (429, 503 …). */
  readonly status?: number;
}

/** A circuit breaker changed state. */
export interface BreakerStateMessage extends BerthEvent {
  /** Breaker key. */
  readonly key: string;
  /** Previous state. */
  readonly from: BreakerState;
  /** New state. */
  readonly to: BreakerState;
  /** When it half-opens (wall-clock ms), when `to` is `open`. */
  readonly retryAt?: number;
}

/** A request waited for a rate-limit token. */
export interface ThrottledMessage extends BerthEvent {
  /** Limiter key. */
  readonly key: string;
  /** Milliseconds waited. */
  readonly waitMs: number;
  /** True when the key was paused by an upstream 429 `Retry-After` during the wait. */
  readonly paused?: boolean;
}

/** A request was refused by a policy. */
export interface RejectedMessage extends BerthEvent {
  /** Policy key. */
  readonly key: string;
  /** The refusal. */
  readonly error: EventError;
}

/** A rate limiter changed the rate of a key (AIMD: lowered on 429, raised back while none come). */
export interface RateAdjustedMessage extends BerthEvent {
  /** Limiter key. */
  readonly key: string;
  /** The rate now in force, requests per second. */
  readonly ratePerSec: number;
  /** The configured rate, requests per second. */
  readonly configuredRatePerSec: number;
  /** Why: `throttled` (a 429 lowered it), `recovered` (back to the configured rate). */
  readonly reason: 'throttled' | 'recovered';
  /** Milliseconds the key is paused for by `Retry-After`, when the 429 carried one. */
  readonly pausedMs?: number;
}

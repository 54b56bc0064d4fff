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
}

/** A request was refused by a policy. */
export interface RejectedMessage extends BerthEvent {
  /** Policy key. */
  readonly key: string;
  /** The refusal. */
  readonly error: EventError;
}

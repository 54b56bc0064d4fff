import { BerthError } from '@berth/core-types';
import type { BerthErrorOptions } from '@berth/core-types';

/** Details of {@link CircuitOpenError}. */
export interface CircuitOpenDetails extends BerthErrorOptions {
  /** Breaker key (origin, region …). */
  readonly key: string;
  /** Wall-clock milliseconds (Unix epoch) when the breaker lets probe requests through again. */
  readonly retryAt: number;
}

/**
 * `ERR_BERTH_CIRCUIT_OPEN`: the circuit breaker of `key` is open (or half-open with every
 * probe place taken) and the request was refused without being sent.
 */
export class CircuitOpenError extends BerthError {
  /** Breaker key. */
  readonly key: string;
  /** Wall-clock milliseconds when probes are admitted again. */
  readonly retryAt: number;

  constructor(message: string, options: CircuitOpenDetails) {
    super('ERR_BERTH_CIRCUIT_OPEN', message, options);
    this.key = options.key;
    this.retryAt = options.retryAt;
  }
}

/** Details of {@link RateLimitedError}. */
export interface RateLimitedDetails extends BerthErrorOptions {
  /** Limiter key. */
  readonly key: string;
  /** Milliseconds the request would have had to wait for a token. */
  readonly waitMs: number;
  /** The configured longest wait, in milliseconds. */
  readonly maxWaitMs: number;
}

/** `ERR_BERTH_RATE_LIMITED`: a token of `key` would have taken longer than `maxWaitMs`. */
export class RateLimitedError extends BerthError {
  constructor(message: string, options: RateLimitedDetails) {
    super('ERR_BERTH_RATE_LIMITED', message, options);
  }
}

/** Details of {@link BulkheadFullError}. */
export interface BulkheadFullDetails extends BerthErrorOptions {
  /** Bulkhead key. */
  readonly key: string;
  /** Requests running for the key. */
  readonly active: number;
  /** Requests queued for the key. */
  readonly queued: number;
}

/** `ERR_BERTH_QUEUE_FULL`: the bulkhead of `key` has every running and queued place taken. */
export class BulkheadFullError extends BerthError {
  constructor(message: string, options: BulkheadFullDetails) {
    super('ERR_BERTH_QUEUE_FULL', message, options);
  }
}

/** `ERR_BERTH_TIMEOUT`: the overall deadline or one attempt's timeout passed. */
export class ResilienceTimeoutError extends BerthError {
  constructor(message: string, options: BerthErrorOptions & { readonly timeoutMs: number; readonly scope: 'attempt' | 'deadline' }) {
    super('ERR_BERTH_TIMEOUT', message, options);
  }
}

/** `ERR_BERTH_ABORTED`: the caller's signal fired while the request waited in a policy. */
export class ResilienceAbortedError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_ABORTED', message, options);
  }
}

/** `ERR_BERTH_CLOSED`: the resilient transport was closed. */
export class ResilienceClosedError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_CLOSED', message, options);
  }
}

/** `ERR_BERTH_INTERNAL`: the wrapped transport broke its contract (rejected with something that is not a Berth error). */
export class ResilienceInternalError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_INTERNAL', message, options);
  }
}

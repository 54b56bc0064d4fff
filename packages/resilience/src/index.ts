/**
 * @packageDocumentation
 * Retry with full-jitter backoff and a retry budget, circuit breakers, token-bucket rate limits
 * and bulkheads, each usable alone or together around any `Transport` with `withResilience()`.
 */

// The wrapper
export { withResilience, ResilientTransport } from './with-resilience.js';
export type { ResilienceOptions, ResilienceStats } from './with-resilience.js';

// Policies
export { createRetryPolicy, isReplayable, RetryPolicy } from './retry-policy.js';
export type { AttemptContext, RetryScope, RetryStats } from './retry-policy.js';
export { createCircuitBreaker, CircuitBreaker } from './circuit-breaker.js';
export type { BreakerKeyStats, BreakerPermit, BreakerStats } from './circuit-breaker.js';
export { createRateLimiter, RateLimiter } from './rate-limiter.js';
export type { LimiterKeyStats, LimiterStats } from './rate-limiter.js';
export { createBulkhead, Bulkhead } from './bulkhead.js';
export type { BulkheadKeyStats, BulkheadStats, Release } from './bulkhead.js';

// Options
export type {
  AimdOptions,
  BulkheadOptions,
  CircuitBreakerOptions,
  RateLimiterOptions,
  RetryBudgetOptions,
  RetryOptions,
} from './options.js';

// Stores (a shared implementation, e.g. Redis, replaces the in-process one for fleet-wide state)
export { createInProcessBreakerStore } from './breaker-store.js';
export type { Awaitable, BreakerRecord, BreakerStore, InProcessStoreOptions } from './breaker-store.js';
export { createInProcessLimiterStore } from './limiter-store.js';
export type { LimiterStore, Reservation, TokenRequest } from './limiter-store.js';

// Building blocks
export { fullJitterMs } from './backoff.js';
export { parseRetryAfterMs } from './retry-after.js';
export { RetryBudget } from './retry-budget.js';
export type { BreakerOutcome } from './classify.js';

// Errors
export {
  BulkheadFullError,
  CircuitOpenError,
  RateLimitedError,
  ResilienceAbortedError,
  ResilienceClosedError,
  ResilienceInternalError,
  ResilienceTimeoutError,
} from './errors.js';
export type { BulkheadFullDetails, CircuitOpenDetails, RateLimitedDetails } from './errors.js';

import { OptionChecker, silentLogger, systemClock, systemRandom } from '@berth/core-types';
import type { Clock, Logger, Random } from '@berth/core-types';
import type { BreakerStore } from './breaker-store.js';
import type { LimiterStore } from './limiter-store.js';

// Defaults. Each one says where it comes from.
/** undici's retry interceptor and Envoy both default to a handful of tries; 3 attempts = 2 retries. */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** First backoff ceiling; cockatiel's 128 ms rounded down so a first retry stays cheap. */
export const DEFAULT_BASE_DELAY_MS = 100;
/** Backoff cap (applied before the jitter); below common client timeouts of 30 s. */
export const DEFAULT_MAX_DELAY_MS = 10_000;
/** A `Retry-After` longer than this is not waited for: the response goes back to the caller. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 30_000;
/** 502/503/504 are gateway/overload answers, 429 asks to come back later (RFC 6585 §4). */
export const DEFAULT_RETRY_STATUSES: readonly number[] = [429, 502, 503, 504];
/** Finagle RetryBudget `percentCanRetry` 0.2. */
export const DEFAULT_BUDGET_RATIO = 0.2;
/** Finagle RetryBudget `minRetriesToAllowPerSec` 10. */
export const DEFAULT_BUDGET_MIN_PER_SEC = 10;
/** Finagle RetryBudget `ttl` 10 s: deposits and withdrawals count for this long. */
export const DEFAULT_BUDGET_TTL_MS = 10_000;

/** Five in a row is cockatiel's usual `ConsecutiveBreaker` example and opossum-like sensitivity. */
export const DEFAULT_CONSECUTIVE_FAILURES = 5;
/** opossum `errorThresholdPercentage` 50. */
export const DEFAULT_FAILURE_RATE = 0.5;
/** Calls in the sliding window of the failure-rate detector. */
export const DEFAULT_WINDOW_SIZE = 100;
/** Fewer calls than this in the window never open the breaker on rate alone (opossum's `volumeThreshold`). */
export const DEFAULT_MINIMUM_REQUESTS = 20;
/** First open period; opossum uses 30 s, which is long for a provider blip. Grows ×2 per re-open. */
export const DEFAULT_OPEN_MS = 10_000;
/** Longest open period after repeated failed probes. */
export const DEFAULT_MAX_OPEN_MS = 60_000;
/** Concurrent probes in half-open; cockatiel 3.x and opossum allow exactly one. */
export const DEFAULT_HALF_OPEN_PROBES = 3;
/** Server errors count against the breaker; 429 does not (the rate limiter handles it). */
export const DEFAULT_FAILURE_STATUSES: readonly number[] = [500, 502, 503, 504];

/** Largest wait for a rate-limit token before `ERR_BERTH_RATE_LIMITED`. */
export const DEFAULT_LIMITER_MAX_WAIT_MS = 1_000;
/** Longest pause a `Retry-After` on a 429 may impose on a key. */
export const DEFAULT_MAX_PAUSE_MS = 60_000;
/** AIMD: halve the rate on 429, like TCP's multiplicative decrease (RFC 5681 §3.1). */
export const DEFAULT_AIMD_DECREASE = 0.5;
/** AIMD: never below 10 % of the configured rate. */
export const DEFAULT_AIMD_MIN_RATIO = 0.1;
/** AIMD: regain 5 % of the configured rate per second without a 429 (20 s from 0 to full). */
export const DEFAULT_AIMD_RECOVERY_PER_SEC = 0.05;
/** AIMD: at most one decrease per second, so a burst of 429s from requests already in flight counts once. */
export const DEFAULT_AIMD_COOLDOWN_MS = 1_000;

/** Concurrent requests per key. */
export const DEFAULT_MAX_CONCURRENT = 64;
/** Queued requests per key beyond `maxConcurrent`. */
export const DEFAULT_MAX_QUEUED = 256;

/** A retry budget (Finagle `RetryBudget`): retries may be at most `ratio` of requests plus `minRetriesPerSec`. */
export interface RetryBudgetOptions {
  /** Fraction of requests that may be retried, in [0, 1]. Default 0.2 (Finagle). */
  readonly ratio?: number;
  /** Retries always allowed per second, so low-traffic clients can still retry. Default 10 (Finagle). */
  readonly minRetriesPerSec?: number;
  /** Milliseconds a request deposit (and a retry withdrawal) counts for. Default 10 000 (Finagle). */
  readonly ttlMs?: number;
}

/** Options of {@link createRetryPolicy}. */
export interface RetryOptions {
  /** Attempts including the first, integer in [1, 100]. Default 3. */
  readonly maxAttempts?: number;
  /** Backoff ceiling of the first retry, ms; doubles per retry. Default 100. */
  readonly baseDelayMs?: number;
  /** Backoff cap in ms, applied before the full jitter; must be ≥ `baseDelayMs`. Default 10 000. */
  readonly maxDelayMs?: number;
  /** Timeout of each attempt until the response head, ms. Default: none (the transport's). */
  readonly attemptTimeoutMs?: number;
  /** Overall deadline of the request including retries, ms, when the request has no `timeoutMs`. Default: none. */
  readonly deadlineMs?: number;
  /** Response statuses that are retried. Default `[429, 502, 503, 504]`. */
  readonly retryStatuses?: readonly number[];
  /** Longest `Retry-After` honoured, ms; a longer one ends the retries. Default 30 000. */
  readonly maxRetryAfterMs?: number;
  /** Retry budget, or `false` for none (not recommended). Default: Finagle's 20 % + 10/s over 10 s. */
  readonly budget?: RetryBudgetOptions | false;
  /** Name used in events and stats. Default `retry`. */
  readonly name?: string;
  /** Time source. Default the process clock. */
  readonly clock?: Clock;
  /** Jitter source. Default `Math.random`. */
  readonly random?: Random;
}

/** Resolved {@link RetryOptions}. */
export interface ResolvedRetryOptions {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly attemptTimeoutMs: number | undefined;
  readonly deadlineMs: number | undefined;
  readonly retryStatuses: ReadonlySet<number>;
  readonly maxRetryAfterMs: number;
  readonly budget: Required<RetryBudgetOptions> | false;
  readonly name: string;
  readonly clock: Clock;
  readonly random: Random;
}

/** Options of {@link createCircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker, integer ≥ 1. Default 5. */
  readonly consecutiveFailures?: number;
  /** Failure ratio over the sliding window that opens the breaker, in (0, 1). Default 0.5. */
  readonly failureRate?: number;
  /** Calls in the sliding window, integer ≥ 1. Default 100. */
  readonly windowSize?: number;
  /** Calls the window must hold before the rate can open the breaker, in [1, windowSize]. Default 20. */
  readonly minimumRequests?: number;
  /** First open period, ms; doubles after each failed half-open trial. Default 10 000. */
  readonly openMs?: number;
  /** Longest open period, ms; ≥ `openMs`. Default 60 000. */
  readonly maxOpenMs?: number;
  /** Probe requests admitted at once while half-open, integer ≥ 1. Default 3. */
  readonly halfOpenProbes?: number;
  /** Successful probes that close the breaker, integer ≥ 1. Default `halfOpenProbes`. */
  readonly successesToClose?: number;
  /** Response statuses that count as failures. Default `[500, 502, 503, 504]`. */
  readonly failureStatuses?: readonly number[];
  /** Where breaker state lives. Default an in-process store. */
  readonly store?: BreakerStore;
  /** Name used in events and stats. Default `breaker`. */
  readonly name?: string;
  /** Time source (wall clock is used for the state, so a shared store works across machines). */
  readonly clock?: Clock;
  /** Where state changes are logged (breaker open/close, upstream 429 pauses). Default silent. */
  readonly logger?: Logger;
}

/** Resolved {@link CircuitBreakerOptions}. */
export interface ResolvedCircuitBreakerOptions {
  readonly consecutiveFailures: number;
  readonly failureRate: number;
  readonly windowSize: number;
  readonly minimumRequests: number;
  readonly openMs: number;
  readonly maxOpenMs: number;
  readonly halfOpenProbes: number;
  readonly successesToClose: number;
  readonly failureStatuses: ReadonlySet<number>;
  readonly store: BreakerStore | undefined;
  readonly name: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** AIMD adaptation of a rate limiter to the upstream's 429s. */
export interface AimdOptions {
  /** Factor applied to the rate on a 429, in (0, 1). Default 0.5. */
  readonly decreaseFactor?: number;
  /** Lowest rate as a fraction of `ratePerSec`, in (0, 1]. Default 0.1. */
  readonly minRatio?: number;
  /** Fraction of `ratePerSec` regained per second without a 429, > 0. Default 0.05. */
  readonly recoveryPerSec?: number;
  /** Smallest time between two decreases, ms. Default 1 000. */
  readonly cooldownMs?: number;
}

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Sustained requests per second per key, > 0. Required. */
  readonly ratePerSec: number;
  /** Bucket size: requests that may go at once after a quiet period, integer ≥ 1. Default `ceil(ratePerSec)`. */
  readonly burst?: number;
  /** Longest wait for a token, ms; beyond it `ERR_BERTH_RATE_LIMITED`. Default 1 000. */
  readonly maxWaitMs?: number;
  /** Longest pause a 429's `Retry-After` imposes on the key, ms. Default 60 000. */
  readonly maxPauseMs?: number;
  /** Lower the rate on repeated 429s and recover slowly, or `false`. Default on. */
  readonly aimd?: AimdOptions | false;
  /** Where buckets live. Default an in-process store. */
  readonly store?: LimiterStore;
  /** Name used in events and stats. Default `limiter`. */
  readonly name?: string;
  /** Time source. */
  readonly clock?: Clock;
  /** Where state changes are logged (breaker open/close, upstream 429 pauses). Default silent. */
  readonly logger?: Logger;
}

/** Resolved {@link RateLimiterOptions}. */
export interface ResolvedRateLimiterOptions {
  readonly ratePerSec: number;
  readonly burst: number;
  readonly maxWaitMs: number;
  readonly maxPauseMs: number;
  readonly aimd: Required<AimdOptions> | false;
  readonly store: LimiterStore | undefined;
  readonly name: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Options of {@link createBulkhead}. */
export interface BulkheadOptions {
  /** Requests running at once per key, integer ≥ 1. Default 64. */
  readonly maxConcurrent?: number;
  /** Requests waiting per key beyond that, integer ≥ 0; one more gets `ERR_BERTH_QUEUE_FULL`. Default 256. */
  readonly maxQueued?: number;
  /** Name used in events and stats. Default `bulkhead`. */
  readonly name?: string;
}

/** Resolved {@link BulkheadOptions}. */
export interface ResolvedBulkheadOptions {
  readonly maxConcurrent: number;
  readonly maxQueued: number;
  readonly name: string;
}

function statusList(c: OptionChecker, path: string, value: unknown, fallback: readonly number[]): ReadonlySet<number> {
  if (value === undefined) return new Set(fallback);
  const ok =
    Array.isArray(value) && value.every((s) => typeof s === 'number' && Number.isInteger(s) && s >= 100 && s <= 599);
  if (!c.expect(ok, path, 'an array of integer HTTP statuses in [100, 599]', value)) return new Set(fallback);
  return new Set(value as number[]);
}

function objectOrFalse(c: OptionChecker, path: string, value: unknown): Record<string, unknown> | false | undefined {
  if (value === undefined || value === false) return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    c.problem(path, 'an object or false', value);
    return undefined;
  }
  return value as Record<string, unknown>;
}

function clockOf(c: OptionChecker, path: string, value: unknown): Clock {
  const ok = value === undefined || (typeof value === 'object' && value !== null && typeof (value as Clock).now === 'function');
  c.expect(ok, path, 'a Clock', value);
  return ok && value !== undefined ? (value as Clock) : systemClock;
}

function loggerOf(c: OptionChecker, path: string, value: unknown): Logger {
  const ok = value === undefined || (typeof value === 'object' && value !== null && typeof (value as Logger).warn === 'function');
  c.expect(ok, path, 'a Logger', value);
  return ok && value !== undefined ? (value as Logger) : silentLogger;
}

/** Validates {@link RetryOptions} into {@link ResolvedRetryOptions}, appending problems to `c`. */
export function checkRetryOptions(c: OptionChecker, prefix: string, input: RetryOptions): ResolvedRetryOptions {
  const baseDelayMs = c.number(`${prefix}baseDelayMs`, input.baseDelayMs, { min: 0, default: DEFAULT_BASE_DELAY_MS });
  const maxDelayMs = c.number(`${prefix}maxDelayMs`, input.maxDelayMs, { min: 0, default: Math.max(DEFAULT_MAX_DELAY_MS, baseDelayMs) });
  c.expect(maxDelayMs >= baseDelayMs, `${prefix}maxDelayMs`, `a cap >= baseDelayMs (${baseDelayMs})`, input.maxDelayMs);
  const budgetInput = objectOrFalse(c, `${prefix}budget`, input.budget);
  let budget: Required<RetryBudgetOptions> | false = false;
  if (budgetInput !== false) {
    const b = (budgetInput ?? {}) as RetryBudgetOptions;
    budget = {
      ratio: c.number(`${prefix}budget.ratio`, b.ratio, { min: 0, max: 1, default: DEFAULT_BUDGET_RATIO }),
      minRetriesPerSec: c.number(`${prefix}budget.minRetriesPerSec`, b.minRetriesPerSec, { min: 0, default: DEFAULT_BUDGET_MIN_PER_SEC }),
      ttlMs: c.number(`${prefix}budget.ttlMs`, b.ttlMs, { min: 1_000, max: 600_000, integer: true, default: DEFAULT_BUDGET_TTL_MS }),
    };
  }
  const random = input.random;
  c.expect(random === undefined || typeof random.next === 'function', `${prefix}random`, 'a Random', random);
  return {
    maxAttempts: c.number(`${prefix}maxAttempts`, input.maxAttempts, { min: 1, max: 100, integer: true, default: DEFAULT_MAX_ATTEMPTS }),
    baseDelayMs,
    maxDelayMs,
    attemptTimeoutMs: c.number(`${prefix}attemptTimeoutMs`, input.attemptTimeoutMs, { min: 0, exclusiveMin: true, default: undefined }),
    deadlineMs: c.number(`${prefix}deadlineMs`, input.deadlineMs, { min: 0, exclusiveMin: true, default: undefined }),
    retryStatuses: statusList(c, `${prefix}retryStatuses`, input.retryStatuses, DEFAULT_RETRY_STATUSES),
    maxRetryAfterMs: c.number(`${prefix}maxRetryAfterMs`, input.maxRetryAfterMs, { min: 0, default: DEFAULT_MAX_RETRY_AFTER_MS }),
    budget,
    name: c.string(`${prefix}name`, input.name, 'retry'),
    clock: clockOf(c, `${prefix}clock`, input.clock),
    random: random !== undefined && typeof random.next === 'function' ? random : systemRandom,
  };
}

/** Validates {@link CircuitBreakerOptions}, appending problems to `c`. */
export function checkCircuitBreakerOptions(
  c: OptionChecker,
  prefix: string,
  input: CircuitBreakerOptions,
): ResolvedCircuitBreakerOptions {
  const windowSize = c.number(`${prefix}windowSize`, input.windowSize, { min: 1, integer: true, default: DEFAULT_WINDOW_SIZE });
  const minimumRequests = c.number(`${prefix}minimumRequests`, input.minimumRequests, {
    min: 1,
    integer: true,
    default: Math.min(DEFAULT_MINIMUM_REQUESTS, windowSize),
  });
  c.expect(minimumRequests <= windowSize, `${prefix}minimumRequests`, `an integer <= windowSize (${windowSize})`, input.minimumRequests);
  const openMs = c.number(`${prefix}openMs`, input.openMs, { min: 1, default: DEFAULT_OPEN_MS });
  const maxOpenMs = c.number(`${prefix}maxOpenMs`, input.maxOpenMs, { min: 1, default: Math.max(DEFAULT_MAX_OPEN_MS, openMs) });
  c.expect(maxOpenMs >= openMs, `${prefix}maxOpenMs`, `a number >= openMs (${openMs})`, input.maxOpenMs);
  const halfOpenProbes = c.number(`${prefix}halfOpenProbes`, input.halfOpenProbes, { min: 1, integer: true, default: DEFAULT_HALF_OPEN_PROBES });
  const store = input.store;
  c.expect(
    store === undefined || (typeof store === 'object' && typeof store.update === 'function' && typeof store.get === 'function'),
    `${prefix}store`,
    'a BreakerStore',
    store,
  );
  return {
    consecutiveFailures: c.number(`${prefix}consecutiveFailures`, input.consecutiveFailures, {
      min: 1,
      integer: true,
      default: DEFAULT_CONSECUTIVE_FAILURES,
    }),
    // cockatiel's CountBreaker throws outside (0, 1), so the range is checked here with the rest.
    failureRate: c.number(`${prefix}failureRate`, input.failureRate, { min: 0, exclusiveMin: true, max: 0.999_999, default: DEFAULT_FAILURE_RATE }),
    windowSize,
    minimumRequests: Math.min(minimumRequests, windowSize),
    openMs,
    maxOpenMs: Math.max(maxOpenMs, openMs),
    halfOpenProbes,
    successesToClose: c.number(`${prefix}successesToClose`, input.successesToClose, { min: 1, integer: true, default: halfOpenProbes }),
    failureStatuses: statusList(c, `${prefix}failureStatuses`, input.failureStatuses, DEFAULT_FAILURE_STATUSES),
    store,
    name: c.string(`${prefix}name`, input.name, 'breaker'),
    clock: clockOf(c, `${prefix}clock`, input.clock),
    logger: loggerOf(c, `${prefix}logger`, input.logger),
  };
}

/** Validates {@link RateLimiterOptions}, appending problems to `c`. */
export function checkRateLimiterOptions(c: OptionChecker, prefix: string, input: RateLimiterOptions): ResolvedRateLimiterOptions {
  c.expect(input.ratePerSec !== undefined, `${prefix}ratePerSec`, 'a number > 0 (required)', input.ratePerSec);
  const ratePerSec = c.number(`${prefix}ratePerSec`, input.ratePerSec, { min: 0, exclusiveMin: true, default: 1 });
  const aimdInput = objectOrFalse(c, `${prefix}aimd`, input.aimd);
  let aimd: Required<AimdOptions> | false = false;
  if (aimdInput !== false) {
    const a = (aimdInput ?? {}) as AimdOptions;
    aimd = {
      decreaseFactor: c.number(`${prefix}aimd.decreaseFactor`, a.decreaseFactor, { min: 0, exclusiveMin: true, max: 0.999_999, default: DEFAULT_AIMD_DECREASE }),
      minRatio: c.number(`${prefix}aimd.minRatio`, a.minRatio, { min: 0, exclusiveMin: true, max: 1, default: DEFAULT_AIMD_MIN_RATIO }),
      recoveryPerSec: c.number(`${prefix}aimd.recoveryPerSec`, a.recoveryPerSec, { min: 0, exclusiveMin: true, default: DEFAULT_AIMD_RECOVERY_PER_SEC }),
      cooldownMs: c.number(`${prefix}aimd.cooldownMs`, a.cooldownMs, { min: 0, default: DEFAULT_AIMD_COOLDOWN_MS }),
    };
  }
  const store = input.store;
  c.expect(
    store === undefined || (typeof store === 'object' && typeof store.reserve === 'function' && typeof store.pause === 'function'),
    `${prefix}store`,
    'a LimiterStore',
    store,
  );
  return {
    ratePerSec,
    burst: c.number(`${prefix}burst`, input.burst, { min: 1, integer: true, default: Math.max(1, Math.ceil(ratePerSec)) }),
    maxWaitMs: c.number(`${prefix}maxWaitMs`, input.maxWaitMs, { min: 0, default: DEFAULT_LIMITER_MAX_WAIT_MS }),
    maxPauseMs: c.number(`${prefix}maxPauseMs`, input.maxPauseMs, { min: 0, default: DEFAULT_MAX_PAUSE_MS }),
    aimd,
    store,
    name: c.string(`${prefix}name`, input.name, 'limiter'),
    clock: clockOf(c, `${prefix}clock`, input.clock),
    logger: loggerOf(c, `${prefix}logger`, input.logger),
  };
}

/** Validates {@link BulkheadOptions}, appending problems to `c`. */
export function checkBulkheadOptions(c: OptionChecker, prefix: string, input: BulkheadOptions): ResolvedBulkheadOptions {
  return {
    maxConcurrent: c.number(`${prefix}maxConcurrent`, input.maxConcurrent, { min: 1, integer: true, default: DEFAULT_MAX_CONCURRENT }),
    maxQueued: c.number(`${prefix}maxQueued`, input.maxQueued, { min: 0, integer: true, default: DEFAULT_MAX_QUEUED }),
    name: c.string(`${prefix}name`, input.name, 'bulkhead'),
  };
}

/** Resolves one policy's options on its own, throwing one `ERR_BERTH_CONFIG` with every problem. */
export function resolveOptions<I, R>(component: string, input: I, check: (c: OptionChecker, prefix: string, input: I) => R): R {
  const c = new OptionChecker(component);
  const isObject = typeof input === 'object' && input !== null;
  c.expect(isObject, 'options', 'an object', input);
  const resolved = check(c, '', (isObject ? input : {}) as I);
  c.done();
  return resolved;
}

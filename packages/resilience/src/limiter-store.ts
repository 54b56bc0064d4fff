import type { Awaitable } from './breaker-store.js';
import { DEFAULT_MAX_STORE_KEYS } from './breaker-store.js';
import type { InProcessStoreOptions } from './breaker-store.js';

/** The parameters of one token request, passed on every call so a shared store holds no configuration. */
export interface TokenRequest {
  /** Wall-clock milliseconds (Unix epoch), so machines sharing a store agree. */
  readonly now: number;
  /** Refill rate in force for the key, tokens per second. */
  readonly ratePerSec: number;
  /** Bucket size. */
  readonly burst: number;
  /** Longest acceptable wait, ms: a longer one is refused and takes nothing. */
  readonly maxWaitMs: number;
}

/** The answer to a {@link TokenRequest}. */
export interface Reservation {
  /** True when a token is reserved: wait `waitMs`, then send. */
  readonly granted: boolean;
  /** Milliseconds until the token is (or would be) available. */
  readonly waitMs: number;
  /** True when the key is paused by an upstream `Retry-After`. */
  readonly paused: boolean;
}

/**
 * Where rate-limit buckets live. The in-process store is a `Map`; a fleet-wide one (a Redis
 * Lua script over one hash per key, the same arithmetic as below) implements these three
 * methods, so every instance of a service shares a provider's limit. Each method must be
 * atomic per key.
 */
export interface LimiterStore {
  /** Reserves one token of `key`, or refuses if it would take longer than `maxWaitMs`. */
  reserve(key: string, request: TokenRequest): Awaitable<Reservation>;
  /** Gives back a reserved token whose request was abandoned (aborted while waiting). */
  refund(key: string, request: Omit<TokenRequest, 'maxWaitMs'>): Awaitable<void>;
  /** Stops issuing tokens of `key` until `until` (wall-clock ms): an upstream 429 `Retry-After`. */
  pause(key: string, until: number, request: Omit<TokenRequest, 'maxWaitMs'>): Awaitable<void>;
}

interface Bucket {
  /** Tokens at time `at`; negative when tokens are reserved ahead. */
  tokens: number;
  /** The time `tokens` refers to; in the future while paused. */
  at: number;
  /** End of the current pause (0 when none). */
  pausedUntil: number;
}

/**
 * A token bucket with reservations (tokens may go negative: each waiter's start time is fixed
 * at reservation, in FIFO order, like GCRA). Hand-written: cockatiel has no rate limiter.
 */
function refill(bucket: Bucket, request: Omit<TokenRequest, 'maxWaitMs'>): void {
  if (request.now > bucket.at) {
    bucket.tokens = Math.min(request.burst, bucket.tokens + ((request.now - bucket.at) * request.ratePerSec) / 1000);
    bucket.at = request.now;
  }
}

/** A {@link LimiterStore} in this process's memory, bounded to `maxKeys` keys. */
export function createInProcessLimiterStore(options: InProcessStoreOptions = {}): LimiterStore {
  const maxKeys = options.maxKeys ?? DEFAULT_MAX_STORE_KEYS;
  const buckets = new Map<string, Bucket>();
  function bucketOf(key: string, request: Omit<TokenRequest, 'maxWaitMs'>): Bucket {
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: request.burst, at: request.now, pausedUntil: 0 };
      buckets.set(key, bucket);
      // A forgotten key comes back with a full bucket: permissive, never stuck.
      if (buckets.size > maxKeys) {
        const oldest = buckets.keys().next().value;
        if (oldest !== undefined) buckets.delete(oldest);
      }
    }
    refill(bucket, request);
    return bucket;
  }
  return {
    reserve(key, request) {
      const bucket = bucketOf(key, request);
      const ahead = Math.max(0, bucket.at - request.now);
      const missing = Math.max(0, 1 - bucket.tokens);
      const waitMs = ahead + (missing * 1000) / request.ratePerSec;
      const paused = bucket.pausedUntil > request.now;
      if (waitMs > request.maxWaitMs) return { granted: false, waitMs, paused };
      bucket.tokens -= 1;
      return { granted: true, waitMs, paused };
    },
    refund(key, request) {
      const bucket = bucketOf(key, request);
      bucket.tokens = Math.min(request.burst, bucket.tokens + 1);
    },
    pause(key, until, request) {
      const bucket = bucketOf(key, request);
      if (until <= bucket.pausedUntil) return;
      bucket.pausedUntil = until;
      // Reservations already handed out keep their order; new ones start after the pause.
      bucket.tokens = Math.min(bucket.tokens, 0);
      bucket.at = Math.max(bucket.at, until);
    },
  };
}

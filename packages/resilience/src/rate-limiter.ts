import type { ComponentIdentity, RateAdjustedMessage, RejectedMessage, ThrottledMessage } from '@berth/core-types';
import { channels, eventError, identity } from './channels.js';
import { RateLimitedError } from './errors.js';
import { createInProcessLimiterStore } from './limiter-store.js';
import type { LimiterStore } from './limiter-store.js';
import { checkRateLimiterOptions, resolveOptions } from './options.js';
import type { RateLimiterOptions, ResolvedRateLimiterOptions } from './options.js';
import { sleep } from './sleep.js';

/** Stats of one limiter key. */
export interface LimiterKeyStats {
  /** Rate in force now, requests per second (below the configured one after 429s). */
  readonly ratePerSec: number;
  /** Tokens granted since creation. */
  readonly granted: number;
  /** Grants that had to wait. */
  readonly throttled: number;
  /** Requests refused with `ERR_BERTH_RATE_LIMITED`. */
  readonly rejected: number;
  /** 429 responses reported. */
  readonly upstream429: number;
  /** Wall-clock ms until which the key is paused by `Retry-After`, while paused. */
  readonly pausedUntil?: number;
}

/** Snapshot of a {@link RateLimiter}. */
export interface LimiterStats {
  /** Configured rate, requests per second per key. */
  readonly configuredRatePerSec: number;
  /** Per key. */
  readonly keys: Readonly<Record<string, LimiterKeyStats>>;
}

interface KeyState {
  readonly key: string;
  /** AIMD multiplier of the configured rate, in [minRatio, 1], as of `updatedAt`. */
  factor: number;
  updatedAt: number;
  lastDecreaseAt: number;
  pausedUntil: number;
  granted: number;
  throttled: number;
  rejected: number;
  upstream429: number;
}

const MAX_TRACKED_KEYS = 10_000;

/**
 * A token-bucket rate limiter per key that adapts to the upstream. Hand-written: cockatiel,
 * opossum, undici and generic-pool ship none (ANCHORS §7). A 429 with `Retry-After` pauses the
 * key (capped at `maxPauseMs`); 429s lower the key's rate multiplicatively, at most once per
 * `cooldownMs` so a burst of 429s already in flight counts once, and the rate climbs back
 * linearly with time (AIMD, as TCP congestion avoidance, RFC 5681 §3.1). Buckets live in a
 * {@link LimiterStore}; the AIMD factor is per process, each instance reacting to the 429s it
 * sees, which shares the provider's limit out in proportion to each instance's traffic.
 */
export class RateLimiter {
  readonly #options: ResolvedRateLimiterOptions;
  readonly #store: LimiterStore;
  readonly #identity: ComponentIdentity;
  readonly #keys = new Map<string, KeyState>();

  /** @internal use {@link createRateLimiter}. */
  constructor(options: ResolvedRateLimiterOptions, component?: ComponentIdentity) {
    this.#options = options;
    this.#store = options.store ?? createInProcessLimiterStore();
    this.#identity = component ?? identity(options.name);
  }

  /**
   * Takes one token of `key`, waiting for it up to `maxWaitMs`. Resolves with the
   * milliseconds waited; rejects with `ERR_BERTH_RATE_LIMITED` when the wait would be longer,
   * or with the signal's reason when `signal` fires while waiting (the token is given back).
   */
  async acquire(key: string, signal?: AbortSignal): Promise<number> {
    const clock = this.#options.clock;
    const state = this.#stateOf(key);
    const now = clock.wallNow();
    const rate = this.#rateAt(state, now);
    const reservation = await this.#store.reserve(key, {
      now,
      ratePerSec: rate,
      burst: this.#options.burst,
      maxWaitMs: this.#options.maxWaitMs,
    });
    if (!reservation.granted) {
      state.rejected += 1;
      const error = new RateLimitedError(
        `rate limit of ${key} (${round(rate)}/s${reservation.paused ? ', paused by the upstream' : ''}) needs a wait of ${Math.ceil(reservation.waitMs)} ms, over maxWaitMs ${this.#options.maxWaitMs}`,
        { key, waitMs: reservation.waitMs, maxWaitMs: this.#options.maxWaitMs },
      );
      if (channels.rejected.hasSubscribers) {
        channels.rejected.publish({ component: this.#identity, key, error: eventError(error) } satisfies RejectedMessage);
      }
      throw error;
    }
    state.granted += 1;
    let waited = reservation.waitMs;
    let paused = reservation.paused;
    try {
      await sleep(clock, reservation.waitMs, signal, `a rate-limit token of ${key}`);
      // A 429 that arrived while this request slept pauses it too, though its token predates the pause.
      const pauseLeft = state.pausedUntil - clock.wallNow();
      if (pauseLeft > 0 && pauseLeft <= this.#options.maxPauseMs) {
        await sleep(clock, pauseLeft, signal, `the upstream's pause of ${key}`);
        waited += pauseLeft;
        paused = true;
      }
    } catch (error) {
      await this.#store.refund(key, { now: clock.wallNow(), ratePerSec: rate, burst: this.#options.burst });
      throw error;
    }
    if (waited > 0) {
      state.throttled += 1;
      if (channels.throttled.hasSubscribers) {
        channels.throttled.publish({ component: this.#identity, key, waitMs: waited, ...(paused ? { paused } : {}) } satisfies ThrottledMessage);
      }
    }
    return waited;
  }

  /**
   * Tells the limiter that `key`'s upstream answered 429 (RFC 6585 §4). Pauses the key for
   * `retryAfterMs` (capped at `maxPauseMs`) when given, and lowers its rate (AIMD) unless
   * that is disabled or a decrease happened less than `cooldownMs` ago.
   */
  async throttled(key: string, retryAfterMs?: number): Promise<void> {
    const now = this.#options.clock.wallNow();
    const state = this.#stateOf(key);
    state.upstream429 += 1;
    const aimd = this.#options.aimd;
    let decreased = false;
    if (aimd !== false) {
      const current = this.#factorAt(state, now);
      if (now - state.lastDecreaseAt >= aimd.cooldownMs) {
        state.factor = Math.max(aimd.minRatio, current * aimd.decreaseFactor);
        state.lastDecreaseAt = now;
        decreased = state.factor < current;
      } else {
        state.factor = current;
      }
      state.updatedAt = now;
    }
    let pausedMs: number | undefined;
    if (retryAfterMs !== undefined && retryAfterMs > 0) {
      pausedMs = Math.min(retryAfterMs, this.#options.maxPauseMs);
      state.pausedUntil = Math.max(state.pausedUntil, now + pausedMs);
      await this.#store.pause(key, now + pausedMs, { now, ratePerSec: this.#rateAt(state, now), burst: this.#options.burst });
    }
    if (decreased || pausedMs !== undefined) {
      this.#options.logger.warn('upstream answered 429; rate lowered', {
        key,
        ratePerSec: this.#rateAt(state, now),
        ...(pausedMs === undefined ? {} : { pausedMs }),
      });
    }
    if ((decreased || pausedMs !== undefined) && channels.rate.hasSubscribers) {
      channels.rate.publish({
        component: this.#identity,
        key,
        ratePerSec: this.#rateAt(state, now),
        configuredRatePerSec: this.#options.ratePerSec,
        reason: 'throttled',
        ...(pausedMs === undefined ? {} : { pausedMs }),
      } satisfies RateAdjustedMessage);
    }
  }

  /** The rate in force for `key` now, requests per second. */
  rate(key: string): number {
    const state = this.#keys.get(key);
    return state === undefined ? this.#options.ratePerSec : this.#rateAt(state, this.#options.clock.wallNow());
  }

  /** Snapshot per key. */
  stats(): LimiterStats {
    const now = this.#options.clock.wallNow();
    const keys: Record<string, LimiterKeyStats> = {};
    for (const [key, s] of this.#keys) {
      keys[key] = {
        ratePerSec: this.#rateAt(s, now),
        granted: s.granted,
        throttled: s.throttled,
        rejected: s.rejected,
        upstream429: s.upstream429,
        ...(s.pausedUntil > now ? { pausedUntil: s.pausedUntil } : {}),
      };
    }
    return { configuredRatePerSec: this.#options.ratePerSec, keys };
  }

  #rateAt(state: KeyState, now: number): number {
    return this.#options.ratePerSec * this.#factorAt(state, now);
  }

  #factorAt(state: KeyState, now: number): number {
    const aimd = this.#options.aimd;
    if (aimd === false || state.factor >= 1) return 1;
    const factor = Math.min(1, state.factor + (aimd.recoveryPerSec * Math.max(0, now - state.updatedAt)) / 1000);
    if (factor >= 1) {
      state.factor = 1;
      state.updatedAt = now;
      if (channels.rate.hasSubscribers) {
        channels.rate.publish({
          component: this.#identity,
          key: state.key,
          ratePerSec: this.#options.ratePerSec,
          configuredRatePerSec: this.#options.ratePerSec,
          reason: 'recovered',
        } satisfies RateAdjustedMessage);
      }
    }
    return factor;
  }

  #stateOf(key: string): KeyState {
    let state = this.#keys.get(key);
    if (state === undefined) {
      state = {
        key,
        factor: 1,
        updatedAt: 0,
        lastDecreaseAt: Number.NEGATIVE_INFINITY,
        pausedUntil: 0,
        granted: 0,
        throttled: 0,
        rejected: 0,
        upstream429: 0,
      };
      this.#keys.set(key, state);
      if (this.#keys.size > MAX_TRACKED_KEYS) {
        const oldest = this.#keys.keys().next().value;
        if (oldest !== undefined) this.#keys.delete(oldest);
      }
    }
    return state;
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * Creates a {@link RateLimiter}. Throws `ERR_BERTH_CONFIG` listing every bad option.
 *
 * @example
 * const limiter = createRateLimiter({ ratePerSec: 50, burst: 10, maxWaitMs: 2_000 });
 * await limiter.acquire('https://api.example.com');
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  return new RateLimiter(resolveOptions('rate-limiter', options, checkRateLimiterOptions));
}

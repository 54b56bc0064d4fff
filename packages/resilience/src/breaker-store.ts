/** A value or a promise of it: in-process stores answer synchronously, a Redis store asynchronously. */
export type Awaitable<T> = T | Promise<T>;

/**
 * The persisted state of one circuit breaker key, a tagged union: each state carries only
 * its own fields. Times are wall-clock milliseconds (Unix epoch) so that several machines
 * sharing a store agree on them. `generation` changes on every transition; an outcome is
 * applied only to the generation that admitted it, so a slow call admitted before the breaker
 * opened cannot close it (opossum #119/#120, where half-open let everything through).
 */
export type BreakerRecord =
  | {
      readonly t: 'closed';
      readonly generation: number;
      /** cockatiel `ConsecutiveBreaker` state: failures in a row. */
      readonly consecutive: unknown;
      /** cockatiel `CountBreaker` state: the sliding window of outcomes. */
      readonly window: unknown;
    }
  | {
      readonly t: 'open';
      readonly generation: number;
      /** When it opened. */
      readonly openedAt: number;
      /** When probes are admitted again. */
      readonly retryAt: number;
      /** Failed half-open trials in a row since the breaker was last closed (drives the growing open period). */
      readonly reopens: number;
    }
  | {
      readonly t: 'half-open';
      readonly generation: number;
      /** When the trial began (or its probe lease was last renewed). */
      readonly since: number;
      /** Probes in flight. */
      readonly probes: number;
      /** Probes that succeeded. */
      readonly successes: number;
      /** Failed half-open trials in a row before this one. */
      readonly reopens: number;
    };

/**
 * Where circuit breakers keep their state. The in-process store is a `Map`; a shared one
 * (Redis: `WATCH`/`MULTI` on one hash per key, or a Lua script) implements the same two
 * methods so a fleet opens and closes its breakers together. `update` must be atomic per key:
 * it may call `fn` again when a concurrent writer won, so `fn` must be pure.
 */
export interface BreakerStore {
  /** The record of `key`, or `undefined` when it has none (closed, no history). */
  get(key: string): Awaitable<BreakerRecord | undefined>;
  /** Atomically replaces the record of `key` by `fn(current)` and returns what was stored. */
  update(key: string, fn: (current: BreakerRecord | undefined) => BreakerRecord): Awaitable<BreakerRecord>;
}

/** Options of {@link createInProcessBreakerStore}. */
export interface InProcessStoreOptions {
  /** Keys kept at most; the least recently written is forgotten beyond it. Default 10 000. */
  readonly maxKeys?: number;
}

/** Default bound on keys, so per-connection keys cannot grow memory without limit. */
export const DEFAULT_MAX_STORE_KEYS = 10_000;

/** A {@link BreakerStore} in this process's memory, bounded to `maxKeys` keys. */
export function createInProcessBreakerStore(options: InProcessStoreOptions = {}): BreakerStore {
  const maxKeys = options.maxKeys ?? DEFAULT_MAX_STORE_KEYS;
  const records = new Map<string, BreakerRecord>();
  return {
    get: (key) => records.get(key),
    update(key, fn) {
      const next = fn(records.get(key));
      // Re-insert so Map order is least-recently-written first.
      records.delete(key);
      records.set(key, next);
      if (records.size > maxKeys) {
        const oldest = records.keys().next().value;
        if (oldest !== undefined) records.delete(oldest);
      }
      return next;
    },
  };
}

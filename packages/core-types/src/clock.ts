/**
 * An opaque timer handle as returned by {@link Clock.setTimeout}. Node's `Timeout` and
 * fake-timer handles both satisfy it; `unref()` lets a timer not keep the process alive.
 */
export interface TimerHandle {
  unref(): unknown;
  ref(): unknown;
  hasRef(): boolean;
}

/**
 * Time as Berth sees it. Injected into every component where time matters, so control
 * loops, estimators and timeouts are tested exactly with fake timers.
 */
export interface Clock {
  /** Monotonic milliseconds (fractional) since an arbitrary origin; only differences matter. */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch, for facts that must survive a restart (certificate expiry, ticket lifetime). */
  wallNow(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer from {@link Clock.setTimeout}; `undefined` is ignored. */
  clearTimeout(handle: TimerHandle | undefined): void;
  /** Calls `fn` every `ms` milliseconds. */
  setInterval(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer from {@link Clock.setInterval}; `undefined` is ignored. */
  clearInterval(handle: TimerHandle | undefined): void;
}

/**
 * The process clock. Each method looks the global up on every call (it does not keep a
 * reference taken at import time), so `vi.useFakeTimers()` installed later still applies.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]),
  setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
  clearInterval: (handle) => globalThis.clearInterval(handle as Parameters<typeof globalThis.clearInterval>[0]),
};

/** A source of uniform random numbers, injected wherever jitter or random choice matters. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
}

/** `Math.random`, looked up on every call. */
export const systemRandom: Random = {
  next: () => Math.random(),
};

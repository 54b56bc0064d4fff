import { noJitterGenerator } from 'cockatiel';
import type { Random } from '@berth/core-types';

/**
 * `min(capMs, baseMs · 2^n)`: cockatiel's `noJitterGenerator` (the exponential schedule of its
 * `ExponentialBackoff`), used as a pure function so the attempt number can live in a store.
 */
export function cappedExponentialMs(baseMs: number, capMs: number, n: number): number {
  const [delay] = noJitterGenerator(n, { initialDelay: baseMs, maxDelay: capMs, exponent: 2, generator: noJitterGenerator });
  return delay;
}

/**
 * Full jitter with the cap applied before the jitter: `random(0, min(cap, base · 2^n))`
 * (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015). Jittering first and capping
 * after collapses every client onto the cap (socket.io, streamlit/streamlit#15902).
 *
 * Hand-written on top of {@link cappedExponentialMs} because cockatiel's `fullJitterGenerator`
 * calls `Math.random` directly; Berth injects its {@link Random} so tests are exact.
 *
 * @param n retries already made (0 for the first retry).
 * @returns milliseconds in `[0, min(capMs, baseMs · 2^n))`.
 */
export function fullJitterMs(baseMs: number, capMs: number, n: number, random: Random): number {
  return random.next() * cappedExponentialMs(baseMs, capMs, n);
}

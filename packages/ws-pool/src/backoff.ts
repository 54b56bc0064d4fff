import type { Random } from '@berth/core-types';

/** Parameters of {@link fullJitterDelayMs}. */
export interface BackoffParams {
  /** Delay scale of the first retry, in milliseconds. */
  readonly baseMs: number;
  /** Largest window a delay is drawn from, in milliseconds. */
  readonly capMs: number;
}

/**
 * "Full jitter" (AWS Architecture Blog, Exponential Backoff and Jitter, 2015):
 * `random(0, min(cap, base · 2^attempt))`, with the cap applied **before** the jitter.
 *
 * socket.io-client's backo2 applies ±50 % jitter first and caps afterwards, so from the 5th
 * retry every client waits exactly the cap and a restarted server sees a thundering herd
 * (streamlit/streamlit#15902). Capping the window first keeps delays uniform over
 * `[0, cap)` however many attempts have failed.
 *
 * @param attempt 0 for the first retry after a loss.
 */
export function fullJitterDelayMs(attempt: number, params: BackoffParams, random: Random): number {
  // 2^attempt overflows to Infinity past ~1024; Math.min absorbs it.
  const window = Math.min(params.capMs, params.baseMs * 2 ** attempt);
  return random.next() * window;
}

import type { Random } from '@berth/core-types';

/**
 * Delay before connect attempt number `failures + 1`, after `failures` consecutive failures:
 * "full jitter", uniform in [0, min(maxMs, baseMs·2^(failures−1))] with the cap applied before
 * the jitter (AWS Architecture Blog, "Exponential Backoff and Jitter", 2015). bb8 doubles
 * without jitter, which makes a fleet reconnect in lock-step; generic-pool retries at once.
 * A floor of `baseMs / 2` keeps a burst of failures from ever becoming a busy loop.
 */
export function connectBackoffMs(failures: number, baseMs: number, maxMs: number, random: Random): number {
  if (failures <= 0) return 0;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
  const floor = Math.min(ceiling, baseMs / 2);
  return floor + random.next() * (ceiling - floor);
}

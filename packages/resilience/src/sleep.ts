import { isBerthError } from '@berth/core-types';
import type { Clock } from '@berth/core-types';
import { ResilienceAbortedError } from './errors.js';

/**
 * The error a waiter rejects with when `signal` fires: its reason when that is a Berth error
 * (the policies' own scopes use deadline, close and abort errors), else `ERR_BERTH_ABORTED`
 * with the reason as `cause`, so a standalone caller with a plain `AbortController` still gets
 * a coded error.
 */
export function abortError(signal: AbortSignal | undefined, waitingFor: string): Error {
  const reason: unknown = signal?.reason;
  if (isBerthError(reason)) return reason;
  return new ResilienceAbortedError(`aborted while waiting for ${waitingFor}`, { cause: reason });
}

/**
 * Waits `ms` on the injected clock. Rejects with {@link abortError} when the signal fires, and
 * clears its timer either way, so nothing is left behind.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal, waitingFor = 'a backoff'): Promise<void> {
  if (signal?.aborted === true) return Promise.reject(abortError(signal, waitingFor));
  if (ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(abortError(signal, waitingFor));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

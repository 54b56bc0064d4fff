import type { Clock, TimerHandle } from '@berth/core-types';
import { ResilienceAbortedError, ResilienceTimeoutError } from './errors.js';

/** The life of one logical request: one signal that fires on caller abort, close or deadline. */
export interface RequestScope {
  /** Fires with a Berth error as its reason: `ERR_BERTH_ABORTED`, `ERR_BERTH_CLOSED` or `ERR_BERTH_TIMEOUT`. */
  readonly signal: AbortSignal;
  /** Overall deadline, monotonic ms of the clock, when there is one. */
  readonly deadlineAt?: number;
  /** The timeout the deadline came from, ms. */
  readonly timeoutMs?: number;
  /**
   * The response head arrived (or the request failed): clears the deadline timer and stops
   * listening for close, whose graceful drain lets bodies finish.
   */
  settle(): void;
  /** The body is done too: stops listening to the caller's signal, which until then can still abort the body. */
  dispose(): void;
}

/**
 * Links the caller's signal, the transport's closing signal and an optional deadline into one
 * signal. Written out instead of `AbortSignal.any` because each source's reason must become a
 * Berth error, and every listener must go when the request ends (nothing left behind).
 */
export function openScope(clock: Clock, caller: AbortSignal | undefined, closing: AbortSignal, timeoutMs: number | undefined): RequestScope {
  const controller = new AbortController();
  const onCaller = (): void => {
    controller.abort(new ResilienceAbortedError('request aborted by the caller', { cause: caller?.reason }));
  };
  const onClosing = (): void => controller.abort(closing.reason);
  let timer: TimerHandle | undefined;
  if (caller?.aborted === true) onCaller();
  else if (closing.aborted) onClosing();
  else {
    caller?.addEventListener('abort', onCaller, { once: true });
    closing.addEventListener('abort', onClosing, { once: true });
    if (timeoutMs !== undefined) {
      timer = clock.setTimeout(() => {
        controller.abort(new ResilienceTimeoutError(`request did not complete within its deadline of ${timeoutMs} ms`, { timeoutMs, scope: 'deadline' }));
      }, timeoutMs);
    }
  }
  return {
    signal: controller.signal,
    ...(timeoutMs === undefined ? {} : { deadlineAt: clock.now() + timeoutMs, timeoutMs }),
    settle() {
      clock.clearTimeout(timer);
      closing.removeEventListener('abort', onClosing);
    },
    dispose() {
      this.settle();
      caller?.removeEventListener('abort', onCaller);
    },
  };
}

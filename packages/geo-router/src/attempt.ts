import type { ResponseData, TimerHandle } from '@berth/core-types';
import type { FailureClass } from './classify.js';
import type { CutCause, LiveAttempt, Region } from './region.js';

/** How one attempt ended: the region's response, or its failure classified for failover and health. */
export type AttemptResult =
  | { readonly t: 'response'; readonly region: Region; readonly response: ResponseData }
  | { readonly t: 'error'; readonly region: Region; readonly error: unknown; readonly failure: FailureClass };

/**
 * @internal The router's record of one attempt in flight. A class with one prototype method
 * rather than a handful of closures per attempt: on the common path an attempt is the only
 * thing routing allocates besides the caller's promise and the routed response, and the
 * router is measured against calling the region's transport directly (≤ 2 µs added).
 */
export class InFlightAttempt implements LiveAttempt {
  readonly region: Region;
  readonly replayable: boolean;
  /** Clock time (ms) the attempt was sent. */
  readonly start: number;
  /** Receives the result, exactly once. */
  readonly done: (result: AttemptResult) => void;
  readonly #onCut: (attempt: InFlightAttempt, cause: CutCause) => void;
  settled = false;
  slot = -1;
  /** `attemptTimeoutMs` timer, when there is one. */
  timer: TimerHandle | undefined = undefined;
  /** Its own controller: only hedged and `attemptTimeoutMs` attempts get one (see {@link LiveAttempt}). */
  controller: AbortController | undefined = undefined;
  /** Removes the listener on the caller's signal, when one was added. */
  unlink: (() => void) | undefined = undefined;
  /** The caller's signal aborted it (a caller failure, not the region's). */
  callerAborted = false;

  constructor(
    region: Region,
    replayable: boolean,
    start: number,
    done: (result: AttemptResult) => void,
    onCut: (attempt: InFlightAttempt, cause: CutCause) => void,
  ) {
    this.region = region;
    this.replayable = replayable;
    this.start = start;
    this.done = done;
    this.#onCut = onCut;
  }

  /** Ends the attempt now with `cause` (the router's `onCut` does the work); no-op once it has settled. */
  cut(cause: CutCause): void {
    if (!this.settled) this.#onCut(this, cause);
  }
}

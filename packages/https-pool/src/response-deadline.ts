import { MAX_TIMER_MS } from '@berth/core-types';
import type { Clock, TimerHandle } from '@berth/core-types';

/** The phase of a response a {@link ResponseDeadline} watches. */
export type ResponsePhase = 'headers' | 'body';

/** What a {@link ResponseDeadline} tells when the response it watches stalled too long. */
export interface DeadlineWatcher {
  /** Nothing arrived for `timeoutMs` in `phase` (for a body: while the consumer was reading). */
  deadlinePassed(phase: ResponsePhase, timeoutMs: number): void;
}

/**
 * The phase deadlines of the response on one connection: `headersTimeoutMs` from the
 * request to its head, then `bodyTimeoutMs` of silence between body chunks.
 *
 * Why not undici's `headersTimeout`/`bodyTimeout`: undici arms both as "fast timers"
 * (lib/util/timers.js; lib/dispatcher/client-h1.js gives `TIMEOUT_HEADERS` and
 * `TIMEOUT_BODY` the `USE_FAST_TIMER` bit, so `setFastTimeout` is used whatever the delay),
 * on a clock that ticks every 499 ms. `refresh()` on each chunk puts the timer back to
 * PENDING, the next tick makes it ACTIVE with its start one tick back, and only a later
 * tick can fire it. So a sub-second timeout fires 0.5–1 s late, and a body that sends a
 * chunk more often than every 499 ms never times out at all, whatever `bodyTimeout` says.
 *
 * This one is exact on the injected {@link Clock} and cheap on the hot path: one timer per
 * connection, created with its first request and kept. A chunk only records the time; the
 * timer is not moved. When it fires, it re-arms for the rest of the window if data came
 * meanwhile (the lazy deadline of Node's own socket timeouts and Go's `time.Timer.Reset`
 * pattern), and stops when no response is being read. A steady connection thus costs one
 * timer callback per timeout period, not one timer operation per request or per chunk —
 * and undici, given no phase timeouts, creates no parser timer per request either. Like
 * undici's, the body deadline does not run while the consumer applies backpressure: a
 * stall counts only while the pool is waiting for the server.
 */
export class ResponseDeadline {
  readonly #clock: Clock;
  readonly #fire = (): void => this.#expired();
  #timer: TimerHandle | undefined;
  /** When the armed timer fires (monotonic ms). */
  #timerDueAt = 0;
  #watcher: DeadlineWatcher | undefined;
  #phase: ResponsePhase = 'headers';
  #timeoutMs = 0;
  #lastProgressAt = 0;
  #paused = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * Starts watching `phase` at `now` (read here when not given): nothing may be silent for
   * `timeoutMs` at a time. Returns the clock reading, so the caller needs no other.
   */
  start(watcher: DeadlineWatcher, phase: ResponsePhase, timeoutMs: number, now: number = this.#clock.now()): number {
    this.#watcher = watcher;
    this.#phase = phase;
    this.#timeoutMs = timeoutMs;
    this.#paused = false;
    this.#lastProgressAt = now;
    this.#armBy(now + timeoutMs, now);
    return now;
  }

  /** Something arrived (a body chunk, an informational head). */
  progress(): void {
    this.#lastProgressAt = this.#clock.now();
  }

  /** The consumer stopped reading (backpressure): the server is not waited for. */
  pause(): void {
    this.#paused = true;
  }

  /** The consumer reads again: a fresh window starts now. */
  resume(): void {
    if (!this.#paused || this.#watcher === undefined) return;
    this.#paused = false;
    const now = this.#clock.now();
    this.#lastProgressAt = now;
    this.#armBy(now + this.#timeoutMs, now);
  }

  /** The response ended or failed: nothing is watched until the next `start`. */
  stop(): void {
    this.#watcher = undefined;
  }

  /** The connection closed: no timer is left. */
  dispose(): void {
    this.#watcher = undefined;
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Makes sure the timer fires no later than `deadline`. */
  #armBy(deadline: number, now: number): void {
    if (this.#timer !== undefined) {
      if (this.#timerDueAt <= deadline) return;
      this.#clock.clearTimeout(this.#timer);
    }
    this.#arm(deadline - now, deadline);
  }

  #arm(ms: number, dueAt: number): void {
    this.#timerDueAt = dueAt;
    // Past 2³¹ − 1 ms Node would fire after 1 ms: wait the longest it allows, then re-check.
    const timer = this.#clock.setTimeout(this.#fire, Math.min(ms, MAX_TIMER_MS));
    // An idle connection's timer must not keep the process alive.
    timer.unref();
    this.#timer = timer;
  }

  #expired(): void {
    this.#timer = undefined;
    const watcher = this.#watcher;
    if (watcher === undefined || this.#paused) return;
    const deadline = this.#lastProgressAt + this.#timeoutMs;
    const now = this.#clock.now();
    if (now < deadline) {
      this.#arm(deadline - now, deadline);
      return;
    }
    this.#watcher = undefined;
    watcher.deadlinePassed(this.#phase, this.#timeoutMs);
  }
}

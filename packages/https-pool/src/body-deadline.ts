import type { Clock, TimerHandle } from '@berth/core-types';

/** What a {@link BodyDeadline} tells when the body it watches stalled too long. */
export interface BodyWatcher {
  /** No body byte for `timeoutMs` while the consumer was reading. */
  bodyTimedOut(timeoutMs: number): void;
}

/**
 * The body-idle deadline (`bodyTimeoutMs`) of the response being read on one connection.
 *
 * Why not undici's `bodyTimeout`: undici arms it as one of its "fast timers"
 * (lib/util/timers.js, `setFastTimeout` for every `TIMEOUT_BODY`, whatever the delay), a
 * clock that ticks every 499 ms. `refresh()` on each chunk puts the timer back to PENDING,
 * the next tick makes it ACTIVE again with its start one tick back, and only a later tick
 * can fire it. So a sub-second timeout fires 0.5–1 s late at best, and a body that sends a
 * chunk more often than every 499 ms never times out at all, whatever `bodyTimeout` says.
 *
 * This one is exact on the injected {@link Clock} and cheap on the hot path: one timer per
 * connection, created on its first response and kept. A chunk only records the time; the
 * timer is not moved. When it fires, it re-arms for the rest of the window if data came
 * meanwhile (the lazy deadline of Node's own socket timeouts and Go's `time.Timer.Reset`
 * pattern), and stops when no body is being read. A steady connection thus costs one
 * timer callback per `bodyTimeoutMs`, not one timer operation per request or per chunk.
 * Like undici's, it does not run while the consumer applies backpressure: a stall counts
 * only while the pool is waiting for the server.
 */
export class BodyDeadline {
  readonly #clock: Clock;
  readonly #fire = (): void => this.#expired();
  #timer: TimerHandle | undefined;
  /** When the armed timer fires (monotonic ms). */
  #timerDueAt = 0;
  #watcher: BodyWatcher | undefined;
  #timeoutMs = 0;
  #lastProgressAt = 0;
  #paused = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * A response head arrived: its body may stay silent for `timeoutMs` at a time. Returns
   * the clock reading taken, so the caller needs no other for the same instant.
   */
  start(watcher: BodyWatcher, timeoutMs: number): number {
    const now = this.#clock.now();
    this.#watcher = watcher;
    this.#timeoutMs = timeoutMs;
    this.#paused = false;
    this.#lastProgressAt = now;
    this.#armBy(now + timeoutMs, now);
    return now;
  }

  /** A body chunk arrived. */
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

  /** The body ended or failed: nothing is watched until the next `start`. */
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
    const timer = this.#clock.setTimeout(this.#fire, ms);
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
    watcher.bodyTimedOut(this.#timeoutMs);
  }
}

import { MAX_TIMER_MS } from '@berth/core-types';
import type { Clock, TimerHandle } from '@berth/core-types';

/** A connection whose lifetime runs out at `expiresAt`. */
export interface Expiring {
  /** Monotonic ms at which the lifetime ends. */
  readonly expiresAt: number;
  /** The lifetime ended (called once, at or just after `expiresAt`). */
  lifetimeEnded(): void;
}

/**
 * The lifetimes of all of a pool's connections on ONE timer, armed for the earliest
 * `expiresAt`. A timer per connection cost ≈ 0.8 KB each: with ±10 % jitter every lifetime
 * is a distinct duration, and Node keeps a separate timer list (and priority-queue entry)
 * per distinct duration, plus the Timeout and its closure. Expiry stays exact (the timer is
 * re-armed for whatever is due next, never rounded to a sweep period as in bb8's reaper).
 * Adding is O(1) unless the newcomer expires first; a run is O(connections), once per expiry.
 */
export class LifetimeSchedule {
  readonly #clock: Clock;
  readonly #entries = new Set<Expiring>();
  readonly #fire = (): void => this.#run();
  #timer: TimerHandle | undefined;
  #dueAt = Number.POSITIVE_INFINITY;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Starts watching `entry` (a finite `expiresAt`). */
  add(entry: Expiring): void {
    this.#entries.add(entry);
    if (entry.expiresAt < this.#dueAt) this.#arm(entry.expiresAt);
  }

  /** Stops watching `entry` (closed); the timer goes when nothing is left to watch. */
  remove(entry: Expiring): void {
    if (!this.#entries.delete(entry) || this.#entries.size > 0) return;
    this.#disarm();
  }

  #arm(dueAt: number): void {
    this.#disarm();
    this.#dueAt = dueAt;
    // Node's timers run on a millisecond loop clock and may fire a fraction early against
    // the monotonic clock: a run that finds nothing due yet re-arms for the rest.
    const timer = this.#clock.setTimeout(this.#fire, Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(dueAt - this.#clock.now()))));
    timer.unref();
    this.#timer = timer;
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dueAt = Number.POSITIVE_INFINITY;
  }

  #run(): void {
    this.#timer = undefined;
    this.#dueAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.#entries) {
      if (entry.expiresAt <= now) {
        this.#entries.delete(entry);
        entry.lifetimeEnded();
      } else if (entry.expiresAt < next) {
        next = entry.expiresAt;
      }
    }
    if (next < this.#dueAt) this.#arm(next);
  }
}

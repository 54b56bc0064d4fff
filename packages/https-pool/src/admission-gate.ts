import type { Clock, TimerHandle } from '@berth/core-types';

interface Waiter {
  settled: boolean;
  readonly enqueuedAt: number;
  readonly resolve: (waitMs: number) => void;
  readonly reject: (error: Error) => void;
  timer: TimerHandle | undefined;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
  next: Waiter | undefined;
}

/** A FIFO of waiters as a singly linked list: O(1) push and shift, no array copying. */
class WaiterQueue {
  head: Waiter | undefined;
  tail: Waiter | undefined;

  push(w: Waiter): void {
    if (this.tail === undefined) this.head = w;
    else this.tail.next = w;
    this.tail = w;
  }

  shift(): Waiter | undefined {
    const w = this.head;
    if (w === undefined) return undefined;
    this.head = w.next;
    if (this.head === undefined) this.tail = undefined;
    w.next = undefined;
    return w;
  }
}

/** What the gate calls when a waiter gives up. */
export interface GateFailures {
  /** The error for a waiter whose deadline passed after `waitedMs`. */
  timeout(waitedMs: number): Error;
  /** The error for a waiter whose signal fired. */
  aborted(signal: AbortSignal): Error;
}

/**
 * Berth's own admission gate in front of generic-pool, whose `max` is fixed at construction
 * (ANCHORS §2): it holds `target` permits, one per connection the pool may lend at once, so
 * `resize()` takes effect for the very next waiter. Waiters queue by RFC 9218 urgency
 * (0 first), FIFO within one urgency; the queue is bounded and every wait has a deadline.
 * The uncontended path (`tryAcquire`) is a comparison and an increment: no timer, no promise.
 */
export class AdmissionGate {
  readonly #clock: Clock;
  readonly #queues: WaiterQueue[] = Array.from({ length: 8 }, () => new WaiterQueue());
  #target: number;
  #inUse = 0;
  #waiting = 0;

  constructor(target: number, clock: Clock) {
    this.#target = target;
    this.#clock = clock;
  }

  /** Permits held. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.#waiting;
  }

  /** The live limit. */
  get target(): number {
    return this.#target;
  }

  /** Takes a permit if one is free, at once. */
  tryAcquire(): boolean {
    if (this.#inUse < this.#target && this.#waiting === 0) {
      this.#inUse += 1;
      return true;
    }
    return false;
  }

  /** Waits for a permit; resolves with the milliseconds waited. */
  wait(urgency: number, timeoutMs: number, signal: AbortSignal | undefined, failures: GateFailures): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = {
        settled: false,
        enqueuedAt: this.#clock.now(),
        resolve,
        reject,
        timer: undefined,
        signal,
        onAbort: signal === undefined ? undefined : () => this.#fail(waiter, failures.aborted(signal)),
        next: undefined,
      };
      waiter.timer = this.#clock.setTimeout(() => {
        this.#fail(waiter, failures.timeout(this.#clock.now() - waiter.enqueuedAt));
      }, timeoutMs);
      if (waiter.onAbort !== undefined) signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.#queues[Math.min(7, Math.max(0, urgency | 0))]?.push(waiter);
      this.#waiting += 1;
    });
  }

  /** Returns a permit; the next waiter (if the limit allows) gets it. */
  release(): void {
    this.#inUse -= 1;
    this.#drain();
  }

  /** Changes the live limit. Growing wakes waiters at once; shrinking takes effect as permits come back. */
  setTarget(target: number): void {
    this.#target = target;
    this.#drain();
  }

  /** Fails every waiter with `error` (used by `close()`). */
  rejectAll(error: Error): void {
    for (const queue of this.#queues) {
      for (let w = queue.shift(); w !== undefined; w = queue.shift()) this.#fail(w, error);
    }
  }

  #drain(): void {
    while (this.#waiting > 0 && this.#inUse < this.#target) {
      const waiter = this.#shiftLive();
      if (waiter === undefined) return;
      this.#inUse += 1;
      this.#settle(waiter);
      waiter.resolve(this.#clock.now() - waiter.enqueuedAt);
    }
  }

  #shiftLive(): Waiter | undefined {
    for (const queue of this.#queues) {
      for (let w = queue.shift(); w !== undefined; w = queue.shift()) {
        if (!w.settled) return w;
      }
    }
    return undefined;
  }

  #fail(waiter: Waiter, error: Error): void {
    if (waiter.settled) return;
    this.#settle(waiter);
    waiter.reject(error);
  }

  #settle(waiter: Waiter): void {
    waiter.settled = true;
    this.#waiting -= 1;
    this.#clock.clearTimeout(waiter.timer);
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }
}

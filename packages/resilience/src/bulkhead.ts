import type { ComponentIdentity, RejectedMessage } from '@berth/core-types';
import { channels, eventError, identity } from './channels.js';
import { BulkheadFullError } from './errors.js';
import { abortError } from './sleep.js';
import { checkBulkheadOptions, resolveOptions } from './options.js';
import type { BulkheadOptions, ResolvedBulkheadOptions } from './options.js';

/** Stats of one bulkhead key. */
export interface BulkheadKeyStats {
  /** Requests running. */
  readonly active: number;
  /** Requests waiting for a place. */
  readonly queued: number;
  /** Requests refused with `ERR_BERTH_QUEUE_FULL` since creation. */
  readonly rejected: number;
}

/** Snapshot of a {@link Bulkhead}. */
export interface BulkheadStats {
  /** Configured places per key. */
  readonly maxConcurrent: number;
  /** Configured queue per key. */
  readonly maxQueued: number;
  /** Per key with activity (idle keys are forgotten). */
  readonly keys: Readonly<Record<string, BulkheadKeyStats>>;
}

interface Waiter {
  readonly grant: () => void;
}

interface Compartment {
  active: number;
  readonly queue: Set<Waiter>;
  rejected: number;
}

/** Gives the place back; calling it again does nothing. */
export type Release = () => void;

/**
 * Caps concurrent requests per key and queues a bounded number more (FIFO); beyond that,
 * `ERR_BERTH_QUEUE_FULL` at once. Hand-written rather than cockatiel 3.x's `BulkheadPolicy`,
 * whose queue is one per policy (not per key) and keeps an aborted waiter's queue place until
 * it reaches the head (the abort-starvation fixed in cockatiel #112, 4.0 only, Node ≥ 22):
 * here an aborted waiter leaves the queue at once.
 */
export class Bulkhead {
  readonly #options: ResolvedBulkheadOptions;
  readonly #identity: ComponentIdentity;
  readonly #compartments = new Map<string, Compartment>();
  #rejectedOfForgotten = 0;

  /** @internal use {@link createBulkhead}. */
  constructor(options: ResolvedBulkheadOptions, component?: ComponentIdentity) {
    this.#options = options;
    this.#identity = component ?? identity(options.name);
  }

  /**
   * Takes a place of `key`, queueing if all are taken. Resolves with the function that gives
   * it back; rejects with `ERR_BERTH_QUEUE_FULL` when the queue is full too, or with the
   * signal's reason when `signal` fires while queued.
   */
  acquire(key: string, signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted === true) return Promise.reject(abortError(signal, `a bulkhead place of ${key}`));
    const compartment = this.#compartmentOf(key);
    if (compartment.active < this.#options.maxConcurrent) {
      compartment.active += 1;
      return Promise.resolve(this.#release(key, compartment));
    }
    if (compartment.queue.size >= this.#options.maxQueued) {
      compartment.rejected += 1;
      const error = new BulkheadFullError(
        `bulkhead ${key} is full: ${compartment.active} running (maxConcurrent ${this.#options.maxConcurrent}) and ${compartment.queue.size} queued (maxQueued ${this.#options.maxQueued})`,
        { key, active: compartment.active, queued: compartment.queue.size },
      );
      if (channels.rejected.hasSubscribers) {
        channels.rejected.publish({ component: this.#identity, key, error: eventError(error) } satisfies RejectedMessage);
      }
      return Promise.reject(error);
    }
    return new Promise<Release>((resolve, reject) => {
      const onAbort = (): void => {
        compartment.queue.delete(waiter);
        this.#forgetIfIdle(key, compartment);
        reject(abortError(signal, `a bulkhead place of ${key}`));
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#release(key, compartment));
        },
      };
      compartment.queue.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Runs `fn` holding a place of `key`. */
  async run<T>(key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(key, signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Snapshot per key. */
  stats(): BulkheadStats {
    const keys: Record<string, BulkheadKeyStats> = {};
    for (const [key, c] of this.#compartments) keys[key] = { active: c.active, queued: c.queue.size, rejected: c.rejected };
    return { maxConcurrent: this.#options.maxConcurrent, maxQueued: this.#options.maxQueued, keys };
  }

  /** Requests refused since creation, over all keys (including keys since forgotten). */
  rejectedTotal(): number {
    let total = this.#rejectedOfForgotten;
    for (const c of this.#compartments.values()) total += c.rejected;
    return total;
  }

  #release(key: string, compartment: Compartment): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = compartment.queue.values().next();
      if (!next.done) {
        // The place passes straight to the next waiter: no window where a newcomer could jump the queue.
        compartment.queue.delete(next.value);
        next.value.grant();
        return;
      }
      compartment.active -= 1;
      this.#forgetIfIdle(key, compartment);
    };
  }

  #compartmentOf(key: string): Compartment {
    let compartment = this.#compartments.get(key);
    if (compartment === undefined) {
      compartment = { active: 0, queue: new Set(), rejected: 0 };
      this.#compartments.set(key, compartment);
    }
    return compartment;
  }

  #forgetIfIdle(key: string, compartment: Compartment): void {
    if (compartment.active === 0 && compartment.queue.size === 0 && this.#compartments.get(key) === compartment) {
      this.#rejectedOfForgotten += compartment.rejected;
      this.#compartments.delete(key);
    }
  }
}

/**
 * Creates a {@link Bulkhead}. Throws `ERR_BERTH_CONFIG` listing every bad option.
 *
 * @example
 * const bulkhead = createBulkhead({ maxConcurrent: 32, maxQueued: 100 });
 * const res = await bulkhead.run('https://api.example.com', () => pool.request({ path: '/' }));
 */
export function createBulkhead(options: BulkheadOptions = {}): Bulkhead {
  return new Bulkhead(resolveOptions('bulkhead', options, checkBulkheadOptions));
}

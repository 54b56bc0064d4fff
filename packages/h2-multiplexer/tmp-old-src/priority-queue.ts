import type { Urgency } from '@berth/core-types';

/** Number of RFC 9218 urgency levels (0–7). */
export const URGENCY_LEVELS = 8;

/** A place in a {@link PriorityQueue}; pass it to {@link PriorityQueue.remove} to take the entry out. */
export interface QueueEntry<T> {
  readonly value: T;
  readonly urgency: Urgency;
  /** Monotonic milliseconds when the entry started waiting (what aging counts from). */
  readonly since: number;
  prev: QueueEntry<T> | undefined;
  next: QueueEntry<T> | undefined;
  queued: boolean;
}

interface Level<T> {
  head: QueueEntry<T> | undefined;
  tail: QueueEntry<T> | undefined;
  size: number;
}

/**
 * Requests waiting for a stream slot, ordered by RFC 9218 urgency (0 first) and FIFO within a
 * level. One intrusive doubly linked list per level, so a request that times out or is
 * aborted leaves in O(1) instead of being skipped later (no tombstones piling up under load).
 * Hand-written because the queue needs O(1) removal by handle, which heap-based libraries
 * (p-queue, heap-js) do not offer.
 *
 * **Aging** (`agingMs` > 0): a waiting entry's effective urgency improves by one level per
 * `agingMs` it has waited, down to 0, so sustained urgency-0 load cannot starve urgency 7
 * forever (the classic aging cure for strict-priority starvation, as in the Linux O(1) and
 * BSD schedulers). It is computed when an entry is taken, not by moving entries on a timer:
 * within a level the head is the oldest entry and so the most aged, so only the eight heads
 * are compared, by effective urgency and then by waiting time (FIFO within an effective
 * level). No timers, and nothing to do while nobody takes an entry.
 */
export class PriorityQueue<T> {
  readonly #levels: Level<T>[] = Array.from({ length: URGENCY_LEVELS }, () => ({ head: undefined, tail: undefined, size: 0 }));
  readonly #agingMs: number;
  #size = 0;

  /** @param agingMs milliseconds of waiting that raise an entry by one urgency level; 0 = strict priority */
  constructor(agingMs = 0) {
    this.#agingMs = agingMs;
  }

  /** Entries waiting. */
  get size(): number {
    return this.#size;
  }

  /** Entries waiting per urgency (index = urgency as requested, before aging). */
  sizes(): number[] {
    return this.#levels.map((level) => level.size);
  }

  /** Appends `value` at the end of its urgency level; `since` is when it started waiting (monotonic ms). */
  push(value: T, urgency: Urgency, since: number): QueueEntry<T> {
    const entry: QueueEntry<T> = { value, urgency, since, prev: undefined, next: undefined, queued: true };
    const level = this.#level(urgency);
    entry.prev = level.tail;
    if (level.tail === undefined) level.head = entry;
    else level.tail.next = entry;
    level.tail = entry;
    level.size += 1;
    this.#size += 1;
    return entry;
  }

  /**
   * Puts `value` at the front of its urgency level (a replayed request keeps its turn).
   * `since` should be when it first started waiting, so it keeps its age too.
   */
  unshift(value: T, urgency: Urgency, since: number): QueueEntry<T> {
    const entry: QueueEntry<T> = { value, urgency, since, prev: undefined, next: undefined, queued: true };
    const level = this.#level(urgency);
    entry.next = level.head;
    if (level.head === undefined) level.tail = entry;
    else level.head.prev = entry;
    level.head = entry;
    level.size += 1;
    this.#size += 1;
    return entry;
  }

  /** The entry {@link shift} would take at monotonic time `now`, without removing it. */
  peek(now: number): T | undefined {
    return this.#best(now)?.value;
  }

  /** Removes and returns the entry with the best effective urgency at `now` (oldest first among equals). */
  shift(now: number): T | undefined {
    const best = this.#best(now);
    if (best === undefined) return undefined;
    this.remove(best);
    return best.value;
  }

  /** Takes `entry` out; a no-op when it already left. */
  remove(entry: QueueEntry<T>): void {
    if (!entry.queued) return;
    const level = this.#level(entry.urgency);
    if (entry.prev === undefined) level.head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) level.tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    entry.queued = false;
    level.size -= 1;
    this.#size -= 1;
  }

  /** Removes and returns every entry, most urgent first (by requested urgency). */
  drain(): T[] {
    const all: T[] = [];
    for (const level of this.#levels) {
      for (let entry = level.head; entry !== undefined; entry = level.head) {
        this.remove(entry);
        all.push(entry.value);
      }
    }
    return all;
  }

  #best(now: number): QueueEntry<T> | undefined {
    const levels = this.#levels;
    const agingMs = this.#agingMs;
    let best: QueueEntry<T> | undefined;
    let bestUrgency = URGENCY_LEVELS;
    for (let u = 0; u < URGENCY_LEVELS; u++) {
      const head = (levels[u] as Level<T>).head;
      if (head === undefined) continue;
      if (agingMs === 0) return head;
      const effective = Math.max(0, u - Math.floor((now - head.since) / agingMs));
      if (effective < bestUrgency || (effective === bestUrgency && best !== undefined && head.since < best.since)) {
        best = head;
        bestUrgency = effective;
      }
    }
    return best;
  }

  #level(urgency: Urgency): Level<T> {
    const level = this.#levels[urgency];
    if (level === undefined) throw new RangeError(`urgency ${urgency} is outside 0–7`);
    return level;
  }
}

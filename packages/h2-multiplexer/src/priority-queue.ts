import type { Urgency } from '@berth/core-types';

/** Number of RFC 9218 urgency levels (0–7). */
export const URGENCY_LEVELS = 8;

/** A place in a {@link PriorityQueue}; pass it to {@link PriorityQueue.remove} to take the entry out. */
export interface QueueEntry<T> {
  readonly value: T;
  readonly urgency: Urgency;
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
 */
export class PriorityQueue<T> {
  readonly #levels: Level<T>[] = Array.from({ length: URGENCY_LEVELS }, () => ({ head: undefined, tail: undefined, size: 0 }));
  #size = 0;

  /** Entries waiting. */
  get size(): number {
    return this.#size;
  }

  /** Entries waiting per urgency (index = urgency). */
  sizes(): number[] {
    return this.#levels.map((level) => level.size);
  }

  /** Appends `value` at the end of its urgency level. */
  push(value: T, urgency: Urgency): QueueEntry<T> {
    const entry: QueueEntry<T> = { value, urgency, prev: undefined, next: undefined, queued: true };
    const level = this.#level(urgency);
    entry.prev = level.tail;
    if (level.tail === undefined) level.head = entry;
    else level.tail.next = entry;
    level.tail = entry;
    level.size += 1;
    this.#size += 1;
    return entry;
  }

  /** Puts `value` at the front of its urgency level (a replayed request keeps its turn). */
  unshift(value: T, urgency: Urgency): QueueEntry<T> {
    const entry: QueueEntry<T> = { value, urgency, prev: undefined, next: undefined, queued: true };
    const level = this.#level(urgency);
    entry.next = level.head;
    if (level.head === undefined) level.tail = entry;
    else level.head.prev = entry;
    level.head = entry;
    level.size += 1;
    this.#size += 1;
    return entry;
  }

  /** The most urgent, oldest entry, without removing it. */
  peek(): T | undefined {
    for (const level of this.#levels) if (level.head !== undefined) return level.head.value;
    return undefined;
  }

  /** Removes and returns the most urgent, oldest entry. */
  shift(): T | undefined {
    for (const level of this.#levels) {
      const head = level.head;
      if (head !== undefined) {
        this.remove(head);
        return head.value;
      }
    }
    return undefined;
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

  /** Removes and returns every entry, most urgent first. */
  drain(): T[] {
    const all: T[] = [];
    for (let value = this.shift(); value !== undefined; value = this.shift()) all.push(value);
    return all;
  }

  #level(urgency: Urgency): Level<T> {
    const level = this.#levels[urgency];
    if (level === undefined) throw new RangeError(`urgency ${urgency} is outside 0–7`);
    return level;
  }
}

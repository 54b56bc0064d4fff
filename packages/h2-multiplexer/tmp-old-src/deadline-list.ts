import type { Clock, TimerHandle } from '@berth/core-types';

/** An entry of a {@link DeadlineList}, returned by `add()` so it can be removed in O(1). */
export interface DeadlineNode<T> {
  readonly item: T;
  /** Monotonic milliseconds (the clock's `now()`) when the item expires. */
  readonly due: number;
  prev: DeadlineNode<T> | undefined;
  next: DeadlineNode<T> | undefined;
  linked: boolean;
}

/**
 * Many deadlines on one timer: a list sorted by due time and a single clock timer for its
 * head, instead of a `Timeout` object and a closure per request (undici's fast timers make
 * the same trade). Deadlines mostly arrive in order (now + the same timeout), so inserting
 * from the tail is O(1); removing is always O(1), and an emptied list leaves no timer.
 */
export class DeadlineList<T> {
  readonly #clock: Clock;
  readonly #expire: (item: T) => void;
  #head: DeadlineNode<T> | undefined;
  #tail: DeadlineNode<T> | undefined;
  #timer: TimerHandle | undefined;
  #timerDue = Infinity;
  #size = 0;

  /** `expire` is called with each item whose deadline passed, in due order. */
  constructor(clock: Clock, expire: (item: T) => void) {
    this.#clock = clock;
    this.#expire = expire;
  }

  /** Items waiting. */
  get size(): number {
    return this.#size;
  }

  /** Adds `item`, due at monotonic time `due` (ms). */
  add(item: T, due: number): DeadlineNode<T> {
    const node: DeadlineNode<T> = { item, due, prev: undefined, next: undefined, linked: true };
    let after = this.#tail;
    while (after !== undefined && after.due > due) after = after.prev;
    if (after === undefined) {
      node.next = this.#head;
      if (this.#head !== undefined) this.#head.prev = node;
      this.#head = node;
    } else {
      node.prev = after;
      node.next = after.next;
      if (after.next !== undefined) after.next.prev = node;
      after.next = node;
    }
    if (node.next === undefined) this.#tail = node;
    this.#size += 1;
    if (due < this.#timerDue) this.#arm(due);
    return node;
  }

  /** Removes `node` if it is still waiting. */
  remove(node: DeadlineNode<T> | undefined): void {
    if (node === undefined || !node.linked) return;
    this.#unlink(node);
    if (this.#head === undefined) this.#disarm();
  }

  #unlink(node: DeadlineNode<T>): void {
    node.linked = false;
    if (node.prev === undefined) this.#head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.#tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = undefined;
    node.next = undefined;
    this.#size -= 1;
  }

  #arm(due: number): void {
    this.#disarm();
    this.#timerDue = due;
    this.#timer = this.#clock.setTimeout(this.#fire, Math.max(0, due - this.#clock.now()));
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = Infinity;
  }

  readonly #fire = (): void => {
    // The timer was set for `#timerDue`, so that much time has passed even if `now()` lags
    // (node timers round to whole milliseconds; fake timers may not move the clock's `now`).
    const now = Math.max(this.#clock.now(), this.#timerDue);
    this.#timer = undefined;
    this.#timerDue = Infinity;
    // Collect first, expire after: an item an expiry adds again (a body whose silence
    // window restarted) waits for a later timer even when its due time has passed by this
    // `now`, instead of expiring again in this pass, over and over.
    let expired: T[] | undefined;
    let head = this.#head;
    while (head !== undefined && head.due <= now) {
      this.#unlink(head);
      (expired ??= []).push(head.item);
      head = this.#head;
    }
    if (head !== undefined) this.#arm(head.due);
    if (expired !== undefined) for (const item of expired) this.#expire(item);
  };
}

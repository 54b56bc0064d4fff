/**
 * A FIFO with O(1) push, shift and unshift of a batch, for send buffers that see 10⁵ messages
 * a second (`Array.prototype.shift` is O(n) once V8 leaves the fast path). @internal
 */
export class Deque<T> {
  #items: T[] = [];
  #head = 0;

  /** Items held. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** The first item. */
  peek(): T | undefined {
    return this.#items[this.#head];
  }

  /** Appends one item. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** Removes and returns the first item. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#head += 1;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Puts `items` in front, keeping their order. */
  unshiftAll(items: readonly T[]): void {
    if (items.length === 0) return;
    this.#items = [...items, ...this.#items.slice(this.#head)];
    this.#head = 0;
  }

  /** Removes the items matching `predicate` and returns them in order. */
  removeIf(predicate: (item: T) => boolean): T[] {
    const kept: T[] = [];
    const removed: T[] = [];
    for (let i = this.#head; i < this.#items.length; i += 1) {
      const item = this.#items[i] as T;
      (predicate(item) ? removed : kept).push(item);
    }
    if (removed.length > 0) {
      this.#items = kept;
      this.#head = 0;
    }
    return removed;
  }

  /** Removes and returns every item. */
  drain(): T[] {
    const all = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return all;
  }

  /** Visits the items in order. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i += 1) yield this.#items[i] as T;
  }
}

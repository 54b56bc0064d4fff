import type { BerthError } from '@berth/core-types';

/**
 * A bounded, single-reader async queue of received messages. When the reader falls behind by
 * `max` messages the oldest is dropped and reported through `onDrop` (counted, never silent).
 * @internal
 */
export class InboundQueue<T> implements AsyncIterable<T> {
  readonly #max: number;
  readonly #onDrop: (item: T) => void;
  #items: T[] = [];
  #head = 0;
  #waiter: { resolve: (result: IteratorResult<T>) => void; reject: (error: BerthError) => void } | undefined;
  #ended: { error: BerthError | undefined } | undefined;

  constructor(max: number, onDrop: (item: T) => void) {
    this.#max = max;
    this.#onDrop = onDrop;
  }

  /** Messages waiting for the reader. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds a message (ignored after `end()`). */
  push(item: T): void {
    if (this.#ended !== undefined) return;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter.resolve({ value: item, done: false });
      return;
    }
    this.#items.push(item);
    if (this.length > this.#max) {
      const dropped = this.#items[this.#head] as T;
      this.#head += 1;
      this.#onDrop(dropped);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Ends the stream: the reader gets what is buffered, then `done` (or `error`). */
  end(error?: BerthError): void {
    if (this.#ended !== undefined) return;
    this.#ended = { error };
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter === undefined) return;
    if (error === undefined) waiter.resolve({ value: undefined, done: true });
    else waiter.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.length > 0) {
          const value = this.#items[this.#head] as T;
          this.#head += 1;
          return Promise.resolve({ value, done: false });
        }
        if (this.#ended !== undefined) {
          return this.#ended.error === undefined
            ? Promise.resolve({ value: undefined, done: true })
            : Promise.reject(this.#ended.error);
        }
        return new Promise((resolve, reject) => {
          this.#waiter = { resolve, reject };
        });
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

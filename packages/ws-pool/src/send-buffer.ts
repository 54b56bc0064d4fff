import { Deque } from './deque.js';
import { WsAbortedError, WsBufferFullError, WsDroppedError, WsExpiredError } from './errors.js';
import type { OverflowPolicy } from './options.js';
import type { Outbound, OutboundHolder } from './outbound.js';

/** Why a message left the buffer without being written (the `message-lost` event's reason). */
export type LostReason = 'drop-oldest' | 'drop-newest' | 'rejected' | 'expired' | 'closed' | 'aborted';

/** Bounds of a {@link SendBuffer}. */
export interface BufferLimits {
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly overflow: OverflowPolicy;
}

/**
 * The bounded buffer of one socket: messages wait here while the socket is not ready, or while
 * its written-but-unconfirmed bytes are above the high-water mark. Every message that leaves it
 * without being written is failed with a coded error and reported through `onLost`, so nothing
 * is dropped silently (unlike reconnecting-websocket's queue, pladaria/reconnecting-websocket#147).
 *
 * With the `block` policy a message that does not fit waits in a second FIFO, outside the
 * bounds, and is admitted in send order as space frees (a later message never overtakes a
 * blocked one: while any is blocked, new ones block too). Invariant: something is blocked
 * only while the buffer itself holds messages, so an empty buffer means nothing waits.
 * @internal
 */
export class SendBuffer implements OutboundHolder {
  readonly #items = new Deque<Outbound>();
  readonly #blocked = new Deque<Outbound>();
  readonly #limits: BufferLimits;
  readonly #onLost: (message: Outbound, reason: LostReason) => void;
  #bytes = 0;

  constructor(limits: BufferLimits, onLost: (message: Outbound, reason: LostReason) => void) {
    this.#limits = limits;
    this.#onLost = onLost;
  }

  /** Messages buffered (blocked ones not included). */
  get length(): number {
    return this.#items.length;
  }

  /** Bytes buffered (blocked ones not included). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Senders waiting for room (`block` policy). */
  get blocked(): number {
    return this.#blocked.length;
  }

  /** The next message to write. */
  peek(): Outbound | undefined {
    return this.#items.peek();
  }

  /** Takes the next message to write (and admits blocked ones into the room it leaves). */
  shift(): Outbound | undefined {
    const message = this.#items.shift();
    if (message !== undefined) {
      this.#bytes -= message.bytes;
      message.holder = undefined;
      if (this.#blocked.length > 0) this.#admit();
    }
    return message;
  }

  /**
   * Adds a new message under the overflow policy. Returns false when the message itself was
   * refused or discarded (it has been failed already).
   */
  offer(message: Outbound): boolean {
    const { maxMessages, maxBytes, overflow } = this.#limits;
    if (this.#blocked.length === 0 && this.#fits(message)) {
      this.#append(message);
      return true;
    }
    if (overflow === 'block' && message.bytes <= maxBytes) {
      this.#blocked.push(message);
      message.holder = this;
      return true;
    }
    if (overflow === 'drop-oldest' && message.bytes <= maxBytes) {
      while (!this.#fits(message)) {
        const oldest = this.shift() as Outbound;
        oldest.fail(
          new WsDroppedError(`WebSocket message of ${oldest.bytes} bytes dropped (drop-oldest) to make room`, {
            policy: 'drop-oldest',
            channel: oldest.channel,
          }),
        );
        this.#onLost(oldest, 'drop-oldest');
      }
      this.#append(message);
      return true;
    }
    const state = { messages: this.#items.length, bytes: this.#bytes, maxMessages, maxBytes };
    if (overflow === 'drop-newest') {
      message.fail(
        new WsDroppedError(
          `WebSocket message of ${message.bytes} bytes dropped (drop-newest): buffer holds ${state.messages}/${maxMessages} messages, ${state.bytes}/${maxBytes} bytes`,
          { policy: 'drop-newest', channel: message.channel, ...state },
        ),
      );
      this.#onLost(message, 'drop-newest');
      return false;
    }
    message.fail(
      new WsBufferFullError(
        `WebSocket send buffer full: ${state.messages}/${maxMessages} messages, ${state.bytes}/${maxBytes} bytes; message of ${message.bytes} bytes refused`,
        { channel: message.channel, ...state },
      ),
    );
    this.#onLost(message, 'rejected');
    return false;
  }

  /** Puts already-accepted messages back in front (a write that never completed), bypassing the bounds. */
  requeue(messages: readonly Outbound[]): void {
    for (const message of messages) {
      this.#bytes += message.bytes;
      message.holder = this;
    }
    this.#items.unshiftAll(messages);
  }

  /** Appends already-accepted messages (moved from another socket), bypassing the bounds. */
  adopt(messages: readonly Outbound[]): void {
    for (const message of messages) this.#append(message);
  }

  /** Removes the messages matching `predicate` (to move them) and returns them in order: buffered, then blocked. */
  take(predicate: (message: Outbound) => boolean): Outbound[] {
    const taken = this.#items.removeIf(predicate);
    for (const message of taken) {
      this.#bytes -= message.bytes;
      message.holder = undefined;
    }
    if (this.#blocked.length > 0) {
      for (const message of this.#blocked.removeIf(predicate)) {
        message.holder = undefined;
        taken.push(message);
      }
      this.#admit();
    }
    return taken;
  }

  /** Fails every message whose TTL passed at `now`, blocked ones included. Returns the earliest remaining expiry, if any. */
  expire(now: number): number | undefined {
    const due = (message: Outbound) => message.expiresAt <= now;
    const blocked = this.#blocked.length > 0 ? new Set(this.#blocked.removeIf(due)) : undefined;
    for (const message of [...this.take(due), ...(blocked ?? [])]) {
      message.holder = undefined;
      const wasBlocked = blocked?.has(message) === true;
      message.fail(
        new WsExpiredError(
          wasBlocked
            ? `WebSocket message of ${message.bytes} bytes expired while its sender waited for buffer room (block)`
            : `WebSocket message of ${message.bytes} bytes expired before a socket could take it`,
          { channel: message.channel, expiredAt: message.expiresAt, ...(wasBlocked ? { blocked: true } : {}) },
        ),
      );
      this.#onLost(message, 'expired');
    }
    return this.earliestExpiry();
  }

  /** The earliest `expiresAt` among buffered and blocked messages. */
  earliestExpiry(): number | undefined {
    let earliest: number | undefined;
    for (const message of this.#items) if (earliest === undefined || message.expiresAt < earliest) earliest = message.expiresAt;
    for (const message of this.#blocked) if (earliest === undefined || message.expiresAt < earliest) earliest = message.expiresAt;
    return earliest;
  }

  /** Fails every message (buffered and blocked) with `error(message)` and reason `closed`. */
  failAll(error: (message: Outbound) => Parameters<Outbound['fail']>[0]): void {
    for (const message of this.take(() => true)) {
      message.fail(error(message));
      this.#onLost(message, 'closed');
    }
  }

  /** Takes `message` out (its sender aborted) and rejects it with `ERR_BERTH_ABORTED`. */
  abort(message: Outbound): void {
    if (this.take((m) => m === message).length === 0) return;
    message.fail(new WsAbortedError(`WebSocket message of ${message.bytes} bytes aborted by its sender before it was written`, { channel: message.channel }));
    this.#onLost(message, 'aborted');
  }

  #fits(message: Outbound): boolean {
    return this.#items.length + 1 <= this.#limits.maxMessages && this.#bytes + message.bytes <= this.#limits.maxBytes;
  }

  #admit(): void {
    for (let next = this.#blocked.peek(); next !== undefined && this.#fits(next); next = this.#blocked.peek()) {
      this.#blocked.shift();
      this.#append(next);
    }
  }

  #append(message: Outbound): void {
    this.#items.push(message);
    this.#bytes += message.bytes;
    message.holder = this;
  }
}

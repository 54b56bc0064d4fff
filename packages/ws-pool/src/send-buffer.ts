import { Deque } from './deque.js';
import { WsBufferFullError, WsDroppedError, WsExpiredError } from './errors.js';
import type { OverflowPolicy } from './options.js';
import type { Outbound } from './outbound.js';

/** Why a message left the buffer without being written (the `message-lost` event's reason). */
export type LostReason = 'drop-oldest' | 'drop-newest' | 'rejected' | 'expired' | 'closed';

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
 * @internal
 */
export class SendBuffer {
  readonly #items = new Deque<Outbound>();
  readonly #limits: BufferLimits;
  readonly #onLost: (message: Outbound, reason: LostReason) => void;
  #bytes = 0;

  constructor(limits: BufferLimits, onLost: (message: Outbound, reason: LostReason) => void) {
    this.#limits = limits;
    this.#onLost = onLost;
  }

  /** Messages buffered. */
  get length(): number {
    return this.#items.length;
  }

  /** Bytes buffered. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The next message to write. */
  peek(): Outbound | undefined {
    return this.#items.peek();
  }

  /** Takes the next message to write. */
  shift(): Outbound | undefined {
    const message = this.#items.shift();
    if (message !== undefined) this.#bytes -= message.bytes;
    return message;
  }

  /**
   * Adds a new message under the overflow policy. Returns false when the message itself was
   * refused or discarded (it has been failed already).
   */
  offer(message: Outbound): boolean {
    const { maxMessages, maxBytes, overflow } = this.#limits;
    const fits = () => this.#items.length + 1 <= maxMessages && this.#bytes + message.bytes <= maxBytes;
    if (fits()) {
      this.#append(message);
      return true;
    }
    if (overflow === 'drop-oldest' && message.bytes <= maxBytes) {
      while (!fits()) {
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
    for (const message of messages) this.#bytes += message.bytes;
    this.#items.unshiftAll(messages);
  }

  /** Appends already-accepted messages (moved from another socket), bypassing the bounds. */
  adopt(messages: readonly Outbound[]): void {
    for (const message of messages) this.#append(message);
  }

  /** Removes the messages matching `predicate` (to move them) and returns them in order. */
  take(predicate: (message: Outbound) => boolean): Outbound[] {
    const taken = this.#items.removeIf(predicate);
    for (const message of taken) this.#bytes -= message.bytes;
    return taken;
  }

  /** Fails every message whose TTL passed at `now`. Returns the earliest remaining expiry, if any. */
  expire(now: number): number | undefined {
    const expired = this.take((message) => message.expiresAt <= now);
    for (const message of expired) {
      message.fail(
        new WsExpiredError(`WebSocket message of ${message.bytes} bytes expired before a socket was ready`, {
          channel: message.channel,
          expiredAt: message.expiresAt,
        }),
      );
      this.#onLost(message, 'expired');
    }
    return this.earliestExpiry();
  }

  /** The earliest `expiresAt` in the buffer. */
  earliestExpiry(): number | undefined {
    let earliest: number | undefined;
    for (const message of this.#items) if (earliest === undefined || message.expiresAt < earliest) earliest = message.expiresAt;
    return earliest;
  }

  /** Fails every message with `error(message)` and reason `closed`. */
  failAll(error: (message: Outbound) => Parameters<Outbound['fail']>[0]): void {
    for (const message of this.take(() => true)) {
      message.fail(error(message));
      this.#onLost(message, 'closed');
    }
  }

  #append(message: Outbound): void {
    this.#items.push(message);
    this.#bytes += message.bytes;
  }
}

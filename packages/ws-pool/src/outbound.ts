import type { BerthError } from '@berth/core-types';
import { WsAbortedError } from './errors.js';

/** How a `send()` ended well: handed to the kernel, or acknowledged by the server (`acks: true`). */
export type WsSendResult = 'written' | 'acked';

/** What a message waiting for an ack reports back to. @internal */
export interface AckSink {
  /** Channel name. */
  readonly name: string;
  /** Called once, when the message is written for the first time (it joins the unacked window). */
  firstWrite(message: Outbound): void;
  /** True while the unacked window is full: the message must wait. */
  windowFull(): boolean;
}

const captured: { resolve: unknown; reject: unknown } = { resolve: undefined, reject: undefined };
function captureResolvers(resolve: unknown, reject: unknown): void {
  captured.resolve = resolve;
  captured.reject = reject;
}

/** The rejection of a send whose signal had fired before the call. @internal */
export function abortedBeforeSend(channel: string | undefined): WsAbortedError {
  return new WsAbortedError('WebSocket send aborted before it was queued (the signal had already fired)', { channel });
}

/** The queue a waiting message sits in, so an abort can take it out. @internal */
export interface OutboundHolder {
  /** Removes `message` and rejects it with `ERR_BERTH_ABORTED`; no-op when it is not there. */
  abort(message: Outbound): void;
}

/** What a message is made of (its wire bytes are measured once, by the caller that checked the size). @internal */
export type OutboundFields = Pick<Outbound, 'data' | 'bytes' | 'channel' | 'seq' | 'ackSink' | 'owner' | 'ttlMs'>;

/**
 * One message on its way out: buffered, written (waiting for the send callback) and, with
 * acks, waiting for the server's acknowledgement. Settles exactly once. @internal
 *
 * The hot path (a ready socket below its high-water mark) allocates this object and its
 * promise, nothing else: no clock read (the TTL deadline is stamped only when the message
 * has to wait, see {@link Outbound.stamp}) and no wrapper object around the promise.
 */
export class Outbound {
  /** Wire bytes. */
  readonly data: string | Buffer;
  /** Payload size in bytes (what buffer limits count). */
  readonly bytes: number;
  /** Channel name, for events. */
  readonly channel: string | undefined;
  /** Sequence number within the channel (acks only). */
  readonly seq: number | undefined;
  /** Where acks are tracked, when the message needs one. */
  readonly ackSink: AckSink | undefined;
  /** The channel (or lease) that sent it, by identity: names can be reused after a close. */
  readonly owner: object | undefined;
  /** Milliseconds it may wait in a buffer. */
  readonly ttlMs: number;
  /** Set once it has been written at least once. */
  written = false;
  /** The sender's promise. */
  readonly promise: Promise<WsSendResult>;
  /** The buffer (or blocked queue) it waits in; `undefined` while written or in flight. */
  holder: OutboundHolder | undefined = undefined;
  #settled = false;
  // Starts as `undefined`, not a number: a field that holds a double from construction makes V8
  // allocate a heap box for it in every object, and most messages are written without waiting.
  #expiresAt: number | undefined = undefined;
  #unwatch: (() => void) | undefined = undefined;
  #resolve!: (result: WsSendResult) => void;
  #reject!: (error: BerthError) => void;

  constructor(fields: OutboundFields) {
    this.data = fields.data;
    this.bytes = fields.bytes;
    this.channel = fields.channel;
    this.seq = fields.seq;
    this.ackSink = fields.ackSink;
    this.owner = fields.owner;
    this.ttlMs = fields.ttlMs;
    // One shared executor instead of a closure per message: it runs synchronously inside the
    // Promise constructor, so the module-level slots are read back before anything else runs.
    this.promise = new Promise<WsSendResult>(captureResolvers);
    this.#resolve = captured.resolve as (result: WsSendResult) => void;
    this.#reject = captured.reject as (error: BerthError) => void;
  }

  /**
   * Starts the TTL clock the first time the message has to wait (buffered at send, or put back
   * after a close undid its write); later calls keep the first deadline. Returns `expiresAt`.
   */
  stamp(now: number): number {
    this.#expiresAt ??= now + this.ttlMs;
    return this.#expiresAt;
  }

  /** Monotonic ms after which it may no longer be written; `Infinity` until it first waits. */
  get expiresAt(): number {
    return this.#expiresAt ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Rejects the message with `ERR_BERTH_ABORTED` when `signal` fires while it still waits (its
   * holder takes it out); a message already handed to ws cannot be recalled, so an abort then
   * changes nothing. The listener goes away when the message settles.
   */
  watch(signal: AbortSignal): void {
    const onAbort = () => this.holder?.abort(this);
    signal.addEventListener('abort', onAbort, { once: true });
    this.#unwatch = () => signal.removeEventListener('abort', onAbort);
  }

  /** True once resolved or rejected. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Resolves the sender's promise (first settlement wins). */
  settle(result: WsSendResult): void {
    if (this.#settled) return;
    this.#settled = true;
    this.holder = undefined;
    this.#unwatch?.();
    this.#resolve(result);
  }

  /** Rejects the sender's promise (first settlement wins). */
  fail(error: BerthError): void {
    if (this.#settled) return;
    this.#settled = true;
    this.holder = undefined;
    this.#unwatch?.();
    this.#reject(error);
  }
}

import { Deque } from './deque.js';
import { WsClosedError, WsInvalidMessageError } from './errors.js';
import type { WsEvents } from './events.js';
import { InboundQueue } from './inbound-queue.js';
import type { ResolvedWsPoolOptions } from './options.js';
import { Outbound, abortedBeforeSend } from './outbound.js';
import type { AckSink, WsSendResult } from './outbound.js';
import type { PooledSocket } from './pooled-socket.js';

/** Per-send options. */
export interface WsSendOptions {
  /** Milliseconds the message may wait in the buffer (or blocked, with `overflow: 'block'`). Default: the pool's `ttlMs`. */
  readonly ttlMs?: number;
  /**
   * Takes the message back while it still waits (blocked or buffered): it is removed and the
   * send rejects with `ERR_BERTH_ABORTED`. Once handed to ws it cannot be recalled and an
   * abort changes nothing. An already-aborted signal rejects at once.
   */
  readonly signal?: AbortSignal;
}

/** Counters of one channel. */
export interface WsChannelStats {
  /** Channel name. */
  readonly name: string;
  /** Socket it is placed on. */
  readonly socketId: string;
  /** Messages written and waiting for the server's ack (`acks: true`). */
  readonly unacked: number;
  /** Messages received and handed to the reader (or waiting for it). */
  readonly received: number;
  /** Received messages dropped as duplicates (`seq` not above the last one seen). */
  readonly duplicates: number;
  /** Received messages dropped because the reader fell `maxInboundMessages` behind. */
  readonly overflowed: number;
}

/** What a channel needs from its pool. @internal */
export interface ChannelHost {
  readonly options: ResolvedWsPoolOptions;
  readonly events: WsEvents;
  /** Next sequence number of `name`; unique over the pool's life so a reopened channel never reuses one. */
  nextSeq(name: string): number;
  /** Forgets the channel. */
  detach(channel: WsChannel): void;
}

/**
 * A logical stream multiplexed over one pooled socket: `send()` messages, `for await` the ones
 * the server sends, `close()`. It survives reconnects (resubscribed from the registry, never
 * replayed) and rotations (moved make-before-break).
 *
 * Delivery: with `acks: false` a message resolves `'written'` once ws handed it to the kernel;
 * bytes in the kernel when a connection is cut can be lost (at most once for those), everything
 * not yet written is kept and written after the reconnect in order. With `acks: true` it
 * resolves `'acked'`, and every unacknowledged message is resent after a reconnect or move, in
 * order, before anything newer: a server that drops `seq <= last seen` gets each message
 * exactly once and in order.
 */
export class WsChannel implements AsyncIterable<unknown> {
  /** Channel name (the codec's `c`). */
  readonly name: string;
  readonly #host: ChannelHost;
  #socket: PooledSocket;
  readonly #unacked = new Deque<Outbound>();
  readonly #inbound: InboundQueue<unknown>;
  readonly #sink: AckSink;
  #lastSeq = Number.NEGATIVE_INFINITY;
  #received = 0;
  #duplicates = 0;
  #overflowed = 0;
  #closed = false;
  #awaiting: { socket: PooledSocket; resolve: () => void } | undefined;

  /** @internal */
  constructor(name: string, socket: PooledSocket, host: ChannelHost) {
    this.name = name;
    this.#socket = socket;
    this.#host = host;
    this.#inbound = new InboundQueue(host.options.maxInboundMessages, () => {
      if (this.#overflowed === 0) {
        host.options.logger.warn('ws-pool: channel reader is behind, dropping its oldest received messages', {
          channel: name,
          maxInboundMessages: host.options.maxInboundMessages,
        });
      }
      this.#overflowed += 1;
    });
    const maxUnacked = host.options.maxUnackedMessages;
    this.#sink = {
      name,
      firstWrite: (message) => this.#unacked.push(message),
      windowFull: () => this.#unacked.length >= maxUnacked,
    };
  }

  /** Id of the socket the channel is on now. */
  socketId(): string {
    return this.#socket.id;
  }

  /** True after `close()` or the pool's close. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Counters. */
  stats(): WsChannelStats {
    return {
      name: this.name,
      socketId: this.#socket.id,
      unacked: this.#unacked.length,
      received: this.#received,
      duplicates: this.#duplicates,
      overflowed: this.#overflowed,
    };
  }

  /**
   * Sends `data` (encoded by the codec). Resolves `'written'` or `'acked'`; rejects with
   * `ERR_BERTH_WS_BUFFER_FULL`, `ERR_BERTH_WS_DROPPED`, `ERR_BERTH_WS_EXPIRED`,
   * `ERR_BERTH_WS_CLOSED` or `ERR_BERTH_INVALID_REQUEST`. Never dropped silently.
   */
  send(data: unknown, options: WsSendOptions = {}): Promise<WsSendResult> {
    const o = this.#host.options;
    if (this.#closed) return Promise.reject(new WsClosedError(`Channel ${this.name} is closed`, { channel: this.name }));
    if (options.signal?.aborted === true) return Promise.reject(abortedBeforeSend(this.name));
    const seq = o.acks ? this.#host.nextSeq(this.name) : undefined;
    let wire: string | Buffer;
    try {
      wire = o.codec.encodeMessage(this.name, data, seq);
    } catch (error) {
      return Promise.reject(
        new WsInvalidMessageError(`Channel ${this.name}: the codec could not encode the message`, { channel: this.name, cause: error }),
      );
    }
    const bytes = typeof wire === 'string' ? Buffer.byteLength(wire) : wire.byteLength;
    if (bytes > o.maxPayloadBytes) {
      return Promise.reject(
        new WsInvalidMessageError(`Channel ${this.name}: message of ${bytes} bytes is over maxPayloadBytes (${o.maxPayloadBytes})`, {
          channel: this.name,
          bytes,
          maxPayloadBytes: o.maxPayloadBytes,
        }),
      );
    }
    const message = new Outbound({
      data: wire,
      bytes,
      channel: this.name,
      seq,
      ackSink: seq === undefined ? undefined : this.#sink,
      owner: this,
      ttlMs: options.ttlMs ?? o.ttlMs,
    });
    if (options.signal !== undefined) message.watch(options.signal);
    this.#socket.send(message);
    return message.promise;
  }

  /** Messages from the server, in order; ends after `close()`. One reader at a time. */
  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return this.#inbound[Symbol.asyncIterator]();
  }

  /**
   * Unsubscribes and closes. Buffered messages are rejected with `ERR_BERTH_WS_CLOSED`, and so
   * are unacknowledged ones (`details.maybeDelivered`: the server may have them).
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#socket.control(this.#host.options.codec.encodeUnsubscribe(this.name));
    this.#host.detach(this);
    this.fail(new WsClosedError(`Channel ${this.name} was closed`, { channel: this.name }));
    return Promise.resolve();
  }

  /** Rejects everything pending and ends the reader. @internal */
  fail(error: WsClosedError): void {
    this.#closed = true;
    for (const message of this.#socket.take((m) => m.owner === this)) {
      message.fail(error);
      this.#host.events.lost('closed', message.bytes, this.name);
    }
    this.failUnacked(error);
    this.#awaiting?.resolve();
    this.#inbound.end();
  }

  /** Rejects the unacknowledged window (its socket gave up). @internal */
  failUnacked(error: WsClosedError): void {
    for (let message = this.#unacked.shift(); message !== undefined; message = this.#unacked.shift()) {
      message.fail(
        new WsClosedError(`${error.message} (message ${message.seq} was written but not acknowledged)`, {
          channel: this.name,
          seq: message.seq,
          maybeDelivered: true,
          cause: error,
        }),
      );
      this.#host.events.lost('closed', message.bytes, this.name);
    }
  }

  /** The socket it is placed on. @internal */
  get socket(): PooledSocket {
    return this.#socket;
  }

  /** Frames to write when its socket turns ready: subscribe, then the unacked window. @internal */
  resumeEntry(): { subscribe: string | Buffer | undefined; unacked: Iterable<Outbound> } {
    return { subscribe: this.#host.options.codec.encodeSubscribe(this.name), unacked: [...this.#unacked] };
  }

  /** A message from the server. `seq`, when present, drops duplicates (rotation overlap, server replays). @internal */
  deliver(data: unknown, seq: number | undefined, from: PooledSocket): void {
    if (this.#closed) return;
    if (this.#awaiting?.socket === from) {
      this.#awaiting.resolve();
      this.#awaiting = undefined;
    }
    if (seq !== undefined) {
      if (seq <= this.#lastSeq) {
        this.#duplicates += 1;
        return;
      }
      this.#lastSeq = seq;
    }
    this.#received += 1;
    this.#inbound.push(data);
  }

  /** The server has every message up to `seq`. @internal */
  ack(seq: number): void {
    const wasFull = this.#sink.windowFull();
    for (let head = this.#unacked.peek(); head?.seq !== undefined && head.seq <= seq; head = this.#unacked.peek()) {
      this.#unacked.shift();
      head.settle('acked');
    }
    if (wasFull) this.#socket.pump();
  }

  /**
   * Places the channel on `next` now: subscribe and resend the unacked window there if it is
   * ready (else its ready sequence does it), move its buffered messages in order, and route
   * new sends there. @internal
   */
  rehome(next: PooledSocket, takeBuffered = true): void {
    const old = this.#socket;
    this.#socket = next;
    next.control(this.#host.options.codec.encodeSubscribe(this.name));
    next.retransmit(this.#unacked);
    if (takeBuffered) next.adopt(old.take((m) => m.owner === this));
  }

  /**
   * Moves to `next` (ready) make-before-break: subscribe there, resend the unacked window
   * there (the server drops duplicates), and route new sends there; the caller moves the old
   * socket's whole buffer afterwards, so channel and raw sends keep their relative order.
   * Resolves when the first message arrives on `next` (the new subscription is live) or after
   * `graceMs`, so the caller can then close the old socket without a gap. @internal
   */
  moveTo(next: PooledSocket, graceMs: number): Promise<void> {
    this.rehome(next, false);
    return new Promise<void>((resolve) => {
      const clock = this.#host.options.clock;
      const timer = clock.setTimeout(() => done(), graceMs);
      const done = () => {
        clock.clearTimeout(timer);
        if (this.#awaiting?.resolve === done) this.#awaiting = undefined;
        resolve();
      };
      this.#awaiting = { socket: next, resolve: done };
    });
  }
}

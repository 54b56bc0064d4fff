import { WsClosedError, WsInvalidMessageError } from './errors.js';
import type { InboundQueue } from './inbound-queue.js';
import type { WsFrame } from './open-context.js';
import type { ResolvedWsPoolOptions } from './options.js';
import { Outbound, abortedBeforeSend } from './outbound.js';
import type { WsSendResult } from './outbound.js';
import type { PooledSocket } from './pooled-socket.js';
import type { WsSendOptions } from './channel.js';

/**
 * A whole socket held exclusively (session-style protocols: one conversation per socket, the
 * state tied to it). Raw frames both ways; give it back with `release()` or drop it with
 * `destroy()`. After either, `send()` rejects with `ERR_BERTH_WS_CLOSED`.
 */
export class WsLease implements AsyncIterable<WsFrame> {
  readonly #socket: PooledSocket;
  readonly #inbound: InboundQueue<WsFrame>;
  readonly #options: ResolvedWsPoolOptions;
  readonly #giveBack: (socket: PooledSocket, destroy: boolean) => Promise<void>;
  #done = false;

  /** @internal */
  constructor(
    socket: PooledSocket,
    inbound: InboundQueue<WsFrame>,
    options: ResolvedWsPoolOptions,
    giveBack: (socket: PooledSocket, destroy: boolean) => Promise<void>,
  ) {
    this.#socket = socket;
    this.#inbound = inbound;
    this.#options = options;
    this.#giveBack = giveBack;
  }

  /** Id of the leased socket. */
  get socketId(): string {
    return this.#socket.id;
  }

  /** Sends a raw frame; same outcomes as a channel's `send()` (never `'acked'`). */
  send(data: string | Buffer, options: WsSendOptions = {}): Promise<WsSendResult> {
    if (this.#done) return Promise.reject(new WsClosedError(`Lease on ${this.#socket.id} was released`, { socketId: this.#socket.id }));
    if (options.signal?.aborted === true) return Promise.reject(abortedBeforeSend(undefined));
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    if (bytes > this.#options.maxPayloadBytes) {
      return Promise.reject(
        new WsInvalidMessageError(`Message of ${bytes} bytes is over maxPayloadBytes (${this.#options.maxPayloadBytes})`, { bytes }),
      );
    }
    const message = new Outbound({
      data,
      bytes,
      channel: undefined,
      seq: undefined,
      ackSink: undefined,
      owner: undefined,
      ttlMs: options.ttlMs ?? this.#options.ttlMs,
    });
    if (options.signal !== undefined) message.watch(options.signal);
    this.#socket.send(message);
    return message.promise;
  }

  /** Frames the server sent on this socket while leased. */
  [Symbol.asyncIterator](): AsyncIterator<WsFrame> {
    return this.#inbound[Symbol.asyncIterator]();
  }

  /** Returns the socket to the pool (destroyed instead if it is not ready: generic-pool never validates on return). */
  release(): Promise<void> {
    return this.#end(false);
  }

  /** Closes the socket instead of returning it (its session state is unusable). */
  destroy(): Promise<void> {
    return this.#end(true);
  }

  #end(destroy: boolean): Promise<void> {
    if (this.#done) return Promise.resolve();
    this.#done = true;
    this.#inbound.end();
    return this.#giveBack(this.#socket, destroy);
  }
}

import { BerthError } from '@berth/core-types';
import type { Logger } from '@berth/core-types';
import type { WsChannel, WsChannelOptions, WsPool, WsPoolStats, WsSendOptions, WsSendResult } from '@berth/ws-pool';

/** Stats of a {@link BerthWebSocket}: the current pool's, plus where it is and how often it moved. */
export interface BerthWebSocketStats extends WsPoolStats {
  /** The region the sockets are connected to now. */
  readonly region: string;
  /** Moves to another region since creation (after the region was ejected). */
  readonly regionMoves: number;
}

/**
 * A channel that survives a move of its socket to another region: `send()` goes to the current
 * region's channel and iteration continues on the new one. The new region's socket resubscribes
 * the channel before any queued message (ws-pool's open order); a message the old region had
 * sent but not yet delivered when it was cut can be lost unless the pool runs with `acks`.
 */
export class BerthChannel implements AsyncIterable<unknown> {
  readonly name: string;
  #current: WsChannel;
  #closed = false;

  /** @internal */
  constructor(name: string, channel: WsChannel) {
    this.name = name;
    this.#current = channel;
  }

  /** Sends one message on the channel (see ws-pool's `WsChannel.send` for the outcomes). */
  send(data: unknown, options?: WsSendOptions): Promise<WsSendResult> {
    return this.#current.send(data, options);
  }

  /** Messages of the channel, across region moves, until `close()`. */
  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    while (!this.#closed) {
      const channel = this.#current;
      try {
        for await (const message of channel) {
          yield message;
          if (this.#closed) return;
        }
      } catch (error) {
        // The old region's channel ends with an error when its pool closes under it.
        if (channel === this.#current || this.#closed) throw error;
      }
      if (channel === this.#current) return;
    }
  }

  /** Unsubscribes and ends iteration. */
  close(): Promise<void> {
    this.#closed = true;
    return this.#current.close();
  }

  /** @internal Points the channel at the same channel on the new region's pool. */
  rebind(next: WsChannel): void {
    this.#current = next;
  }
}

/**
 * A WebSocket pool that follows the router: opened on the best region, and moved,
 * make-before-break, to the next best region when its region is ejected. Channels move with it
 * (resubscribed on the new socket). Messages already handed to the old region's sockets are
 * delivered there or failed with a code, never silently dropped.
 */
export class BerthWebSocket {
  readonly path: string;
  readonly #open: (region: string) => WsPool;
  readonly #logger: Logger;
  readonly #channels = new Map<string, { readonly channel: BerthChannel; readonly options: WsChannelOptions }>();
  #pool: WsPool;
  #region: string;
  #moves = 0;
  #moving: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  /** @internal Use `Berth.websocket()`. */
  constructor(path: string, region: string, open: (region: string) => WsPool, logger: Logger) {
    this.path = path;
    this.#open = open;
    this.#logger = logger;
    this.#region = region;
    this.#pool = open(region);
  }

  /** The region the sockets are connected to now. */
  get region(): string {
    return this.#region;
  }

  /** Resolves when a socket of the current region is ready. */
  ready(options?: { readonly timeoutMs?: number }): Promise<void> {
    return this.#pool.ready(options);
  }

  /** Sends one message on a pooled socket of the current region. */
  send(data: string | Buffer, options?: WsSendOptions): Promise<WsSendResult> {
    return this.#pool.send(data, options);
  }

  /** A logical stream over the pool; the same name gives the same channel. It follows region moves. */
  channel(name: string, options: WsChannelOptions = {}): BerthChannel {
    const existing = this.#channels.get(name);
    if (existing !== undefined) return existing.channel;
    const channel = new BerthChannel(name, this.#pool.channel(name, options));
    this.#channels.set(name, { channel, options });
    return channel;
  }

  /** `open` while usable, then `closing` and `closed`. */
  state(): ReturnType<WsPool['state']> {
    return this.#closed === undefined ? this.#pool.state() : 'closed';
  }

  stats(): BerthWebSocketStats {
    return { ...this.#pool.stats(), region: this.#region, regionMoves: this.#moves };
  }

  /**
   * Moves to `region`: opens the new pool, waits until it is ready (up to `timeoutMs`), moves
   * every channel, then closes the old pool. If the new region does not come up, it stays.
   */
  moveTo(region: string, timeoutMs = 10_000): Promise<void> {
    if (this.#closed !== undefined) return Promise.reject(new BerthError('ERR_BERTH_CLOSED', `websocket ${this.path} is closed`));
    if (region === this.#region) return Promise.resolve();
    const previous = this.#moving ?? Promise.resolve();
    const move = previous.then(async () => {
      if (this.#closed !== undefined || region === this.#region) return;
      const next = this.#open(region);
      try {
        await next.ready({ timeoutMs });
      } catch (error) {
        await next.close();
        this.#logger.warn('websocket could not move to another region; staying', {
          path: this.path,
          from: this.#region,
          to: region,
          error: error instanceof Error ? error.message : String(error),
        });
        return;
      }
      const old = this.#pool;
      for (const [name, { channel, options }] of this.#channels) channel.rebind(next.channel(name, options));
      this.#pool = next;
      const from = this.#region;
      this.#region = region;
      this.#moves += 1;
      this.#logger.info('websocket moved to another region', { path: this.path, from, to: region });
      await old.close();
    });
    this.#moving = move.finally(() => {
      if (this.#moving === move) this.#moving = undefined;
    });
    return move;
  }

  /** Closes the sockets (close frames with a deadline, then terminate); pending sends are rejected with a code. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#moving?.catch(() => undefined);
      await this.#pool.close();
    })();
    return this.#closed;
  }
}

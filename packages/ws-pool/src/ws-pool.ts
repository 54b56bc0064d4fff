import type { TimerHandle, WsSocketState } from '@berth/core-types';
import genericPool from 'generic-pool';
import type { Pool as GenericPool } from 'generic-pool';
import { fullJitterDelayMs } from './backoff.js';
import { WsChannel } from './channel.js';
import type { ChannelHost, WsChannelStats, WsSendOptions } from './channel.js';
import {
  WsAcquireTimeoutError,
  WsClosedError,
  WsInvalidMessageError,
  WsPoolClosedError,
  WsQueueFullError,
  WsTimeoutError,
} from './errors.js';
import { WsEvents } from './events.js';
import { HandshakeGate } from './handshake-gate.js';
import { InboundQueue } from './inbound-queue.js';
import { WsLease } from './lease.js';
import type { WsFrame } from './open-context.js';
import { resolveOptions } from './options.js';
import type { ResolvedWsPoolOptions, WsPoolOptions } from './options.js';
import { Outbound, abortedBeforeSend } from './outbound.js';
import type { WsSendResult } from './outbound.js';
import { chooseSlot } from './placement.js';
import { PooledSocket } from './pooled-socket.js';
import type { SocketHost, WsSocketStats } from './pooled-socket.js';
import type { LostReason } from './send-buffer.js';

/** Options of {@link WsPool.channel}. */
export interface WsChannelOptions {
  /** Sticky placement: channels with the same key share a socket (rendezvous hashing). Default: least-loaded. */
  readonly key?: string;
}

/** Snapshot of a pool for dashboards and tests. */
export interface WsPoolStats {
  /** Shared and leased sockets by state (a rotation briefly shows one extra). */
  readonly sockets: Readonly<Record<WsSocketState, number>>;
  /** Per-socket details. */
  readonly details: readonly WsSocketStats[];
  /** Open channels. */
  readonly channels: number;
  /** Sockets leased right now. */
  readonly leased: number;
  /** Reconnects scheduled since creation. */
  readonly reconnects: number;
  /** Make-before-break rotations completed. */
  readonly rotations: number;
  /** Messages buffered across sockets. */
  readonly bufferedMessages: number;
  /** Bytes buffered across sockets. */
  readonly bufferedBytes: number;
  /** Senders waiting for buffer room across sockets (`overflow: 'block'`). */
  readonly blockedMessages: number;
  /** Messages that left without being written, by reason (each one rejected its sender). */
  readonly lost: Readonly<Record<LostReason, number>>;
  /** Mean of the sockets' last ping round trip, in milliseconds. */
  readonly rttMs: number | undefined;
}

interface Slot {
  readonly index: number;
  socket: PooledSocket;
  rotating: PooledSocket | undefined;
  rotateTimer: TimerHandle | undefined;
}

type PoolState = { readonly t: 'open' } | { readonly t: 'closing'; readonly done: Promise<void> } | { readonly t: 'closed' };

/** How long `ready()` waits by default: a handshake, an auth hook and a few retries. */
const DEFAULT_READY_WAIT_MS = 30_000;

const STATES: readonly WsSocketState[] = ['connecting', 'open', 'ready', 'closing', 'closed', 'backoff', 'errored'];

/**
 * A pool of WebSockets to one endpoint: `size` shared sockets carrying channels and raw
 * sends, plus exclusive leases. Each socket reconnects on its own with full-jitter backoff.
 * Create it with {@link createWsPool}.
 */
export class WsPool {
  readonly #o: ResolvedWsPoolOptions;
  readonly #events: WsEvents;
  readonly #gate: HandshakeGate;
  readonly #slots: Slot[] = [];
  readonly #slotOf = new Map<PooledSocket, Slot>();
  readonly #channels = new Map<string, WsChannel>();
  readonly #seqs = new Map<string, number>();
  readonly #leaseInbound = new Map<PooledSocket, InboundQueue<WsFrame>>();
  readonly #leaseSockets = new Set<PooledSocket>();
  /** Sockets replaced by a rotation, still delivering until their close completes. */
  readonly #retired = new Set<PooledSocket>();
  readonly #readyWaiters = new Map<PooledSocket, Array<(ok: boolean) => void>>();
  readonly #host: SocketHost;
  readonly #channelHost: ChannelHost;
  #leasePool: GenericPool<PooledSocket> | undefined;
  #state: PoolState = { t: 'open' };
  #nextSocket = 0;
  #roundRobin = 0;
  #leaseCreateFailures = 0;
  readonly #leaseBackoffs = new Set<{ readonly resolve: () => void }>();

  /** @internal Use {@link createWsPool}. */
  constructor(url: string | URL, options: WsPoolOptions = {}) {
    const o = resolveOptions(url, options);
    this.#o = o;
    this.#events = new WsEvents({
      kind: 'ws-pool',
      name: o.name,
      origin: o.url.origin,
      ...(o.region === undefined ? {} : { region: o.region }),
    });
    this.#gate = new HandshakeGate(o.maxConcurrentHandshakes);
    this.#host = {
      options: o,
      gate: this.#gate,
      events: this.#events,
      resume: (socket) => this.#resume(socket),
      inbound: (socket, data, isBinary) => this.#inbound(socket, data, isBinary),
      stateChanged: (socket, _from, to) => this.#stateChanged(socket, to),
    };
    this.#channelHost = {
      options: o,
      events: this.#events,
      nextSeq: (name) => {
        const seq = (this.#seqs.get(name) ?? 0) + 1;
        this.#seqs.set(name, seq);
        return seq;
      },
      detach: (channel) => {
        if (this.#channels.get(channel.name) === channel) this.#channels.delete(channel.name);
      },
    };
    for (let index = 0; index < o.size; index += 1) {
      const socket = this.#newSocket();
      const slot: Slot = { index, socket, rotating: undefined, rotateTimer: undefined };
      this.#slots.push(slot);
      this.#slotOf.set(socket, slot);
    }
    for (const slot of this.#slots) slot.socket.start();
  }

  /** The pool's name (events, errors). */
  get name(): string {
    return this.#o.name;
  }

  /** `open`, `closing` or `closed`. */
  state(): 'open' | 'closing' | 'closed' {
    return this.#state.t;
  }

  /**
   * Resolves when every shared socket is ready; rejects with `ERR_BERTH_WS_CLOSED` if one
   * ends `errored` first or the pool closes, and with `ERR_BERTH_TIMEOUT` after `timeoutMs`
   * (default 30 000). Sends need not wait for it: they are buffered.
   */
  async ready(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_READY_WAIT_MS;
    const clock = this.#o.clock;
    let timer: TimerHandle | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = clock.setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const results = await Promise.race([Promise.all(this.#slots.map((slot) => this.#whenReady(slot.socket))), deadline]);
    clock.clearTimeout(timer);
    if (results === 'timeout') {
      const { sockets } = this.stats();
      throw new WsTimeoutError(`WebSocket pool ${this.#o.name} was not ready within ${timeoutMs} ms (${sockets.ready}/${this.#slots.length} ready)`, {
        pool: this.#o.name,
        timeoutMs,
        ready: sockets.ready,
      });
    }
    if (results.includes(false)) throw new WsClosedError(`WebSocket pool ${this.#o.name} did not become ready`, { pool: this.#o.name });
  }

  /**
   * Sends a raw frame (bypassing the codec) on a ready socket, round robin, or buffers it on the
   * least-loaded one. Resolves `'written'`; rejects with a coded error, never silently.
   */
  send(data: string | Buffer, options?: WsSendOptions): Promise<WsSendResult> {
    if (this.#state.t !== 'open') return Promise.reject(this.#closedError());
    const signal = options?.signal;
    if (signal?.aborted === true) return Promise.reject(abortedBeforeSend(undefined));
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    if (bytes > this.#o.maxPayloadBytes) {
      return Promise.reject(
        new WsInvalidMessageError(`Message of ${bytes} bytes is over maxPayloadBytes (${this.#o.maxPayloadBytes})`, {
          bytes,
          maxPayloadBytes: this.#o.maxPayloadBytes,
        }),
      );
    }
    const message = new Outbound({
      data,
      bytes,
      channel: undefined,
      seq: undefined,
      ackSink: undefined,
      owner: undefined,
      ttlMs: options?.ttlMs ?? this.#o.ttlMs,
    });
    if (signal !== undefined) message.watch(signal);
    this.#pickForSend().send(message);
    return message.promise;
  }

  /**
   * The channel `name` (the same object while it is open), placed on a shared socket:
   * sticky by `key`, else least-loaded, at most `maxChannelsPerSocket` per socket
   * (`ERR_BERTH_QUEUE_FULL` beyond). It subscribes at once if its socket is ready, else on ready.
   */
  channel(name: string, options: WsChannelOptions = {}): WsChannel {
    if (this.#state.t !== 'open') throw this.#closedError();
    const existing = this.#channels.get(name);
    if (existing !== undefined) return existing;
    const counts = new Map<PooledSocket, number>();
    for (const channel of this.#channels.values()) counts.set(channel.socket, (counts.get(channel.socket) ?? 0) + 1);
    const index = chooseSlot(
      this.#slots.map((slot) => ({
        slot: slot.index,
        channels: counts.get(slot.socket) ?? 0,
        load: slot.socket.load,
        healthy: slot.socket.state() !== 'errored',
      })),
      this.#o.maxChannelsPerSocket,
      options.key,
    );
    const slot = index === undefined ? undefined : this.#slots[index];
    if (slot === undefined) {
      throw new WsQueueFullError(
        `WebSocket pool ${this.#o.name}: every socket holds ${this.#o.maxChannelsPerSocket} channels (maxChannelsPerSocket); channel ${name} refused`,
        { pool: this.#o.name, channel: name, maxChannelsPerSocket: this.#o.maxChannelsPerSocket },
      );
    }
    const channel = new WsChannel(name, slot.socket, this.#channelHost);
    this.#channels.set(name, channel);
    slot.socket.control(this.#o.codec.encodeSubscribe(name));
    return channel;
  }

  /**
   * Leases a whole socket exclusively (generic-pool; at most `lease.max`, waiting up to
   * `lease.acquireTimeoutMs`, at most `lease.maxWaiting` waiters). Rejects with
   * `ERR_BERTH_ACQUIRE_TIMEOUT`, `ERR_BERTH_QUEUE_FULL` or `ERR_BERTH_CLOSED`.
   */
  async acquire(): Promise<WsLease> {
    if (this.#state.t !== 'open') throw this.#closedError();
    const pool = (this.#leasePool ??= this.#createLeasePool());
    let socket: PooledSocket;
    try {
      socket = await pool.acquire();
    } catch (error) {
      const lease = this.#o.lease;
      if (error instanceof Error && error.name === 'TimeoutError') {
        throw new WsAcquireTimeoutError(
          `WebSocket pool ${this.#o.name}: no socket could be leased within ${lease.acquireTimeoutMs} ms (${pool.borrowed}/${lease.max} leased, ${pool.pending} waiting)`,
          { pool: this.#o.name, timeoutMs: lease.acquireTimeoutMs, leased: pool.borrowed, waiting: pool.pending, cause: error },
        );
      }
      if (this.#state.t !== 'open') throw this.#closedError();
      throw new WsQueueFullError(
        `WebSocket pool ${this.#o.name}: ${lease.maxWaiting} callers already wait for a lease (lease.maxWaiting)`,
        { pool: this.#o.name, maxWaiting: lease.maxWaiting, cause: error },
      );
    }
    if (this.#state.t !== 'open') {
      await pool.destroy(socket);
      throw this.#closedError();
    }
    const inbound = new InboundQueue<WsFrame>(this.#o.maxInboundMessages, () => {});
    this.#leaseInbound.set(socket, inbound);
    return new WsLease(socket, inbound, this.#o, async (leased, destroy) => {
      this.#leaseInbound.delete(leased);
      // close() already took every lease back.
      if (this.#state.t !== 'open') return;
      // generic-pool never runs testOnReturn: check here, and destroy what is not ready.
      if (destroy || leased.state() !== 'ready') await pool.destroy(leased);
      else await pool.release(leased);
    });
  }

  /** Gives a leased socket back (same as `lease.release()`). */
  release(lease: WsLease): Promise<void> {
    return lease.release();
  }

  /** Reconnects every `errored` (or waiting) shared socket now, with a fresh attempt count. */
  reconnect(): void {
    if (this.#state.t !== 'open') return;
    for (const slot of this.#slots) slot.socket.reconnect();
  }

  /** Replaces every shared socket make-before-break now (e.g. before a planned server restart). */
  async rotate(reason = 'manual'): Promise<void> {
    await Promise.all(this.#slots.map((slot) => this.#rotate(slot, reason)));
  }

  /** Counters and gauges. */
  stats(): WsPoolStats {
    const sockets = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<WsSocketState, number>;
    const details: WsSocketStats[] = [];
    for (const socket of this.#allSockets()) {
      const stats = socket.stats();
      sockets[stats.state] += 1;
      details.push(stats);
    }
    const rtts = details.map((d) => d.rttMs).filter((r): r is number => r !== undefined);
    return {
      sockets,
      details,
      channels: this.#channels.size,
      leased: this.#leaseInbound.size,
      reconnects: this.#events.reconnects,
      rotations: this.#events.rotations,
      bufferedMessages: details.reduce((sum, d) => sum + d.bufferedMessages, 0),
      bufferedBytes: details.reduce((sum, d) => sum + d.bufferedBytes, 0),
      blockedMessages: details.reduce((sum, d) => sum + d.blockedMessages, 0),
      lost: { ...this.#events.lostCounts },
      rttMs: rtts.length === 0 ? undefined : rtts.reduce((a, b) => a + b, 0) / rtts.length,
    };
  }

  /** Counters of every open channel. */
  channelStats(): WsChannelStats[] {
    return [...this.#channels.values()].map((channel) => channel.stats());
  }

  /**
   * Closes everything: channels and buffered sends are rejected with `ERR_BERTH_WS_CLOSED`,
   * sockets get a close frame and are terminated after `closeTimeoutMs`. Leaves no timer or
   * socket behind. Idempotent.
   */
  close(): Promise<void> {
    if (this.#state.t === 'closing') return this.#state.done;
    if (this.#state.t === 'closed') return Promise.resolve();
    const done = this.#close();
    this.#state = { t: 'closing', done };
    return done;
  }

  async #close(): Promise<void> {
    for (const slot of this.#slots) this.#o.clock.clearTimeout(slot.rotateTimer);
    const error = this.#closedError();
    for (const channel of [...this.#channels.values()]) channel.fail(error);
    this.#channels.clear();
    for (const inbound of this.#leaseInbound.values()) inbound.end();
    for (const wait of [...this.#leaseBackoffs]) wait.resolve();
    const leasePool = this.#leasePool;
    const sockets = [...this.#allSockets()];
    await Promise.all(sockets.map((socket) => socket.close()));
    if (leasePool !== undefined) {
      // Sockets are closed already; drain() would otherwise wait for leases never returned.
      for (const socket of this.#leaseSockets) if (leasePool.isBorrowedResource(socket)) await leasePool.release(socket);
      await leasePool.drain();
      await leasePool.clear();
    }
    for (const waiters of this.#readyWaiters.values()) for (const resolve of waiters) resolve(false);
    this.#readyWaiters.clear();
    this.#state = { t: 'closed' };
  }

  #closedError(): WsClosedError {
    return new WsClosedError(`WebSocket pool ${this.#o.name} is closed`, { pool: this.#o.name });
  }

  *#allSockets(): Iterable<PooledSocket> {
    for (const slot of this.#slots) {
      yield slot.socket;
      if (slot.rotating !== undefined) yield slot.rotating;
    }
    yield* this.#leaseSockets;
    yield* this.#retired;
  }

  #newSocket(prefix = ''): PooledSocket {
    this.#nextSocket += 1;
    return new PooledSocket(`${this.#o.name}#${prefix}${this.#nextSocket}`, this.#host);
  }

  #pickForSend(): PooledSocket {
    const slots = this.#slots;
    // One socket (the common case): it takes every send, writing or buffering it.
    if (slots.length === 1) return (slots[0] as Slot).socket;
    for (let i = 0; i < slots.length; i += 1) {
      this.#roundRobin = (this.#roundRobin + 1) % slots.length;
      const socket = (slots[this.#roundRobin] as Slot).socket;
      if (socket.writable) return socket;
    }
    let best = (slots[0] as Slot).socket;
    for (const slot of slots) {
      const healthy = slot.socket.state() !== 'errored';
      if ((best.state() === 'errored' && healthy) || (healthy && slot.socket.load < best.load)) best = slot.socket;
    }
    return best;
  }

  #resume(socket: PooledSocket): Array<{ subscribe: string | Buffer | undefined; unacked: Iterable<{ data: string | Buffer } & Outbound> }> {
    const entries = [];
    for (const channel of this.#channels.values()) if (channel.socket === socket) entries.push(channel.resumeEntry());
    return entries;
  }

  #inbound(socket: PooledSocket, data: Buffer, isBinary: boolean): void {
    if (this.#leaseSockets.has(socket)) {
      this.#leaseInbound.get(socket)?.push({ data, isBinary });
      return;
    }
    const decoded = this.#o.codec.decode(data, isBinary);
    if (decoded === undefined) {
      this.#o.onMessage?.(data, isBinary, socket.id);
      return;
    }
    if (decoded.type === 'going-away') {
      const slot = this.#slotOf.get(socket);
      if (slot?.socket === socket) void this.#rotate(slot, decoded.reason === undefined ? 'going-away' : `going-away: ${decoded.reason}`);
      return;
    }
    const channel = this.#channels.get(decoded.channel);
    if (channel === undefined) return;
    if (decoded.type === 'ack') channel.ack(decoded.seq);
    else channel.deliver(decoded.data, decoded.seq, socket);
  }

  #stateChanged(socket: PooledSocket, to: WsSocketState): void {
    if (to === 'ready' || to === 'errored' || to === 'closed') {
      const waiters = this.#readyWaiters.get(socket);
      this.#readyWaiters.delete(socket);
      for (const resolve of waiters ?? []) resolve(to === 'ready');
    }
    const slot = this.#slotOf.get(socket);
    if (slot === undefined || slot.socket !== socket) return;
    if (to === 'errored') this.#evacuate(slot);
    const o = this.#o;
    if (to === 'ready' && o.maxAgeMs !== undefined && slot.rotateTimer === undefined) {
      // Jittered down only, so no socket outlives the provider's cut (60 min / 24 h).
      const age = o.maxAgeMs * (1 - o.maxAgeJitter * o.random.next());
      slot.rotateTimer = o.clock.setTimeout(() => {
        slot.rotateTimer = undefined;
        void this.#rotate(slot, 'max-age');
      }, age);
    } else if (to !== 'ready' && slot.rotateTimer !== undefined) {
      o.clock.clearTimeout(slot.rotateTimer);
      slot.rotateTimer = undefined;
    }
  }

  /**
   * A shared socket gave up: its channels and buffered messages move to the healthiest other
   * socket (subscribe, unacked window, buffer, in order) instead of failing; with nowhere to
   * go, unacknowledged messages are rejected (the socket's buffer is rejected by the socket).
   */
  #evacuate(slot: Slot): void {
    const socket = slot.socket;
    const channels = [...this.#channels.values()].filter((channel) => channel.socket === socket);
    const counts = new Map<PooledSocket, number>();
    for (const channel of this.#channels.values()) counts.set(channel.socket, (counts.get(channel.socket) ?? 0) + 1);
    for (const channel of channels) {
      const others = this.#slots.filter((other) => other !== slot && other.socket.state() !== 'errored');
      const index = chooseSlot(
        others.map((other) => ({ slot: other.index, channels: counts.get(other.socket) ?? 0, load: other.socket.load, healthy: true })),
        this.#o.maxChannelsPerSocket,
        undefined,
      );
      const target = index === undefined ? undefined : this.#slots[index];
      if (target === undefined) {
        channel.failUnacked(new WsClosedError(`WebSocket ${socket.id} gave up reconnecting`, { socketId: socket.id }));
        continue;
      }
      channel.rehome(target.socket);
      counts.set(target.socket, (counts.get(target.socket) ?? 0) + 1);
    }
    const healthy = this.#slots.find((other) => other !== slot && other.socket.state() !== 'errored');
    if (healthy !== undefined) healthy.socket.adopt(socket.take(() => true));
  }

  #whenReady(socket: PooledSocket): Promise<boolean> {
    const state = socket.state();
    if (state === 'ready') return Promise.resolve(true);
    if (state === 'errored' || this.#state.t !== 'open') return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiters = this.#readyWaiters.get(socket) ?? [];
      waiters.push(resolve);
      this.#readyWaiters.set(socket, waiters);
    });
  }

  /**
   * Make-before-break (Binance cuts at 24 h, OpenAI at 60 min): open the replacement, wait until
   * it is ready, move each channel (subscribe there, resend its unacked window, move its
   * buffered messages), wait until the new subscriptions deliver (or `closeTimeoutMs`), and only
   * then close the old socket.
   */
  async #rotate(slot: Slot, reason: string): Promise<void> {
    if (slot.rotating !== undefined || this.#state.t !== 'open') return;
    const o = this.#o;
    const old = slot.socket;
    const next = this.#newSocket();
    slot.rotating = next;
    this.#slotOf.set(next, slot);
    old.replacing = true;
    next.start();
    const ready = await this.#whenReady(next);
    if (!ready || this.#state.t !== 'open') {
      slot.rotating = undefined;
      this.#slotOf.delete(next);
      old.replacing = false;
      await next.close();
      return;
    }
    this.#retired.add(old);
    const moving = [...this.#channels.values()].filter((channel) => channel.socket === old);
    const live = moving.map((channel) => channel.moveTo(next, o.closeTimeoutMs));
    next.adopt(old.take(() => true));
    slot.socket = next;
    slot.rotating = undefined;
    o.clock.clearTimeout(slot.rotateTimer);
    slot.rotateTimer = undefined;
    this.#stateChanged(next, 'ready');
    await Promise.all(live);
    this.#events.rotation(old.id, next.id, moving.length, reason);
    this.#slotOf.delete(old);
    await old.close();
    this.#retired.delete(old);
  }

  #createLeasePool(): GenericPool<PooledSocket> {
    const o = this.#o;
    const pool = genericPool.createPool<PooledSocket>(
      {
        create: async () => {
          const socket = this.#newSocket('L');
          this.#leaseSockets.add(socket);
          socket.start();
          const ok = await this.#whenReady(socket);
          // While closing, hand out the dead socket rather than reject: generic-pool would
          // otherwise re-run create() for its waiters until each one timed out (anchors §2,
          // coopernurse/node-pool#256); acquire() turns it into ERR_BERTH_WS_CLOSED.
          if (ok || this.#state.t !== 'open') {
            if (ok) this.#leaseCreateFailures = 0;
            return socket;
          }
          this.#leaseSockets.delete(socket);
          await socket.close();
          // generic-pool re-runs create() at once after a rejection while waiters remain
          // (coopernurse/node-pool#175): back off before rejecting so a refusing server is
          // not hammered in a tight loop.
          const delay = fullJitterDelayMs(this.#leaseCreateFailures, { baseMs: o.backoffBaseMs, capMs: o.backoffCapMs }, o.random);
          this.#leaseCreateFailures += 1;
          await new Promise<void>((resolve) => {
            const wait = { timer: o.clock.setTimeout(() => done(), delay), resolve: () => done() };
            const done = () => {
              o.clock.clearTimeout(wait.timer);
              this.#leaseBackoffs.delete(wait);
              resolve();
            };
            this.#leaseBackoffs.add(wait);
          });
          if (this.#state.t !== 'open') return socket;
          throw new WsPoolClosedError(`WebSocket lease socket ${socket.id} could not open`, { socketId: socket.id });
        },
        destroy: async (socket) => {
          this.#leaseSockets.delete(socket);
          await socket.close();
        },
        validate: (socket) => Promise.resolve(socket.state() === 'ready' || this.#state.t !== 'open'),
      },
      {
        // generic-pool's defaults are unbounded waits and queues (anchors §2): always set both.
        max: o.lease.max,
        min: 0,
        acquireTimeoutMillis: o.lease.acquireTimeoutMs,
        maxWaitingClients: o.lease.maxWaiting,
        testOnBorrow: true,
        autostart: false,
      },
    );
    // Without a listener generic-pool drops create failures silently.
    pool.on('factoryCreateError', (error: unknown) => o.logger.warn('ws-pool: lease socket failed to open', { error: String(error) }));
    pool.on('factoryDestroyError', (error: unknown) => o.logger.warn('ws-pool: lease socket failed to close', { error: String(error) }));
    return pool;
  }
}

/**
 * Creates a WebSocket pool to `url` (`wss:`; `ws:` only with `allowCleartext`). Sockets start
 * connecting at once; sends made before they are ready are buffered within bounds.
 *
 * @example
 * const pool = createWsPool('wss://stream.example.com/ws', { tls: connector, size: 4, acks: true });
 * const trades = pool.channel('trades');
 * await trades.send({ op: 'hello' });
 * for await (const message of trades) handle(message);
 */
export function createWsPool(url: string | URL, options: WsPoolOptions = {}): WsPool {
  return new WsPool(url, options);
}

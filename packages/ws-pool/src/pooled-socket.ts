import type { createConnection as netCreateConnection } from 'node:net';
import { BerthError } from '@berth/core-types';
import type { TimerHandle, WsSocketState } from '@berth/core-types';
import { WebSocket } from 'ws';
import { fullJitterDelayMs } from './backoff.js';
import { classifyClose, parseRetryAfterMs } from './close-policy.js';
import type { CloseDecision, CloseInfo } from './close-policy.js';
import { Deque } from './deque.js';
import { WsClosedError, WsHandshakeError, WsPingTimeoutError } from './errors.js';
import type { WsEvents } from './events.js';
import type { GateTicket, HandshakeGate } from './handshake-gate.js';
import type { WsFrame, WsOpenContext } from './open-context.js';
import type { ResolvedWsPoolOptions } from './options.js';
import type { Outbound } from './outbound.js';
import { SendBuffer } from './send-buffer.js';
import type { LostReason } from './send-buffer.js';
import { SendRate } from './send-rate.js';

/** A timer that fires this much late means our event loop stalled, not that the peer died. */
const STALL_TOLERANCE_MS = 50;
/**
 * After a stall, a pong may already sit unread in the kernel: the timers phase runs before the
 * poll phase that would read it. One short grace lets the poll phase run before we decide.
 */
const STALL_GRACE_MS = 25;

const TEXT = Object.freeze({ binary: false });
const BINARY = Object.freeze({ binary: true });

/** What a socket needs from its pool. @internal */
export interface SocketHost {
  readonly options: ResolvedWsPoolOptions;
  readonly gate: HandshakeGate;
  readonly events: WsEvents;
  /** Subscribe frames and unacknowledged messages to write, in this order, when the socket turns ready. */
  resume(socket: PooledSocket): Iterable<{ readonly subscribe: string | Buffer | undefined; readonly unacked: Iterable<Outbound> }>;
  /** A frame arrived on a ready socket. */
  inbound(socket: PooledSocket, data: Buffer, isBinary: boolean): void;
  /** The socket changed state. */
  stateChanged(socket: PooledSocket, from: WsSocketState, to: WsSocketState): void;
}

/** One live ws connection of a pooled socket (a new one per attempt). */
interface Connection {
  readonly ws: WebSocket;
  readonly inFlight: Deque<Outbound>;
  inFlightBytes: number;
  failure: BerthError | undefined;
  handshakeStatus: number | undefined;
  retryAfterMs: number | undefined;
  byUs: boolean;
  readyAt: number | undefined;
  deadline: TimerHandle | undefined;
  pingTimer: TimerHandle | undefined;
  pongTimer: TimerHandle | undefined;
  pingSentAt: number;
  inboundAtPing: number;
  inbound: number;
  graceUsed: boolean;
  frames: Deque<WsFrame>;
  frameWaiters: Deque<{ resolve: (frame: WsFrame) => void; reject: (error: BerthError) => void }>;
  /** Shared send callback: ws calls send callbacks in order, so one function per connection pops the head. */
  readonly onWritten: (error?: Error) => void;
  /** Pacing of this connection's writes (`maxMessagesPerSec`), and the timer that pumps when a token is due. */
  readonly rate: SendRate | undefined;
  rateTimer: TimerHandle | undefined;
  /** Already-written (unacknowledged) messages to send again, paced like new ones, ahead of the buffer. */
  readonly resends: Deque<Outbound>;
}

type State =
  | { readonly t: 'connecting'; readonly ticket: GateTicket; readonly conn: Connection | undefined }
  | { readonly t: 'open'; readonly conn: Connection }
  | { readonly t: 'ready'; readonly conn: Connection }
  | { readonly t: 'closing'; readonly conn: Connection }
  | { readonly t: 'backoff'; readonly timer: TimerHandle }
  | { readonly t: 'closed' }
  | { readonly t: 'errored'; readonly error: BerthError };

/** Snapshot of one socket for `stats()`. */
export interface WsSocketStats {
  /** Socket id. */
  readonly id: string;
  /** Lifecycle state. */
  readonly state: WsSocketState;
  /** Reconnect attempts since the last stable connection. */
  readonly attempt: number;
  /** Messages in the send buffer. */
  readonly bufferedMessages: number;
  /** Bytes in the send buffer. */
  readonly bufferedBytes: number;
  /** Senders waiting for buffer room (`overflow: 'block'`), not counted in `bufferedMessages`. */
  readonly blockedMessages: number;
  /** Bytes written whose send callback has not run yet. */
  readonly inFlightBytes: number;
  /** Last ping round trip in milliseconds. */
  readonly rttMs: number | undefined;
  /** Connections opened (handshake completed) over the socket's life. */
  readonly connections: number;
}

/**
 * One pooled WebSocket: a state machine `connecting → open → ready → closing → closed`, with
 * `backoff` between attempts and `errored` after a fatal close or `maxRetries`. It owns a
 * bounded send buffer, the heartbeat, reconnects, and always has an `'error'` listener on its
 * ws (partykit/partykit#912 crashed on an unlistened one). @internal
 */
export class PooledSocket {
  /** Stable id, e.g. `wss://127.0.0.1:4000#3`. */
  readonly id: string;
  readonly #host: SocketHost;
  readonly #buffer: SendBuffer;
  #state: State = { t: 'closed' };
  #attempt = 0;
  #retiring = false;
  #replacing = false;
  /** The backoff ran out while a replacement was being dialled. */
  #parked = false;
  #connections = 0;
  #rttMs: number | undefined;
  #expiryTimer: TimerHandle | undefined;
  #expiryAt = Number.POSITIVE_INFINITY;
  #closedWaiters: Array<() => void> = [];
  readonly #hwm: number;

  constructor(id: string, host: SocketHost) {
    this.id = id;
    this.#host = host;
    const o = host.options;
    this.#hwm = o.highWaterMarkBytes;
    this.#buffer = new SendBuffer(
      { maxMessages: o.maxBufferedMessages, maxBytes: o.maxBufferedBytes, overflow: o.overflow },
      (message, reason) => this.#lost(message, reason),
    );
  }

  /** Lifecycle state. */
  state(): WsSocketState {
    return this.#state.t;
  }

  /** True when the socket is ready and its writes are below the high-water mark. */
  get writable(): boolean {
    const s = this.#state;
    return s.t === 'ready' && this.#buffer.length === 0 && s.conn.inFlightBytes < this.#hwm;
  }

  /** Load for placement: buffered plus in-flight bytes. */
  get load(): number {
    const s = this.#state;
    return this.#buffer.bytes + (s.t === 'ready' || s.t === 'open' ? s.conn.inFlightBytes : 0);
  }

  /** Stats snapshot. */
  stats(): WsSocketStats {
    const s = this.#state;
    return {
      id: this.id,
      state: s.t,
      attempt: this.#attempt,
      bufferedMessages: this.#buffer.length,
      bufferedBytes: this.#buffer.bytes,
      blockedMessages: this.#buffer.blocked,
      inFlightBytes: 'conn' in s && s.conn !== undefined ? s.conn.inFlightBytes : 0,
      rttMs: this.#rttMs,
      connections: this.#connections,
    };
  }

  /**
   * Set while the pool dials this socket's replacement (rotation, server hint): a close then
   * does not redial (the replacement takes over); the socket waits in `backoff` holding its
   * buffer. Cleared when the replacement failed: a socket that waited past its backoff
   * reconnects then.
   */
  set replacing(value: boolean) {
    this.#replacing = value;
    if (value || !this.#parked) return;
    this.#parked = false;
    if (this.#state.t === 'backoff') this.#connect();
  }

  /** Starts the first connection. */
  start(): void {
    if (this.#state.t === 'closed' && !this.#retiring) this.#connect();
  }

  /** Leaves `errored` or `backoff` and connects now, with a fresh attempt count. */
  reconnect(): void {
    if (this.#retiring) return;
    const s = this.#state;
    if (s.t === 'backoff') this.#host.options.clock.clearTimeout(s.timer);
    if (s.t === 'backoff' || s.t === 'errored' || s.t === 'closed') {
      this.#attempt = 0;
      this.#connect();
    }
  }

  /** Queues (or writes at once) a message. The message's promise carries the outcome. */
  send(message: Outbound): void {
    const s = this.#state;
    if (this.#retiring || s.t === 'errored' || s.t === 'closed') {
      message.fail(this.#closedError(s.t === 'errored' ? s.error : undefined));
      this.#lost(message, 'closed');
      return;
    }
    if (s.t === 'ready' && this.#buffer.length === 0 && s.conn.resends.length === 0 && this.#canWrite(s.conn, message)) {
      this.#write(s.conn, message);
      return;
    }
    message.stamp(this.#host.options.clock.now());
    if (this.#buffer.offer(message)) {
      this.#armExpiry(message.expiresAt);
      this.#host.events.buffer(this.#buffer.length, this.#buffer.bytes);
    }
  }

  /** Writes a control frame now (subscribe, unsubscribe), ahead of the buffer. No-op unless ready. */
  control(frame: string | Buffer | undefined): void {
    const s = this.#state;
    if (frame !== undefined && s.t === 'ready') s.conn.ws.send(frame);
  }

  /** Writes already-written messages again (acks): after a channel moved here. No-op unless ready. */
  retransmit(messages: Iterable<Outbound>): void {
    const s = this.#state;
    if (s.t !== 'ready') return;
    this.#resend(s.conn, messages);
  }

  /**
   * Sends unacknowledged messages again. Unpaced they go at once; with `maxMessagesPerSec`
   * they queue ahead of the buffer and take tokens like any message, so a reconnect after a
   * long silence does not flood a server that meters per connection.
   */
  #resend(conn: Connection, messages: Iterable<Outbound>): void {
    if (conn.rate === undefined) {
      for (const message of messages) this.#write(conn, message);
      return;
    }
    for (const message of messages) conn.resends.push(message);
  }

  /** Takes buffered messages out (to move them to another socket). */
  take(predicate: (message: Outbound) => boolean): Outbound[] {
    return this.#buffer.take(predicate);
  }

  /** Appends messages moved from another socket and writes what it can. */
  adopt(messages: readonly Outbound[]): void {
    this.#buffer.adopt(messages);
    const now = this.#host.options.clock.now();
    for (const message of messages) this.#armExpiry(message.stamp(now));
    this.pump();
  }

  /** Writes buffered messages while the socket is ready and below the high-water mark. */
  pump(): void {
    const s = this.#state;
    if (s.t !== 'ready') return;
    const resends = s.conn.resends;
    for (let next = resends.peek(); next !== undefined; next = resends.peek()) {
      if (!this.#canWrite(s.conn, next)) return;
      resends.shift();
      this.#write(s.conn, next);
    }
    const before = this.#buffer.length;
    for (let next = this.#buffer.peek(); next !== undefined; next = this.#buffer.peek()) {
      if (!this.#canWrite(s.conn, next)) break;
      this.#buffer.shift();
      this.#write(s.conn, next);
    }
    if (this.#buffer.length !== before) {
      if (this.#buffer.length === 0) this.#clearExpiry();
      this.#host.events.buffer(this.#buffer.length, this.#buffer.bytes);
    }
  }

  /**
   * Closes for good: a close frame (1000) and `terminate()` after `closeTimeoutMs`; never
   * `close()` while CONNECTING (it emits `'error'`). Buffered messages are rejected with
   * `ERR_BERTH_WS_CLOSED`. Resolves when the socket is closed.
   */
  close(): Promise<void> {
    this.#retiring = true;
    const done = new Promise<void>((resolve) => {
      if (this.#state.t === 'closed') resolve();
      else this.#closedWaiters.push(resolve);
    });
    this.#buffer.failAll(() => this.#closedError(undefined));
    this.#clearExpiry();
    const s = this.#state;
    const clock = this.#host.options.clock;
    switch (s.t) {
      case 'connecting':
        if (s.conn === undefined) {
          s.ticket.release();
          this.#finish();
        } else {
          s.conn.byUs = true;
          s.conn.ws.terminate();
        }
        break;
      case 'open':
      case 'ready': {
        const conn = s.conn;
        conn.byUs = true;
        this.#stopTimers(conn);
        this.#setState({ t: 'closing', conn });
        conn.ws.close(1000);
        conn.deadline = clock.setTimeout(() => conn.ws.terminate(), this.#host.options.closeTimeoutMs);
        break;
      }
      case 'backoff':
        clock.clearTimeout(s.timer);
        this.#finish();
        break;
      case 'errored':
        this.#finish();
        break;
      default:
        break;
    }
    return done;
  }

  #closedError(cause: BerthError | undefined): WsClosedError {
    return new WsClosedError(`WebSocket ${this.id} is closed${cause === undefined ? '' : `: ${cause.message}`}`, {
      socketId: this.id,
      ...(cause === undefined ? {} : { cause }),
    });
  }

  #lost(message: Outbound, reason: LostReason): void {
    this.#host.events.lost(reason, message.bytes, message.channel);
  }

  #canWrite(conn: Connection, message: Outbound): boolean {
    // Pace on send callbacks, not ws.bufferedAmount: it reads 0 until the kernel buffer is full
    // (websockets/ws#492, #1620). Test the bytes about to be added too (sleepypod/core#479).
    if (conn.inFlightBytes > 0 && conn.inFlightBytes + message.bytes > this.#hwm) return false;
    if (!message.written && message.ackSink !== undefined && message.ackSink.windowFull()) return false;
    // Last, so a token is taken only by a message that is written now.
    return conn.rate === undefined || this.#takeToken(conn, conn.rate);
  }

  /** Takes a send token, or arms the one pacing timer to pump when the next is due. */
  #takeToken(conn: Connection, rate: SendRate): boolean {
    const clock = this.#host.options.clock;
    const now = clock.now();
    if (rate.tryTake(now)) return true;
    if (conn.rateTimer === undefined) {
      conn.rateTimer = clock.setTimeout(() => {
        conn.rateTimer = undefined;
        if (this.#state.t === 'ready' && this.#state.conn === conn) this.pump();
      }, rate.waitMs(now));
    }
    return false;
  }

  #write(conn: Connection, message: Outbound): void {
    if (!message.written) {
      message.written = true;
      message.ackSink?.firstWrite(message);
    }
    conn.inFlight.push(message);
    conn.inFlightBytes += message.bytes;
    // A shared options object: ws would otherwise allocate one per call.
    conn.ws.send(message.data, typeof message.data === 'string' ? TEXT : BINARY, conn.onWritten);
  }

  #setState(next: State, closeCode?: number): void {
    const from = this.#state.t;
    this.#state = next;
    if (from === next.t) return;
    this.#host.events.state(this.id, from, next.t, closeCode);
    this.#host.stateChanged(this, from, next.t);
  }

  #connect(closeCode?: number): void {
    this.#parked = false;
    const ticket = this.#host.gate.enter();
    this.#setState({ t: 'connecting', ticket, conn: undefined }, closeCode);
    void ticket.granted.then(() => {
      const s = this.#state;
      if (s.t === 'connecting' && s.ticket === ticket && s.conn === undefined) this.#dial(ticket);
      else ticket.release();
    });
  }

  #dial(ticket: GateTicket): void {
    const o = this.#host.options;
    const url = o.url;
    const connector = o.tls;
    const secure = url.protocol === 'wss:';
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
    // ws hands `createConnection` to http(s).request, which then skips the agent and uses the
    // returned socket; a TLSSocket written before 'secureConnect' buffers the upgrade request.
    const createConnection: typeof netCreateConnection | undefined =
      secure && connector !== undefined
        ? (((): unknown =>
            connector.connect({ host, port, ...(o.servername === undefined ? {} : { servername: o.servername }) })) as unknown as typeof netCreateConnection)
        : undefined;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, [...o.protocols], {
        perMessageDeflate: o.perMessageDeflate,
        maxPayload: o.maxPayloadBytes,
        headers: { ...o.headers },
        ...(createConnection === undefined ? {} : { createConnection }),
      });
    } catch (cause) {
      // ws and http.request throw synchronously on a bad subprotocol or header value: a
      // retry would throw again, so the socket is errored, with the reason.
      ticket.release();
      const error = new WsHandshakeError(`WebSocket ${this.id} could not start: ${String(cause)}`, { socketId: this.id, cause });
      this.#setState({ t: 'errored', error });
      this.#buffer.failAll(() => this.#closedError(error));
      this.#clearExpiry();
      return;
    }
    const conn: Connection = {
      ws,
      inFlight: new Deque(),
      inFlightBytes: 0,
      failure: undefined,
      handshakeStatus: undefined,
      retryAfterMs: undefined,
      byUs: false,
      readyAt: undefined,
      deadline: undefined,
      pingTimer: undefined,
      pongTimer: undefined,
      pingSentAt: 0,
      inboundAtPing: 0,
      inbound: 0,
      graceUsed: false,
      frames: new Deque(),
      frameWaiters: new Deque(),
      onWritten: (error) => {
        if (error !== undefined && error !== null) return; // the 'close' handler requeues what is still in flight
        const message = conn.inFlight.shift();
        if (message === undefined) return;
        conn.inFlightBytes -= message.bytes;
        if (message.ackSink === undefined) message.settle('written');
        if (this.#state.t === 'ready' && this.#state.conn === conn && (this.#buffer.length > 0 || conn.resends.length > 0)) this.pump();
      },
      rate: o.sendRate === undefined ? undefined : new SendRate(o.sendRate.perSec, o.sendRate.burst, o.clock.now()),
      rateTimer: undefined,
      resends: new Deque(),
    };
    this.#setState({ t: 'connecting', ticket, conn });
    conn.deadline = o.clock.setTimeout(() => {
      conn.failure ??= new WsHandshakeError(`WebSocket handshake to ${url.origin} timed out after ${o.handshakeTimeoutMs} ms`, {
        socketId: this.id,
        timeoutMs: o.handshakeTimeoutMs,
      });
      ws.terminate();
    }, o.handshakeTimeoutMs);
    ws.on('error', (error: Error) => {
      conn.failure ??=
        error instanceof BerthError
          ? error
          : new WsHandshakeError(`WebSocket ${this.id} failed: ${error.message}`, { socketId: this.id, cause: error });
    });
    ws.on('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      conn.handshakeStatus = status;
      conn.retryAfterMs = parseRetryAfterMs(response.headers['retry-after'], o.clock.wallNow());
      conn.failure = new WsHandshakeError(`WebSocket handshake to ${url.origin} refused with HTTP ${status}`, {
        socketId: this.id,
        status,
        ...(conn.retryAfterMs === undefined ? {} : { retryAfterMs: conn.retryAfterMs }),
      });
      response.resume();
      ws.terminate();
    });
    ws.on('open', () => this.#onOpen(conn, ticket));
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(conn, data, isBinary));
    ws.on('ping', () => {
      conn.inbound += 1;
    });
    ws.on('pong', () => this.#onPong(conn));
    ws.on('close', (code: number, reason: Buffer) => this.#onClose(conn, ticket, code, reason.toString('utf8')));
  }

  #onOpen(conn: Connection, ticket: GateTicket): void {
    const o = this.#host.options;
    ticket.release();
    o.clock.clearTimeout(conn.deadline);
    conn.deadline = undefined;
    this.#connections += 1;
    this.#setState({ t: 'open', conn });
    const hook = o.onOpen;
    if (hook === undefined) {
      this.#becomeReady(conn);
      return;
    }
    conn.deadline = o.clock.setTimeout(() => {
      conn.failure ??= new WsHandshakeError(`WebSocket ${this.id}: onOpen did not finish within ${o.readyTimeoutMs} ms`, {
        socketId: this.id,
        timeoutMs: o.readyTimeoutMs,
      });
      conn.ws.terminate();
    }, o.readyTimeoutMs);
    const context: WsOpenContext = {
      socketId: this.id,
      protocol: conn.ws.protocol,
      send: (data) =>
        new Promise<void>((resolve, reject) => {
          conn.ws.send(data, (error) => {
            if (error === undefined || error === null) resolve();
            else reject(new WsClosedError(`WebSocket ${this.id} closed during onOpen`, { socketId: this.id, cause: error }));
          });
        }),
      nextMessage: () => {
        const frame = conn.frames.shift();
        if (frame !== undefined) return Promise.resolve(frame);
        if (this.#state.t !== 'open' || this.#state.conn !== conn) {
          return Promise.reject(new WsClosedError(`WebSocket ${this.id} is no longer opening`, { socketId: this.id }));
        }
        return new Promise<WsFrame>((resolve, reject) => conn.frameWaiters.push({ resolve, reject }));
      },
    };
    Promise.resolve()
      .then(() => hook(context))
      .then(
        () => {
          if (this.#state.t === 'open' && this.#state.conn === conn) this.#becomeReady(conn);
        },
        (error: unknown) => {
          conn.failure ??= new WsHandshakeError(`WebSocket ${this.id}: onOpen failed: ${String(error)}`, {
            socketId: this.id,
            cause: error,
          });
          conn.ws.terminate();
        },
      );
  }

  #becomeReady(conn: Connection): void {
    const o = this.#host.options;
    o.clock.clearTimeout(conn.deadline);
    conn.deadline = undefined;
    conn.readyAt = o.clock.now();
    this.#setState({ t: 'ready', conn });
    // Order after every (re)connect: auth (done) → subscriptions → unacknowledged → buffer.
    // reconnecting-websocket and socket.io flush their queue first (socketio/socket.io-client#1499).
    for (const entry of this.#host.resume(this)) {
      if (entry.subscribe !== undefined) conn.ws.send(entry.subscribe);
      this.#resend(conn, entry.unacked);
    }
    this.#schedulePing(conn);
    this.pump();
  }

  #onMessage(conn: Connection, data: Buffer, isBinary: boolean): void {
    conn.inbound += 1;
    const s = this.#state;
    if (s.t === 'open' && s.conn === conn) {
      const frame: WsFrame = { data, isBinary };
      const waiter = conn.frameWaiters.shift();
      if (waiter === undefined) conn.frames.push(frame);
      else waiter.resolve(frame);
      return;
    }
    if ((s.t === 'ready' || s.t === 'closing') && s.conn === conn) this.#host.inbound(this, data, isBinary);
  }

  #schedulePing(conn: Connection): void {
    const o = this.#host.options;
    if (o.pingIntervalMs === 0) return;
    conn.pingTimer = o.clock.setTimeout(() => {
      conn.pingTimer = undefined;
      conn.pingSentAt = o.clock.now();
      conn.inboundAtPing = conn.inbound;
      conn.graceUsed = false;
      conn.ws.ping();
      conn.pongTimer = o.clock.setTimeout(() => this.#pongDeadline(conn), o.pongTimeoutMs);
    }, o.pingIntervalMs);
  }

  #onPong(conn: Connection): void {
    conn.inbound += 1;
    if (conn.pongTimer === undefined) return;
    const clock = this.#host.options.clock;
    clock.clearTimeout(conn.pongTimer);
    conn.pongTimer = undefined;
    this.#rttMs = clock.now() - conn.pingSentAt;
    this.#host.events.heartbeat(this.id, this.#rttMs, false);
    this.#schedulePing(conn);
  }

  #pongDeadline(conn: Connection): void {
    const o = this.#host.options;
    conn.pongTimer = undefined;
    // Any frame since the ping proves the peer alive (a busy server may answer pings late).
    if (conn.inbound > conn.inboundAtPing) {
      this.#schedulePing(conn);
      return;
    }
    const late = o.clock.now() - (conn.pingSentAt + o.pongTimeoutMs);
    if (late > STALL_TOLERANCE_MS && !conn.graceUsed) {
      conn.graceUsed = true;
      conn.pongTimer = o.clock.setTimeout(() => this.#pongDeadline(conn), STALL_GRACE_MS);
      return;
    }
    conn.failure = new WsPingTimeoutError(`WebSocket ${this.id}: no pong within ${o.pongTimeoutMs} ms`, {
      socketId: this.id,
      timeoutMs: o.pongTimeoutMs,
    });
    this.#host.events.heartbeat(this.id, undefined, true);
    // terminate(), never close(): a half-open peer would hold us in CLOSING (websockets/ws#1158).
    conn.ws.terminate();
  }

  #stopTimers(conn: Connection): void {
    const clock = this.#host.options.clock;
    clock.clearTimeout(conn.deadline);
    clock.clearTimeout(conn.pingTimer);
    clock.clearTimeout(conn.pongTimer);
    clock.clearTimeout(conn.rateTimer);
    conn.deadline = undefined;
    conn.pingTimer = undefined;
    conn.pongTimer = undefined;
    conn.rateTimer = undefined;
  }

  #onClose(conn: Connection, ticket: GateTicket, code: number, reason: string): void {
    const s = this.#state;
    if (!('conn' in s) || s.conn !== conn) return;
    ticket.release();
    this.#stopTimers(conn);
    const ended = new WsClosedError(`WebSocket ${this.id} closed (${code}${reason === '' ? '' : ` ${reason}`})`, {
      socketId: this.id,
      closeCode: code,
    });
    for (let waiter = conn.frameWaiters.shift(); waiter !== undefined; waiter = conn.frameWaiters.shift()) {
      waiter.reject(ended);
    }
    // Writes whose callback never ran did not reach the kernel: write them again after the
    // reconnect, in order. Acked messages live in their channel's window and are resent from there.
    const unwritten = conn.inFlight.drain().filter((message) => message.ackSink === undefined && !message.settled);
    conn.inFlightBytes = 0;
    if (this.#retiring) {
      for (const message of unwritten) {
        message.fail(
          new WsClosedError(`WebSocket ${this.id} closed while a message was being written`, {
            socketId: this.id,
            maybeDelivered: true,
          }),
        );
        this.#lost(message, 'closed');
      }
      this.#finish(code);
      return;
    }
    this.#buffer.requeue(unwritten);
    const now = this.#host.options.clock.now();
    for (const message of unwritten) this.#armExpiry(message.stamp(now));

    const o = this.#host.options;
    const uptime = conn.readyAt === undefined ? 0 : o.clock.now() - conn.readyAt;
    if (uptime >= o.minUptimeMs) this.#attempt = 0;
    const info: CloseInfo = {
      code,
      reason,
      byUs: conn.byUs,
      ...(conn.handshakeStatus === undefined ? {} : { handshakeStatus: conn.handshakeStatus }),
      ...(conn.retryAfterMs === undefined ? {} : { retryAfterMs: conn.retryAfterMs }),
      ...(conn.failure === undefined ? {} : { error: conn.failure }),
    };
    const decision: CloseDecision = o.classifyClose?.(info) ?? classifyClose(info, o);
    const error = conn.failure ?? ended;
    if (decision.action === 'stop' || this.#attempt >= o.maxRetries) {
      this.#setState({ t: 'errored', error }, code);
      this.#buffer.failAll(() => this.#closedError(error));
      this.#clearExpiry();
      return;
    }
    // Going away (1001) after a stable connection: the buffer and channels stay with this socket,
    // so redialling now replays them on the new connection with no backoff gap. Not while a
    // replacement is being dialled (it takes over), and not when the endpoint flaps.
    if (decision.action === 'retry-now' && this.#attempt === 0 && !this.#replacing) {
      this.#attempt += 1;
      this.#host.events.reconnect(this.id, this.#attempt, 0, code, conn.failure);
      this.#connect(code);
      return;
    }
    const floor = decision.action === 'retry-later' ? decision.floorMs : 0;
    const delayMs = floor + fullJitterDelayMs(this.#attempt, { baseMs: o.backoffBaseMs, capMs: o.backoffCapMs }, o.random);
    this.#attempt += 1;
    const timer = o.clock.setTimeout(() => {
      if (this.#state.t !== 'backoff') return;
      // A replacement is on its way: dialling too would only add a connection it then closes.
      if (this.#replacing) this.#parked = true;
      else this.#connect();
    }, delayMs);
    this.#setState({ t: 'backoff', timer }, code);
    this.#host.events.reconnect(this.id, this.#attempt, delayMs, code, conn.failure);
  }

  #finish(closeCode?: number): void {
    this.#clearExpiry();
    this.#setState({ t: 'closed' }, closeCode);
    const waiters = this.#closedWaiters;
    this.#closedWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #armExpiry(expiresAt: number): void {
    if (expiresAt >= this.#expiryAt) return;
    const clock = this.#host.options.clock;
    clock.clearTimeout(this.#expiryTimer);
    this.#expiryAt = expiresAt;
    this.#expiryTimer = clock.setTimeout(() => {
      this.#expiryTimer = undefined;
      this.#expiryAt = Number.POSITIVE_INFINITY;
      const next = this.#buffer.expire(clock.now());
      if (next !== undefined) this.#armExpiry(next);
      this.#host.events.buffer(this.#buffer.length, this.#buffer.bytes);
    }, Math.max(0, expiresAt - clock.now()));
  }

  #clearExpiry(): void {
    this.#host.options.clock.clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    this.#expiryAt = Number.POSITIVE_INFINITY;
  }
}

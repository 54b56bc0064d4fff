import http2 from 'node:http2';
import type { ClientHttp2Session, ClientHttp2Stream, OutgoingHttpHeaders, Settings } from 'node:http2';
import net from 'node:net';
import type { Socket } from 'node:net';
import type { BerthError, CloseReason, ComponentIdentity, TimerHandle, TlsHandshakeInfo } from '@berth/core-types';
import { BdpEstimator } from './bdp-estimator.js';
import { ConnectTimeoutError, PingTimeoutError, ProtocolError, UpstreamResetError, toConnectError } from './errors.js';
import { channels, eventError } from './events.js';
import type { ResolvedOptions } from './options.js';
import type { H2SessionStats } from './stats.js';

const { NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;
/**
 * `ClientHttp2Session.request()` options. None at all for a GET, HEAD or DELETE without a body:
 * node then ends the stream itself (`isPayloadMeaningless`). Otherwise only `endStream`: node
 * copies the object and adds the RFC 7540 priority defaults, which is cheaper than validating
 * pre-filled ones (measured: pre-filled weight/parent/exclusive/silent cost ~1 µs per request
 * in `setAndValidatePriorityOptions`, more than the four property additions they replace).
 */
const END_STREAM = Object.freeze({ endStream: true });
const KEEP_OPEN = Object.freeze({ endStream: false });
/** Methods node:http2 ends by itself when no options are given (`kNoPayloadMethods`). */
const NO_PAYLOAD_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'DELETE']);
/** Before the server's SETTINGS, Go x/net and undici assume 100 concurrent streams. */
const ASSUMED_PEER_MAX_STREAMS = 100;

/**
 * Lifecycle of one session. `retiring` marks a ready session past its maximum age that
 * still serves streams until its replacement is ready (make-before-break).
 */
export type SessionState =
  | { readonly t: 'connecting'; readonly startedAt: number; readonly timer: TimerHandle }
  | { readonly t: 'ready'; readonly retiring: boolean }
  | { readonly t: 'draining'; readonly reason: CloseReason }
  | { readonly t: 'closed'; readonly reason: CloseReason };

/** What a session tells its multiplexer. */
export interface SessionHooks {
  /** SETTINGS arrived; the session takes streams. */
  ready(session: H2Session): void;
  /** The dial failed (TCP, TLS, ALPN or the SETTINGS deadline). */
  connectFailed(session: H2Session, error: BerthError): void;
  /** Stream slots freed, the cap changed, or the session stopped taking streams. */
  capacity(session: H2Session): void;
  /** The session reached its maximum age with streams open: open a replacement, then `drain('lifetime')` it. */
  retire(session: H2Session): void;
  /** The peer sent GOAWAY (RFC 9113 §6.8). */
  goaway(session: H2Session, errorCode: number, lastStreamId: number): void;
  /** The session is gone. */
  closed(session: H2Session, reason: CloseReason, error: BerthError | undefined): void;
}

/** What a session needs from its multiplexer. */
export interface SessionContext {
  readonly options: ResolvedOptions;
  readonly identity: ComponentIdentity;
  /** Current keep-alive interval (doubled after GOAWAY ENHANCE_YOUR_CALM). */
  pingIntervalMs(): number;
}

/**
 * One `ClientHttp2Session` with a userland stream gate: it never hands nghttp2 more streams
 * than min(local cap, the peer's SETTINGS_MAX_CONCURRENT_STREAMS), counting streams it reset
 * whose RST_STREAM the peer has not provably seen yet (Go x/net's `pendingResets`), so
 * nghttp2's hidden queue (no timeout, no priority; nghttp2 PR #1489) is never used.
 *
 * It also runs the session's timers: keep-alive PING with a deadline, idle close, maximum
 * age with jitter, and the BDP probe that grows the receive windows.
 */
export class H2Session {
  /** Unique within the process. */
  readonly id: string;
  /** Monotonic milliseconds when the dial started. */
  readonly createdAt: number;
  readonly #context: SessionContext;
  readonly #options: ResolvedOptions;
  readonly #hooks: SessionHooks;
  readonly #socket: Socket;
  readonly #session: ClientHttp2Session;
  readonly #streams = new Set<ClientHttp2Stream>();
  #state: SessionState;
  #tls: TlsHandshakeInfo | undefined;
  #connectMs: number | undefined;
  #peerMaxStreams = ASSUMED_PEER_MAX_STREAMS;
  #peerMaxHeaderListBytes = Infinity;
  #requestCount = 0;
  #errorCount = 0;
  #lastUsedAt: number;
  #goaway: { readonly errorCode: number; readonly lastStreamId: number } | undefined;
  #failure: BerthError | undefined;
  #resetsAwaitingPing = 0;
  #resetsInFlight = 0;
  #rttMs: number | undefined;
  #streamWindow: number;
  #connectionWindow: number;
  readonly #bdp: BdpEstimator | undefined;
  #bdpTimer: TimerHandle | undefined;
  #bdpProbing = false;
  #idleTimer: TimerHandle | undefined;
  #ageTimer: TimerHandle | undefined;
  #keepaliveTimer: TimerHandle | undefined;
  #pingDeadline: TimerHandle | undefined;
  #resetPingDeadline: TimerHandle | undefined;
  #bytesAtLastCheck = -1;
  /** Set once this side started closing the socket, so its 'close' is not taken for a peer failure. */
  #closingLocally = false;

  constructor(id: string, context: SessionContext, hooks: SessionHooks) {
    this.id = id;
    this.#context = context;
    this.#options = context.options;
    this.#hooks = hooks;
    const o = this.#options;
    const clock = o.clock;
    this.createdAt = clock.now();
    this.#lastUsedAt = this.createdAt;
    this.#streamWindow = o.initialStreamWindowBytes;
    this.#connectionWindow = o.initialConnectionWindowBytes;
    this.#bdp = o.adaptiveWindow
      ? new BdpEstimator({ initialWindowBytes: o.initialStreamWindowBytes, maxWindowBytes: o.maxWindowBytes })
      : undefined;
    const timer = clock.setTimeout(() => {
      this.destroy(new ConnectTimeoutError(`HTTP/2 session to ${o.origin} not ready after ${o.connectTimeoutMs} ms`, { origin: o.origin }));
    }, o.connectTimeoutMs);
    this.#state = { t: 'connecting', startedAt: this.createdAt, timer };

    // The socket is ours (not http2.connect's), so the BDP probe and the keep-alive can read
    // `bytesRead`: for a TLSSocket it counts the decrypted HTTP/2 frames nghttp2 consumed.
    if (o.tls !== undefined && o.secure) {
      const tlsSocket = o.tls.connect({
        host: o.host,
        port: o.port,
        ...(o.servername === undefined ? {} : { servername: o.servername }),
        alpnProtocols: ['h2'],
      });
      tlsSocket.once('secureConnect', () => {
        this.#tls = o.tls?.handshakeInfo(tlsSocket);
        if (tlsSocket.alpnProtocol !== 'h2') {
          this.destroy(
            new ProtocolError(`${o.origin} did not negotiate h2 by ALPN (got ${JSON.stringify(tlsSocket.alpnProtocol)})`, {
              origin: o.origin,
              alpn: tlsSocket.alpnProtocol,
            }),
          );
        }
      });
      this.#socket = tlsSocket;
    } else {
      this.#socket = net.connect({ host: o.host, port: o.port });
    }
    const socket = this.#socket;
    // Registered after http2's own listeners would be too late for nothing: streams learn of a
    // dead socket on the next tick, so recording the cause here lets them be classified
    // (and idempotent ones replayed) instead of looking like plain CANCELs.
    socket.on('error', (error: unknown) => this.#onError(error));
    socket.once('close', () => {
      if (this.#state.t !== 'closed' && !this.#closingLocally) this.#onError(new Error('the connection was closed by the peer'));
    });
    this.#session = http2.connect(o.origin, {
      createConnection: () => socket,
      settings: { enablePush: false, initialWindowSize: o.initialStreamWindowBytes },
      peerMaxConcurrentStreams: Math.min(o.maxConcurrentStreams, ASSUMED_PEER_MAX_STREAMS),
      // Counted by node per session: open streams, HPACK tables, queued outbound data, unacked
      // PINGs/SETTINGS. Past it, node rejects new streams (a response HEADERS gets RST_STREAM
      // ENHANCE_YOUR_CALM), which the stream gate cannot see coming: it counts streams, not bytes.
      maxSessionMemory: o.maxSessionMemoryMb,
    });
    const session = this.#session;
    session.on('remoteSettings', (settings: Settings) => this.#onRemoteSettings(settings));
    session.on('goaway', (errorCode: number, lastStreamId: number) => this.#onGoaway(errorCode, lastStreamId));
    session.on('error', (error: unknown) => this.#onError(error));
    session.on('close', () => this.#onClose());
  }

  /** The session's lifecycle state. */
  get state(): SessionState {
    return this.#state;
  }

  /** True while the session accepts new streams. */
  get accepting(): boolean {
    return this.#state.t === 'ready';
  }

  /** True when the session is ready but past its maximum age, waiting for its replacement. */
  get retiring(): boolean {
    return this.#state.t === 'ready' && this.#state.retiring;
  }

  /** Effective stream cap: min(local cap, the peer's SETTINGS_MAX_CONCURRENT_STREAMS). */
  get capacity(): number {
    return Math.min(this.#options.maxConcurrentStreams, this.#peerMaxStreams);
  }

  /** Streams counted against the cap: open ones plus reset ones the peer may not have seen yet. */
  get inUse(): number {
    return this.#streams.size + this.#resetsAwaitingPing + this.#resetsInFlight;
  }

  /** Open streams. */
  get active(): number {
    return this.#streams.size;
  }

  /** Free stream slots (0 unless ready). */
  get available(): number {
    return this.#state.t === 'ready' ? Math.max(0, this.capacity - this.inUse) : 0;
  }

  /** The server's SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2), Infinity when it announced none. */
  get peerMaxHeaderListBytes(): number {
    return this.#peerMaxHeaderListBytes;
  }

  /** Milliseconds the dial took, once ready. */
  get connectMs(): number | undefined {
    return this.#connectMs;
  }

  /** Why the session was destroyed, when it was. */
  get failure(): BerthError | undefined {
    return this.#failure;
  }

  /**
   * True when RFC 9113 §6.8 says the server never processed `stream`: it got a GOAWAY whose
   * last-stream-id is below the stream's id (or the stream never got an id).
   */
  unprocessed(stream: ClientHttp2Stream): boolean {
    return this.#goaway !== undefined && (stream.id === undefined || stream.id > this.#goaway.lastStreamId);
  }

  /** True once the peer sent GOAWAY. */
  get goawayReceived(): boolean {
    return this.#goaway !== undefined;
  }

  /** True once the session carried a stream (the next one is `reused`). */
  get used(): boolean {
    return this.#requestCount > 0;
  }

  /**
   * Opens a stream at monotonic time `now`; the caller checked {@link available} and must call
   * {@link streamClosed} from the stream's 'close' (one listener per stream instead of two).
   * Throws what `ClientHttp2Session.request` throws.
   */
  open(headers: OutgoingHttpHeaders, method: string, endStream: boolean, now: number): ClientHttp2Stream {
    const stream = this.#session.request(headers, endStream ? (NO_PAYLOAD_METHODS.has(method) ? undefined : END_STREAM) : KEEP_OPEN);
    this.#requestCount += 1;
    this.#lastUsedAt = now;
    this.#streams.add(stream);
    if (this.#idleTimer !== undefined) this.#clearIdle();
    return stream;
  }

  /**
   * A response head arrived: its body is about to flow, so this is when a BDP probe can
   * measure something (hyper sends its first BDP ping on the first DATA frame).
   */
  responseStarted(): void {
    if (!this.#bdpProbing) this.#startBdpProbe();
  }

  /** Counts a request that failed on this session. */
  countError(): void {
    this.#errorCount += 1;
  }

  /**
   * Resets `stream` with CANCEL and keeps its slot taken until a PING round trip proves the
   * peer saw the RST_STREAM (Go x/net counts `pendingResets` the same way).
   */
  cancel(stream: ClientHttp2Stream): void {
    if (stream.closed || stream.destroyed) return;
    stream.close(NGHTTP2_CANCEL);
    if (this.#state.t === 'closed' || this.#session.destroyed) return;
    this.#resetsAwaitingPing += 1;
    this.#flushResetPing();
  }

  /** Stops taking streams and closes once the open ones finish (GOAWAY from our side). */
  drain(reason: CloseReason): void {
    if (this.#state.t !== 'ready' && this.#state.t !== 'connecting') return;
    if (this.#state.t === 'connecting') {
      this.destroy(undefined, reason);
      return;
    }
    this.#state = { t: 'draining', reason };
    this.#clearLifecycleTimers();
    this.#session.close();
    this.#finishDrainIfIdle();
    this.#hooks.capacity(this);
  }

  /** Destroys the session at once; open streams fail with `error` (or are reset). */
  destroy(error?: BerthError, reason: CloseReason = 'error'): void {
    if (this.#state.t === 'closed') return;
    this.#failure ??= error;
    this.#closingLocally = true;
    if (this.#state.t === 'connecting') this.#options.clock.clearTimeout(this.#state.timer);
    if (this.#state.t !== 'draining') this.#state = { t: 'draining', reason };
    this.#clearAllTimers();
    this.#session.destroy(error);
    // http2 waits for the socket on its own, but a socket still connecting is ours to end.
    if (!this.#socket.destroyed) this.#socket.destroy();
  }

  /** A snapshot for `stats()`. */
  stats(): H2SessionStats {
    const s = this.#state;
    const state = s.t === 'ready' ? (this.#streams.size > 0 ? 'busy' : 'idle') : s.t;
    const live = !this.#session.destroyed && s.t !== 'connecting' ? this.#session.state : undefined;
    return {
      id: this.id,
      protocol: 'h2',
      createdAt: this.createdAt,
      lastUsedAt: this.#lastUsedAt,
      requestCount: this.#requestCount,
      errorCount: this.#errorCount,
      ...(this.#tls === undefined ? {} : { tls: this.#tls }),
      state,
      retiring: this.retiring,
      activeStreams: this.#streams.size,
      pendingResets: this.#resetsAwaitingPing + this.#resetsInFlight,
      maxStreams: this.capacity,
      peerMaxStreams: this.#peerMaxStreams,
      ...(this.#rttMs === undefined ? {} : { rttMs: this.#rttMs }),
      streamWindowBytes: this.#streamWindow,
      connectionWindowBytes: this.#connectionWindow,
      bdpBytes: this.#bdp?.bdpBytes ?? this.#streamWindow,
      ...(live?.localWindowSize === undefined ? {} : { localWindowBytes: live.localWindowSize }),
      ...(live?.remoteWindowSize === undefined ? {} : { remoteWindowBytes: live.remoteWindowSize }),
      ...(live?.outboundQueueSize === undefined ? {} : { outboundQueueSize: live.outboundQueueSize }),
    };
  }

  #onRemoteSettings(settings: Settings): void {
    this.#peerMaxStreams = settings.maxConcurrentStreams ?? ASSUMED_PEER_MAX_STREAMS;
    // node reports an unannounced SETTINGS_MAX_HEADER_LIST_SIZE as 2^32 - 1 (unlimited).
    const headerList = settings.maxHeaderListSize;
    this.#peerMaxHeaderListBytes = headerList === undefined || headerList >= 2 ** 32 - 1 ? Infinity : headerList;
    if (this.#state.t !== 'connecting') {
      this.#hooks.capacity(this);
      return;
    }
    const o = this.#options;
    o.clock.clearTimeout(this.#state.timer);
    this.#connectMs = o.clock.now() - this.#state.startedAt;
    this.#state = { t: 'ready', retiring: false };
    // The connection window is not a SETTINGS value; only WINDOW_UPDATE raises it (nodejs/node#35978).
    if (this.#connectionWindow > 65_535) this.#session.setLocalWindowSize(this.#connectionWindow);
    this.#armIdle();
    this.#armMaxAge();
    this.#armKeepalive();
    if (channels.sessionCreated.hasSubscribers) {
      channels.sessionCreated.publish({
        component: this.#context.identity,
        sessionId: this.id,
        maxConcurrentStreams: this.capacity,
        ...(this.#tls === undefined ? {} : { tls: this.#tls }),
      });
    }
    this.#hooks.ready(this);
  }

  #onGoaway(errorCode: number, lastStreamId: number): void {
    this.#goaway = { errorCode, lastStreamId };
    let above = 0;
    for (const stream of this.#streams) if (stream.id === undefined || stream.id > lastStreamId) above += 1;
    if (channels.goaway.hasSubscribers) {
      channels.goaway.publish({ component: this.#context.identity, sessionId: this.id, errorCode, lastStreamId, retriedStreams: above });
    }
    if (this.#state.t === 'ready' || this.#state.t === 'connecting') {
      if (this.#state.t === 'connecting') this.#options.clock.clearTimeout(this.#state.timer);
      this.#state = { t: 'draining', reason: 'goaway' };
      this.#clearLifecycleTimers();
      this.#finishDrainIfIdle();
    }
    if (errorCode === NGHTTP2_ENHANCE_YOUR_CALM) {
      this.#failure ??= new UpstreamResetError(`${this.#options.origin} sent GOAWAY ENHANCE_YOUR_CALM`, { origin: this.#options.origin, errorCode });
    }
    this.#hooks.goaway(this, errorCode, lastStreamId);
  }

  #onError(error: unknown): void {
    if (this.#failure !== undefined) return;
    if (this.#state.t === 'connecting') {
      this.#failure = toConnectError(error, this.#options.origin);
      return;
    }
    if (this.#state.t === 'ready') {
      this.#state = { t: 'draining', reason: 'broken' };
      this.#clearLifecycleTimers();
    }
    const message = error instanceof Error ? error.message : String(error);
    this.#failure = new UpstreamResetError(`HTTP/2 session to ${this.#options.origin} failed: ${message}`, {
      cause: error,
      origin: this.#options.origin,
    });
  }

  #onClose(): void {
    const previous = this.#state;
    if (previous.t === 'closed') return;
    if (previous.t === 'connecting') this.#options.clock.clearTimeout(previous.timer);
    this.#clearAllTimers();
    const reason: CloseReason = previous.t === 'draining' ? previous.reason : this.#goaway !== undefined ? 'goaway' : 'broken';
    this.#state = { t: 'closed', reason };
    if (!this.#socket.destroyed) this.#socket.destroy();
    if (channels.sessionClosed.hasSubscribers) {
      channels.sessionClosed.publish({
        component: this.#context.identity,
        sessionId: this.id,
        reason,
        ageMs: this.#options.clock.now() - this.createdAt,
        streamCount: this.#requestCount,
        ...(this.#failure === undefined ? {} : { error: eventError(this.#failure) }),
      });
    }
    if (previous.t === 'connecting' || (previous.t === 'draining' && this.#connectMs === undefined)) {
      this.#hooks.connectFailed(
        this,
        this.#failure ?? toConnectError(new Error('the session closed before the server sent SETTINGS'), this.#options.origin),
      );
    }
    this.#hooks.closed(this, reason, this.#failure);
  }

  /** A stream from {@link open} closed: its slot is free. */
  streamClosed(stream: ClientHttp2Stream): void {
    this.#streams.delete(stream);
    // ConnectionInfo.lastUsedAt: when a request started or ended.
    this.#lastUsedAt = this.#options.clock.now();
    if (this.#state.t === 'ready' && this.#streams.size === 0) this.#armIdle();
    this.#finishDrainIfIdle();
    this.#hooks.capacity(this);
  }

  /**
   * A graceful `ClientHttp2Session.close()` ends the socket and then waits for the peer's FIN,
   * which a Node server never sends after its own GOAWAY, so a drained session would linger
   * forever. Once the last stream is done, the GOAWAY is flushed and the socket closed.
   */
  #finishDrainIfIdle(): void {
    if (this.#state.t !== 'draining' || this.#streams.size > 0 || this.#closingLocally) return;
    this.#closingLocally = true;
    if (!this.#session.closed && !this.#session.destroyed) this.#session.close();
    // nghttp2 writes the GOAWAY from a setImmediate; end the socket after it.
    setImmediate(() => {
      if (!this.#socket.destroyed) this.#socket.destroySoon();
    });
  }

  /**
   * The PING that confirms our RST_STREAMs also proves the peer is alive. Go x/net #59690: a
   * client that times a request out, resets it and sends the next one to a connection whose
   * peer went silent (a NAT or middlebox dropped it without a RST) repeats that forever, since
   * a busy session's read-idle keep-alive never fires. So this PING has the keep-alive's
   * deadline: no ACK within `pingTimeoutMs` and the session is broken, its streams fail over.
   * At most one is in flight (Go #70505: reset pings must not trip servers' PING flood limits).
   */
  #flushResetPing(): void {
    if (this.#resetsInFlight > 0 || this.#resetsAwaitingPing === 0) return;
    this.#resetsInFlight = this.#resetsAwaitingPing;
    this.#resetsAwaitingPing = 0;
    const clock = this.#options.clock;
    this.#resetPingDeadline = clock.setTimeout(() => {
      this.#resetPingDeadline = undefined;
      this.#pingTimedOut();
    }, this.#options.pingTimeoutMs);
    this.#ping(() => {
      clock.clearTimeout(this.#resetPingDeadline);
      this.#resetPingDeadline = undefined;
      this.#resetsInFlight = 0;
      this.#flushResetPing();
      this.#hooks.capacity(this);
    });
  }

  /** No PING ACK in time: the peer is gone, whatever the socket says. */
  #pingTimedOut(): void {
    const o = this.#options;
    if (channels.ping.hasSubscribers) {
      channels.ping.publish({ component: this.#context.identity, sessionId: this.id, timedOut: true });
    }
    this.destroy(
      new PingTimeoutError(`HTTP/2 session to ${o.origin} did not answer a PING within ${o.pingTimeoutMs} ms`, {
        origin: o.origin,
        pingTimeoutMs: o.pingTimeoutMs,
      }),
      'broken',
    );
  }


  /** Sends a PING; `done` gets the round trip in ms, or an error when the session went away. */
  #ping(done: (error: Error | null, rttMs: number) => void): void {
    try {
      const sent = this.#session.ping((error, duration) => done(error, duration));
      if (sent === false) done(new Error('too many outstanding PINGs'), 0);
    } catch (error) {
      done(error as Error, 0);
    }
  }

  #armIdle(): void {
    const ms = this.#options.idleTimeoutMs;
    if (ms === 0 || this.#idleTimer !== undefined) return;
    this.#idleTimer = this.#options.clock.setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#streams.size === 0) this.drain('idle');
    }, ms);
  }

  #clearIdle(): void {
    if (this.#idleTimer === undefined) return;
    this.#options.clock.clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  #armMaxAge(): void {
    const o = this.#options;
    if (o.maxAgeMs === 0) return;
    // Jitter only shortens the age, so `maxAgeMs` stays a bound (HikariCP takes up to 2.5 % off).
    const ageMs = o.maxAgeMs * (1 - o.maxAgeJitter * o.random.next());
    this.#ageTimer = o.clock.setTimeout(() => {
      this.#ageTimer = undefined;
      if (this.#state.t !== 'ready') return;
      if (this.#streams.size === 0) {
        this.drain('lifetime');
        return;
      }
      this.#state = { t: 'ready', retiring: true };
      this.#hooks.retire(this);
    }, ageMs);
  }

  /**
   * Keep-alive in Go's `ReadIdleTimeout` style: a PING only when nothing was read for a whole
   * interval, so a busy session sends none; no ACK within `pingTimeoutMs` destroys it.
   */
  #armKeepalive(): void {
    const interval = this.#context.pingIntervalMs();
    if (interval === 0) return;
    this.#keepaliveTimer = this.#options.clock.setTimeout(() => {
      this.#keepaliveTimer = undefined;
      if (this.#state.t !== 'ready' && this.#state.t !== 'draining') return;
      const bytes = this.#socket.bytesRead;
      if (bytes !== this.#bytesAtLastCheck) {
        this.#bytesAtLastCheck = bytes;
        this.#armKeepalive();
        return;
      }
      this.#sendKeepalive();
    }, interval);
  }

  #sendKeepalive(): void {
    const o = this.#options;
    this.#pingDeadline = o.clock.setTimeout(() => {
      this.#pingDeadline = undefined;
      this.#pingTimedOut();
    }, o.pingTimeoutMs);
    this.#ping((error, rttMs) => {
      if (this.#pingDeadline === undefined) return;
      o.clock.clearTimeout(this.#pingDeadline);
      this.#pingDeadline = undefined;
      if (error !== null) {
        if (this.#state.t === 'ready') this.#armKeepalive();
        return;
      }
      this.#rttMs = rttMs;
      this.#bytesAtLastCheck = this.#socket.bytesRead;
      if (channels.ping.hasSubscribers) {
        channels.ping.publish({ component: this.#context.identity, sessionId: this.id, rttMs, timedOut: false });
      }
      this.#armKeepalive();
    });
  }

  /**
   * Drives the BDP estimator while streams are open: PING and count the bytes read until the
   * ACK (hyper `src/proto/h2/ping.rs`). While the window grows the next probe goes out as soon
   * as the ACK is in; after that it waits the estimator's delay. Probing stops when the session
   * has no stream and starts again with the next response.
   */
  #startBdpProbe(): void {
    const bdp = this.#bdp;
    if (bdp === undefined || this.#bdpProbing || bdp.saturated || this.#state.t !== 'ready' || this.#streams.size === 0) return;
    this.#bdpProbing = true;
    const delay = bdp.pingDelayMs;
    if (delay === 0) {
      this.#sendBdpPing(bdp);
      return;
    }
    this.#bdpTimer = this.#options.clock.setTimeout(() => {
      this.#bdpTimer = undefined;
      this.#sendBdpPing(bdp);
    }, delay);
  }

  #sendBdpPing(bdp: BdpEstimator): void {
    if (this.#streams.size === 0 || this.#state.t !== 'ready') {
      this.#bdpProbing = false;
      return;
    }
    // `bytesRead` counts the HTTP/2 frames nghttp2 consumed (decrypted, for TLS): DATA as it
    // arrives, before any reader, so a slow reader does not shrink the sample.
    const bytesBefore = this.#socket.bytesRead;
    this.#ping((error, rttMs) => {
      this.#bdpProbing = false;
      if (error !== null || this.#state.t !== 'ready') return;
      const grown = bdp.sample(this.#socket.bytesRead - bytesBefore, rttMs);
      this.#rttMs = bdp.rttMs;
      if (grown !== undefined) this.#growWindows(grown);
      this.#startBdpProbe();
    });
  }

  #growWindows(bytes: number): void {
    this.#streamWindow = bytes;
    this.#connectionWindow = Math.max(this.#connectionWindow, bytes);
    try {
      this.#session.setLocalWindowSize(this.#connectionWindow);
      // RFC 9113 §6.9.2: a new SETTINGS_INITIAL_WINDOW_SIZE also resizes every open stream's window.
      this.#session.settings({ initialWindowSize: this.#streamWindow });
    } catch (error) {
      this.#options.logger.debug('h2 window update failed', { sessionId: this.id, error: String(error) });
      return;
    }
    if (channels.window.hasSubscribers) {
      channels.window.publish({
        component: this.#context.identity,
        sessionId: this.id,
        bdpBytes: bytes,
        streamWindowBytes: this.#streamWindow,
        connectionWindowBytes: this.#connectionWindow,
        rttMs: this.#rttMs ?? 0,
      });
    }
  }

  #clearLifecycleTimers(): void {
    const clock = this.#options.clock;
    this.#clearIdle();
    clock.clearTimeout(this.#ageTimer);
    this.#ageTimer = undefined;
    clock.clearTimeout(this.#bdpTimer);
    this.#bdpTimer = undefined;
    this.#bdpProbing = false;
  }

  /** Lifecycle timers plus the keep-alive, which a draining session still needs. */
  #clearAllTimers(): void {
    const clock = this.#options.clock;
    this.#clearLifecycleTimers();
    clock.clearTimeout(this.#keepaliveTimer);
    this.#keepaliveTimer = undefined;
    clock.clearTimeout(this.#pingDeadline);
    this.#pingDeadline = undefined;
    clock.clearTimeout(this.#resetPingDeadline);
    this.#resetPingDeadline = undefined;
  }
}

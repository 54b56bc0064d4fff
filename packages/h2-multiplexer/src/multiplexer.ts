import { AsyncResource } from 'node:async_hooks';
import http2 from 'node:http2';
import type { ClientHttp2Stream, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { Readable, finished, pipeline } from 'node:stream';
import { CLOSE_REASONS, IDEMPOTENT_METHODS, invalidRequestTimeouts, isBerthError } from '@berth/core-types';
import type {
  BerthError,
  CloseOptions,
  CloseReason,
  ComponentIdentity,
  LifecycleState,
  RequestOptions,
  RequestStartMessage,
  ResponseData,
  Transport,
  Urgency,
} from '@berth/core-types';
import {
  AbortedError,
  AcquireTimeoutError,
  ClosedError,
  GoawayError,
  HeadersTimeoutError,
  InvalidRequestError,
  ProtocolError,
  QueueFullError,
  RefusedStreamError,
  RequestTimeoutError,
  UpstreamResetError,
} from './errors.js';
import { DeadlineList } from './deadline-list.js';
import type { DeadlineNode } from './deadline-list.js';
import { createDefaultConnector } from './default-connector.js';
import { channels, eventError } from './events.js';
import { FIELD_OVERHEAD_BYTES, checkTarget, normalizeHeaders, priorityField } from './headers.js';
import { resolveOptions } from './options.js';
import type { H2MultiplexerOptions, ResolvedOptions } from './options.js';
import { PriorityQueue } from './priority-queue.js';
import type { QueueEntry } from './priority-queue.js';
import { H2Response, ResponseBody } from './response.js';
import type { ResponseBodyContext } from './response.js';
import { H2Session } from './session.js';
import type { SessionHooks } from './session.js';
import type { H2MultiplexerStats, RetryReason } from './stats.js';

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_INTERNAL_ERROR, NGHTTP2_PROTOCOL_ERROR, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;
const DEFAULT_URGENCY: Urgency = 3;
/** grpc-js doubles its keep-alive time without bound; an hour is far past any server's patience rule. */
const MAX_PING_INTERVAL_MS = 3_600_000;
/** Backoff of dials ahead of need (targetStreamsPerSession, preconnectUtilization) after a failed one. */
const AHEAD_DIAL_BACKOFF_BASE_MS = 1000;
const AHEAD_DIAL_BACKOFF_MAX_MS = 30_000;

/** Fields of a request without headers; replaced by a fresh object before anything is added. */
const NO_FIELDS: Record<string, string | string[]> = Object.freeze({});

let capturedResolve: unknown;
let capturedReject: unknown;
/** The one Promise executor of `request()`: hands resolve and reject out synchronously. */
function captureSettlers(resolve: unknown, reject: unknown): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

let nextRequestId = 0;
let nextMultiplexerId = 0;

/**
 * Each stream carries its attempt, so its listeners can be static functions rather than
 * closures. The link is cut when the stream closes: node keeps a closed stream's object alive
 * until the next full GC (every scavenge in between copies it), and whatever it points to
 * would be copied and promoted with it. Cutting it is why Berth spends less GC time per
 * request than raw node:http2 in `h2-throughput`.
 */
const kAttempt = Symbol('berth.h2.attempt');
type AttemptStream = ClientHttp2Stream & { [kAttempt]?: Attempt | undefined };

/**
 * The outcome is read from rstCode and the session in 'close'; without a listener an
 * 'error' would crash the process.
 */
function ignoreStreamError(): void {}

/** One attempt (one HTTP/2 stream) of a request. */
interface Attempt {
  readonly mux: H2Multiplexer;
  readonly p: Pending;
  readonly session: H2Session;
  readonly stream: ClientHttp2Stream;
  readonly reused: boolean;
  readonly sentAt: number;
  readonly start: RequestStartMessage | undefined;
  headersTimer: DeadlineNode<Attempt> | undefined;
  /** The response, once its head arrived: told when the stream closes, whatever the request's phase. */
  response: H2Response | undefined;
}

/** Where a request is in its life. */
type Phase =
  | { readonly t: 'new' }
  | { readonly t: 'queued'; readonly entry: QueueEntry<Pending>; readonly since: number; timer: DeadlineNode<Pending> | undefined }
  | { readonly t: 'sending'; readonly attempt: Attempt }
  | { readonly t: 'streaming'; readonly response: H2Response }
  | { readonly t: 'done' };

/** Shared by every request in these phases: they carry no data. */
const DONE: Phase = { t: 'done' };
const NEW: Phase = { t: 'new' };

interface Pending {
  readonly mux: H2Multiplexer;
  readonly options: RequestOptions;
  readonly method: string;
  readonly fields: Readonly<Record<string, string | string[]>>;
  readonly authority: string | undefined;
  readonly urgency: Urgency;
  /** RFC 9113 §6.5.2 size of the header list, pseudo-headers included. */
  readonly headerBytes: number;
  readonly replayable: boolean;
  readonly idempotent: boolean;
  readonly startedAt: number;
  readonly resolve: (response: ResponseData) => void;
  readonly reject: (error: BerthError) => void;
  phase: Phase;
  attempts: number;
  refusedRetries: number;
  queuedMs: number;
  /** Node in the multiplexer's request-deadline list, while the request has a `timeoutMs` running. */
  deadline: DeadlineNode<Pending> | undefined;
  readonly signal: AbortSignal | undefined;
  /** Makes the request its own abort listener (EventListenerObject). */
  readonly handleEvent: (this: Pending) => void;
  /**
   * The caller's async context, captured only when the request has to wait: `#pump` runs in
   * whichever context freed the slot, so without it AsyncLocalStorage (and OpenTelemetry's
   * parent span) would see another request's context at `berth:request:start`.
   */
  scope: AsyncResource | undefined;
}

type MultiplexerState =
  | { readonly t: 'ready' }
  | { readonly t: 'draining'; readonly closed: Promise<void>; readonly finish: () => void }
  | { readonly t: 'closed' };

/**
 * An HTTP/2 {@link Transport} to one origin over one or more `node:http2` sessions.
 *
 * - **Stream gate** (beats nghttp2's hidden queue, grpc-js's single connection): a request
 *   takes a slot on a ready session (packed below `targetStreamsPerSession`, spread above it), never beyond min(`maxConcurrentStreams`,
 *   the peer's SETTINGS); when all are full a new session opens (one dial at a time, up to
 *   `maxSessions`, Go x/net's non-strict pool), else it waits in a bounded RFC 9218 priority
 *   queue with a deadline and an `AbortSignal`.
 * - **Replays** only what is safe: streams above a GOAWAY's last-stream-id (RFC 9113 §6.8),
 *   REFUSED_STREAM once (§8.7), and idempotent requests whose session died before any
 *   response byte (Go's safe resend; `nodejs/node#55888` INTERNAL_ERROR after GOAWAY).
 * - **Windows** grow from PING round trips (hyper's BDP estimator), see `session.ts`.
 */
export class H2Multiplexer implements Transport {
  readonly #o: ResolvedOptions;
  readonly #identity: ComponentIdentity;
  readonly #queue: PriorityQueue<Pending>;
  readonly #sessions = new Set<H2Session>();
  readonly #hooks: SessionHooks;
  readonly #bodyContext: ResponseBodyContext;
  /** Every in-flight attempt's headers deadline, on one timer. */
  readonly #headersDeadlines: DeadlineList<Attempt>;
  /** Every request's overall deadline (`timeoutMs`), on one timer. */
  readonly #requestDeadlines: DeadlineList<Pending>;
  /** Every queued request's `acquireTimeoutMs`, on one timer. */
  readonly #acquireDeadlines: DeadlineList<Pending>;
  readonly #prefix: string;
  /** RFC 9113 §6.5.2 size of `:scheme` and node's default `:authority`, plus the fixed part of `:method` and `:path`. */
  readonly #pseudoBytes: number;
  readonly #defaultAuthorityBytes: number;
  #state: MultiplexerState = { t: 'ready' };
  #dialing: H2Session | undefined;
  /** Dials that failed in a row; an ahead-of-need dial waits `#aheadDialAt` after one fails. */
  #dialFailures = 0;
  /** Monotonic ms before which no session is dialled ahead of need (after a failed dial). */
  #aheadDialAt = 0;
  #nextSessionId = 0;
  #pingIntervalMs: number;
  #pumping = false;
  #pumpAgain = false;
  #requests = 0;
  #inFlight = 0;
  #errors = 0;
  #rejected = 0;
  #sessionsCreated = 0;
  #connectErrors = 0;
  #goaways = 0;
  readonly #retries: Record<RetryReason, number> = { goaway: 0, 'refused-stream': 0, 'ping-timeout': 0, 'session-error': 0 };
  readonly #closedByReason = Object.fromEntries(CLOSE_REASONS.map((r) => [r, 0])) as Record<CloseReason, number>;

  constructor(origin: string, options: H2MultiplexerOptions = {}) {
    const resolved = resolveOptions(origin, options);
    // Built here, not in resolveOptions(), so validating a configuration creates no SecureContext.
    this.#o =
      resolved.secure && resolved.tls === undefined
        ? { ...resolved, tls: createDefaultConnector(resolved.connectTimeoutMs) }
        : resolved;
    const o = this.#o;
    this.#identity = { kind: 'h2-multiplexer', name: o.name, origin: o.origin, ...(o.region === undefined ? {} : { region: o.region }) };
    this.#pingIntervalMs = o.pingIntervalMs;
    nextMultiplexerId += 1;
    this.#prefix = `h2-${o.host}:${o.port}-${nextMultiplexerId}`;
    this.#defaultAuthorityBytes = `${o.host}:${o.port}`.length;
    this.#pseudoBytes =
      ':scheme'.length + (o.secure ? 5 : 4) + ':authority'.length + ':method'.length + ':path'.length + 4 * FIELD_OVERHEAD_BYTES;
    this.#queue = new PriorityQueue<Pending>(o.agingMs);
    this.#hooks = {
      ready: (session) => this.#onSessionReady(session),
      connectFailed: (session, error) => this.#onConnectFailed(session, error),
      // A freed slot matters only to waiting requests, pre-connect, or a streams subscriber; the
      // common case (nothing waits) skips the pump, once per closed stream.
      capacity: () => {
        if (this.#queue.size > 0 || this.#o.preconnectUtilization > 0 || channels.streams.hasSubscribers) this.#pump();
      },
      retire: (session) => this.#onRetire(session),
      goaway: (_session, errorCode) => this.#onGoaway(errorCode),
      closed: (session, reason) => this.#onSessionClosed(session, reason),
    };
    this.#headersDeadlines = new DeadlineList<Attempt>(o.clock, (attempt) => {
      attempt.headersTimer = undefined;
      const p = attempt.p;
      const headersTimeoutMs = p.options.headersTimeoutMs ?? o.headersTimeoutMs;
      this.#fail(p, new HeadersTimeoutError(`no response head from ${o.origin}${p.options.path} within ${headersTimeoutMs} ms`, { origin: o.origin, headersTimeoutMs }));
    });
    this.#requestDeadlines = new DeadlineList<Pending>(o.clock, (p) => {
      p.deadline = undefined;
      const timeoutMs = p.options.timeoutMs ?? o.requestTimeoutMs;
      this.#fail(p, new RequestTimeoutError(`request to ${o.origin}${p.options.path} timed out after ${timeoutMs} ms`, { origin: o.origin, timeoutMs }));
    });
    this.#acquireDeadlines = new DeadlineList<Pending>(o.clock, (p) => {
      if (p.phase.t === 'queued') p.phase.timer = undefined;
      const ms = o.acquireTimeoutMs;
      this.#fail(
        p,
        new AcquireTimeoutError(`no HTTP/2 stream to ${o.origin} became free within ${ms} ms (${this.#describeSlots()})`, {
          origin: o.origin,
          acquireTimeoutMs: ms,
        }),
      );
    });
    this.#bodyContext = {
      origin: o.origin,
      clock: o.clock,
      bodyDeadlines: ResponseBody.deadlines(o.clock),
      earlyDeadlines: H2Response.deadlines(o.clock),
      settled: (token, error) => {
        const attempt = token as Attempt;
        const p = attempt.p;
        this.#inFlight -= 1;
        p.phase = DONE;
        if (p.signal !== undefined) p.signal.removeEventListener('abort', p);
        if (error !== undefined) {
          this.#errors += 1;
          attempt.session.countError();
        }
      },
    };
  }

  /** The origin served, e.g. `https://api.example.com`. */
  get origin(): string {
    return this.#o.origin;
  }

  /** Lifecycle state of the multiplexer. */
  state(): LifecycleState {
    return this.#state.t;
  }

  /**
   * Sends one request on a stream slot; resolves when the response head arrives. Rejects
   * only with `BerthError`s (see the README's error table).
   */
  request(options: RequestOptions): Promise<ResponseData> {
    const o = this.#o;
    if (this.#state.t !== 'ready') {
      return Promise.reject(new ClosedError(`h2 multiplexer for ${o.origin} is closed`, { origin: o.origin }));
    }
    const method = options.method === undefined ? 'GET' : options.method.toUpperCase();
    let fields: Record<string, string | string[]> = NO_FIELDS;
    let authority: string | undefined;
    let fieldBytes = 0;
    try {
      checkTarget(method, options.path);
      const badTimeouts = invalidRequestTimeouts(options);
      if (badTimeouts.length > 0) {
        throw new InvalidRequestError(`invalid ${badTimeouts.join(', ')}: expected milliseconds in (0, 2147483647]`, { fields: badTimeouts });
      }
      if (options.headers !== undefined) {
        const normalized = normalizeHeaders(options.headers);
        fields = normalized.fields;
        authority = normalized.authority;
        fieldBytes = normalized.bytes;
      }
      checkUrgency(options.priority);
    } catch (error) {
      this.#errors += 1;
      return Promise.reject(error instanceof Error ? error : new InvalidRequestError(String(error)));
    }
    const signal = options.signal;
    if (signal?.aborted === true) {
      this.#errors += 1;
      return Promise.reject(new AbortedError(`request to ${o.origin}${options.path} aborted before it was sent`, { cause: signal.reason }));
    }
    const urgency = options.priority ?? DEFAULT_URGENCY;
    let headerBytes =
      fieldBytes + this.#pseudoBytes + method.length + options.path.length + (authority === undefined ? this.#defaultAuthorityBytes : authority.length);
    if (options.priority !== undefined || options.incremental !== undefined) {
      const value = priorityField(urgency, options.incremental ?? false);
      if (fields === NO_FIELDS) fields = {};
      fields['priority'] = value;
      headerBytes += 'priority'.length + value.length + FIELD_OVERHEAD_BYTES;
    }
    if (headerBytes > o.maxHeaderListBytes) {
      this.#errors += 1;
      return Promise.reject(this.#headersTooLarge(method, options.path, headerBytes, o.maxHeaderListBytes, 'maxHeaderListBytes'));
    }
    const body = options.body;
    // A shared executor instead of a closure per request: it only hands out resolve and reject.
    const promise = new Promise<ResponseData>(captureSettlers);
    const p: Pending = {
      mux: this,
      options,
      method,
      fields,
      authority,
      urgency,
      headerBytes,
      replayable: body === undefined || typeof body === 'string' || body instanceof Uint8Array,
      idempotent: options.idempotent ?? IDEMPOTENT_METHODS.has(method),
      startedAt: o.clock.now(),
      resolve: capturedResolve as (response: ResponseData) => void,
      reject: capturedReject as (error: BerthError) => void,
      phase: NEW,
      attempts: 0,
      refusedRetries: 0,
      queuedMs: 0,
      deadline: undefined,
      signal,
      handleEvent: H2Multiplexer.#onAbort,
      scope: undefined,
    };
    this.#requests += 1;
    const timeoutMs = options.timeoutMs ?? o.requestTimeoutMs;
    // One shared timer for every request deadline instead of a Timeout and a closure each.
    if (timeoutMs !== undefined) p.deadline = this.#requestDeadlines.add(p, p.startedAt + timeoutMs);
    // `p` is the listener (an EventListenerObject): no closure to add, none to keep for removal.
    if (signal !== undefined) signal.addEventListener('abort', p, { once: true });
    // A caller's stream that fails while the request still waits for a slot must fail the
    // request, not crash the process with an unlistened 'error'.
    if (body instanceof Readable) {
      finished(body, (error) => {
        if (error !== undefined && error !== null) this.#bodyFailed(p, undefined, error);
      });
    }
    this.#enqueue(p, false);
    return promise;
  }

  /** `handleEvent` of every {@link Pending}: the caller's signal fired. */
  static #onAbort(this: Pending): void {
    const { mux, options, signal } = this;
    mux.#fail(this, new AbortedError(`request to ${mux.#o.origin}${options.path} aborted`, { cause: signal?.reason }));
  }

  /** A synchronous snapshot: sessions with their streams, windows and RTT, the queue, counters. */
  stats(): H2MultiplexerStats {
    let activeStreams = 0;
    let capacity = 0;
    const sessions = [...this.#sessions].map((s) => {
      activeStreams += s.active;
      if (s.accepting) capacity += s.capacity;
      return s.stats();
    });
    return {
      kind: 'h2-multiplexer',
      name: this.#o.name,
      origin: this.#o.origin,
      state: this.#state.t,
      requests: this.#requests,
      inFlight: this.#inFlight,
      queued: this.#queue.size,
      errors: this.#errors,
      sessions,
      activeStreams,
      capacity,
      queuedByUrgency: this.#queue.sizes(),
      sessionsCreated: this.#sessionsCreated,
      connectErrors: this.#connectErrors,
      sessionsClosed: { ...this.#closedByReason },
      goaways: this.#goaways,
      retries: { ...this.#retries },
      rejected: this.#rejected,
      pingIntervalMs: this.#pingIntervalMs,
    };
  }

  /**
   * Graceful close: queued requests fail with `ERR_BERTH_CLOSED`, every session sends GOAWAY
   * and finishes its streams; after `deadlineMs` whatever is left is destroyed. Idempotent.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#state.t === 'draining') return this.#state.closed;
    if (this.#state.t === 'closed') return Promise.resolve();
    const o = this.#o;
    const error = new ClosedError(`h2 multiplexer for ${o.origin} closed`, { origin: o.origin });
    let finish: () => void = () => {};
    const deadline = o.clock.setTimeout(() => {
      for (const session of this.#sessions) session.destroy(error, 'closed');
    }, options.deadlineMs ?? o.closeDeadlineMs);
    const closed = new Promise<void>((resolve) => (finish = resolve)).then(() => o.clock.clearTimeout(deadline));
    this.#state = { t: 'draining', closed, finish };
    for (const p of this.#queue.drain()) this.#fail(p, error);
    for (const session of [...this.#sessions]) {
      if (session.state.t === 'connecting') session.destroy(error, 'closed');
      else session.drain('closed');
    }
    this.#maybeClosed();
    return closed;
  }

  #enqueue(p: Pending, front: boolean): void {
    if (!front && this.#queue.size >= this.#o.maxQueued && this.#pick() === undefined) {
      this.#rejected += 1;
      this.#fail(
        p,
        new QueueFullError(`${this.#queue.size} requests already wait for an HTTP/2 stream to ${this.#o.origin} (maxQueued ${this.#o.maxQueued})`, {
          origin: this.#o.origin,
          queued: this.#queue.size,
          maxQueued: this.#o.maxQueued,
        }),
      );
      return;
    }
    if (!front && this.#queue.size === 0 && !this.#pumping) {
      // Fast path: nothing waits and a slot is free, so no queue entry, phase or timer is needed.
      const session = this.#pick();
      if (session !== undefined) {
        this.#pumping = true;
        try {
          // Same tick as request(): its clock reading is still now.
          this.#start(p, session, p.startedAt);
        } finally {
          this.#pumping = false;
        }
        if (this.#pumpAgain || this.#queue.size > 0) this.#pump();
        else this.#afterPump();
        return;
      }
    }
    // One resource per waiting request (kept across its retries); the fast path above needs none.
    p.scope ??= new AsyncResource('berth:h2-request');
    const now = this.#o.clock.now();
    // Aging counts from request(): a replay keeps the age it had.
    const entry = front ? this.#queue.unshift(p, p.urgency, p.startedAt) : this.#queue.push(p, p.urgency, p.startedAt);
    const phase: Phase = { t: 'queued', entry, since: now, timer: undefined };
    p.phase = phase;
    this.#pump();
    if (p.phase === phase) phase.timer = this.#acquireDeadlines.add(p, now + this.#o.acquireTimeoutMs);
  }

  /** Moves queued requests onto free slots, most urgent first; dials when all slots are taken. */
  #pump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        const now = this.#queue.size > 0 ? this.#o.clock.now() : 0;
        while (this.#queue.size > 0) {
          const session = this.#pick();
          if (session === undefined) break;
          const p = this.#queue.shift(now);
          if (p === undefined) break;
          // Publishing berth:request:start and opening the stream (whose events then settle the
          // caller) happen in the caller's context, not the one that triggered this pump.
          if (p.scope === undefined) this.#start(p, session, now);
          else p.scope.runInAsyncScope(this.#start, this, p, session, now);
        }
      } while (this.#pumpAgain);
    } finally {
      this.#pumping = false;
    }
    this.#afterPump();
  }

  /** Dials when requests wait or pre-connect asks for it, and reports the stream counts. */
  #afterPump(): void {
    if (this.#queue.size > 0 || this.#nearlyFull()) this.#ensureDial();
    if (channels.streams.hasSubscribers) {
      let active = 0;
      let capacity = 0;
      for (const s of this.#sessions) {
        active += s.active;
        if (s.accepting) capacity += s.capacity;
      }
      channels.streams.publish({ component: this.#identity, active, capacity, queuedByUrgency: this.#queue.sizes() });
    }
  }

  /**
   * The session for the next stream: the busiest ready one below `targetStreamsPerSession`,
   * else the one with the most free slots, preferring sessions not past their maximum age.
   */
  #pick(): H2Session | undefined {
    const target = this.#o.targetStreamsPerSession;
    let best: H2Session | undefined;
    // Pack below the target, spread above it: the busiest session still under
    // targetStreamsPerSession takes the request, so a session opened for a burst drains and
    // closes after idleTimeoutMs once the load falls back (a least-loaded pick would keep
    // every session warm forever with a trickle each).
    let packed: H2Session | undefined;
    for (const s of this.#sessions) {
      const free = s.available;
      if (free === 0) continue;
      if (best === undefined || (best.retiring && !s.retiring) || (best.retiring === s.retiring && free > best.available)) best = s;
      if (target > 0 && !s.retiring && s.inUse < target && (packed === undefined || s.inUse > packed.inUse)) packed = s;
    }
    return packed ?? best;
  }

  /**
   * True when the next session should open before every slot is taken: `preconnectUtilization`
   * of the slots are in use, or every session carries `targetStreamsPerSession` streams.
   */
  #nearlyFull(): boolean {
    const { preconnectUtilization: threshold, targetStreamsPerSession: target } = this.#o;
    if ((threshold === 0 && target === 0) || this.#dialing !== undefined) return false;
    let inUse = 0;
    let capacity = 0;
    let leastInUse = Infinity;
    for (const s of this.#sessions) {
      if (!s.accepting || s.retiring) continue;
      const used = s.inUse;
      inUse += used;
      capacity += s.capacity;
      if (used < leastInUse) leastInUse = used;
    }
    if (capacity === 0) return false;
    const wanted = (target > 0 && leastInUse >= target) || (threshold > 0 && inUse >= threshold * capacity);
    // After a failed dial, working sessions carry the load: no redial per request while it fails.
    return wanted && (this.#dialFailures === 0 || this.#o.clock.now() >= this.#aheadDialAt);
  }

  #ensureDial(): void {
    if (this.#state.t !== 'ready' || this.#dialing !== undefined) return;
    let open = 0;
    for (const s of this.#sessions) if (s.state.t === 'connecting' || (s.accepting && !s.retiring)) open += 1;
    if (open >= this.#o.maxSessions) return;
    this.#nextSessionId += 1;
    try {
      const session = new H2Session(`${this.#prefix}-${this.#nextSessionId}`, { options: this.#o, identity: this.#identity, pingIntervalMs: () => this.#pingIntervalMs }, this.#hooks);
      this.#sessions.add(session);
      this.#dialing = session;
    } catch (error) {
      this.#onConnectFailed(undefined, isBerthError(error) ? error : new ProtocolError(`could not start an HTTP/2 session to ${this.#o.origin}`, { cause: error }));
    }
  }

  #onSessionReady(session: H2Session): void {
    if (this.#dialing === session) this.#dialing = undefined;
    this.#sessionsCreated += 1;
    this.#dialFailures = 0;
    if (this.#state.t !== 'ready') {
      session.drain('closed');
      return;
    }
    // Make-before-break: sessions past their age stop taking streams only once this one is up.
    for (const s of this.#sessions) if (s !== session && s.retiring) s.drain('lifetime');
    this.#pump();
  }

  #onConnectFailed(session: H2Session | undefined, error: BerthError): void {
    if (session !== undefined && this.#dialing === session) this.#dialing = undefined;
    if (this.#state.t !== 'ready') return;
    this.#connectErrors += 1;
    this.#dialFailures += 1;
    // Full jitter over 1 s, 2 s, 4 s … capped at 30 s (cap before jitter), for dials ahead of need only.
    const ceiling = Math.min(AHEAD_DIAL_BACKOFF_MAX_MS, AHEAD_DIAL_BACKOFF_BASE_MS * 2 ** Math.min(this.#dialFailures - 1, 16));
    this.#aheadDialAt = this.#o.clock.now() + ceiling * this.#o.random.next();
    this.#o.logger.warn('h2 session dial failed', { origin: this.#o.origin, code: error.code, message: error.message });
    let usable = false;
    for (const s of this.#sessions) if (s !== session && (s.accepting || s.state.t === 'connecting')) usable = true;
    // With no session left to wait for, queued requests would only time out; fail them now.
    if (!usable) for (const p of this.#queue.drain()) this.#fail(p, error);
  }

  #onRetire(session: H2Session): void {
    let other = false;
    for (const s of this.#sessions) if (s !== session && s.accepting && !s.retiring) other = true;
    if (other || this.#state.t !== 'ready') {
      session.drain('lifetime');
      return;
    }
    this.#ensureDial();
  }

  #onGoaway(errorCode: number): void {
    this.#goaways += 1;
    // grpc-js doubles its keep-alive time on GOAWAY ENHANCE_YOUR_CALM ("too_many_pings").
    if (errorCode === NGHTTP2_ENHANCE_YOUR_CALM && this.#pingIntervalMs > 0) {
      this.#pingIntervalMs = Math.min(this.#pingIntervalMs * 2, MAX_PING_INTERVAL_MS);
      this.#o.logger.warn('h2 server sent ENHANCE_YOUR_CALM; keep-alive interval doubled', { origin: this.#o.origin, pingIntervalMs: this.#pingIntervalMs });
    }
    this.#pump();
  }

  #onSessionClosed(session: H2Session, reason: CloseReason): void {
    this.#sessions.delete(session);
    if (this.#dialing === session) this.#dialing = undefined;
    this.#closedByReason[reason] += 1;
    this.#pump();
    this.#maybeClosed();
  }

  #maybeClosed(): void {
    if (this.#state.t !== 'draining' || this.#sessions.size > 0) return;
    const finish = this.#state.finish;
    this.#state = { t: 'closed' };
    finish();
  }

  /** Opens a stream for `p` on `session` and wires its outcome. */
  #start(p: Pending, session: H2Session, now: number): void {
    const o = this.#o;
    if (p.phase.t === 'queued') {
      this.#acquireDeadlines.remove(p.phase.timer);
      p.queuedMs += now - p.phase.since;
    }
    if (p.headerBytes > session.peerMaxHeaderListBytes) {
      // The server announced a smaller SETTINGS_MAX_HEADER_LIST_SIZE than maxHeaderListBytes: it would reset the stream.
      p.phase = NEW;
      this.#fail(p, this.#headersTooLarge(p.method, p.options.path, p.headerBytes, session.peerMaxHeaderListBytes, "the server's SETTINGS_MAX_HEADER_LIST_SIZE"));
      return;
    }
    p.attempts += 1;
    let start: RequestStartMessage | undefined;
    // One header object per attempt; a second, live copy of the fields only for a tracer.
    const headers: OutgoingHttpHeaders = { ':method': p.method, ':path': p.options.path };
    if (p.authority !== undefined) headers[':authority'] = p.authority;
    if (channels.requestStart.hasSubscribers) {
      const fields: Record<string, string | string[]> = { ...p.fields };
      nextRequestId += 1;
      start = {
        component: this.#identity,
        requestId: nextRequestId,
        method: p.method,
        origin: o.origin,
        path: p.options.path,
        headers: fields,
        attempt: p.attempts,
        startedAt: now,
      };
      channels.requestStart.publish(start);
      for (const name in fields) headers[name] = fields[name];
    } else {
      const fields = p.fields;
      for (const name in fields) headers[name] = fields[name];
    }
    const body = p.options.body;
    const reused = session.used;
    let stream: ClientHttp2Stream;
    try {
      stream = session.open(headers, p.method, body === undefined, now);
    } catch (error) {
      // A stream that was never created is safe to replay; anything else is a header a
      // subscriber of berth:request:start added that Node refused.
      const code = (error as { code?: unknown }).code;
      if (code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_INVALID_SESSION' || code === 'ERR_HTTP2_OUT_OF_STREAMS') {
        p.phase = NEW;
        // Nothing was sent, so this does not use up a replay; the session must not be picked again.
        p.attempts -= 1;
        session.drain('broken');
        this.#publishEnd(start, undefined, false, session.id, now, undefined);
        this.#retryOrFail(p, 'goaway', new GoawayError(`HTTP/2 session to ${o.origin} stopped taking streams`, { cause: error }), true);
        return;
      }
      p.phase = NEW;
      this.#fail(p, new InvalidRequestError(`HTTP/2 request to ${o.origin}${p.options.path} refused by node:http2: ${(error as Error).message}`, { cause: error }));
      return;
    }
    this.#inFlight += 1;
    const attempt: Attempt = { mux: this, p, session, stream, reused, sentAt: now, start, headersTimer: undefined, response: undefined };
    p.phase = { t: 'sending', attempt };
    // Static listeners that find the attempt on the stream: no closures per request.
    (stream as AttemptStream)[kAttempt] = attempt;
    stream.on('error', ignoreStreamError);
    // `on`, not `once`: both fire once per stream, and `once` wraps each listener in a closure.
    stream.on('response', H2Multiplexer.#onStreamResponse);
    stream.on('close', H2Multiplexer.#onStreamClose);
    attempt.headersTimer = this.#headersDeadlines.add(attempt, now + (p.options.headersTimeoutMs ?? o.headersTimeoutMs));
    if (body !== undefined) this.#writeBody(p, attempt, body);
  }

  static #onStreamResponse(this: ClientHttp2Stream, headers: IncomingHttpHeaders): void {
    const attempt = (this as AttemptStream)[kAttempt];
    if (attempt !== undefined) attempt.mux.#onResponse(attempt.p, attempt, headers);
  }

  static #onStreamClose(this: ClientHttp2Stream): void {
    const attempt = (this as AttemptStream)[kAttempt];
    if (attempt === undefined) return;
    // 'close' is a stream's last event; see kAttempt for why the link goes.
    (this as AttemptStream)[kAttempt] = undefined;
    attempt.session.streamClosed(this);
    // A response learns of the close here (one listener per stream, not one more per dump()).
    const response = attempt.response;
    if (response !== undefined) response.sourceClosed();
    else attempt.mux.#onStreamClosed(attempt.p, attempt);
  }

  #writeBody(p: Pending, attempt: Attempt, body: NonNullable<RequestOptions['body']>): void {
    if (typeof body === 'string' || body instanceof Uint8Array) {
      attempt.stream.end(body);
      return;
    }
    // pipeline() keeps the body's backpressure: it reads only as fast as the stream's flow-control window drains.
    const source = body instanceof Readable ? body : Readable.from(body);
    // Our own reason is recorded, and the request failed, the moment the source fails:
    // finished() is attached before pipeline() so its listener runs first, before pipeline
    // destroys the HTTP/2 stream. Node emits the stream's 'close' (with a non-zero rstCode)
    // before pipeline's callback, which would otherwise read as a peer reset. A caller's
    // Readable got its finished() in request() already.
    if (source !== body) {
      finished(source, (error) => {
        if (error !== undefined && error !== null) this.#bodyFailed(p, attempt, error);
      });
    }
    pipeline(source, attempt.stream, (error) => {
      if (error !== undefined && error !== null) this.#bodyFailed(p, attempt, error);
    });
  }

  /**
   * The request body failed while the request waited or `attempt` (any, when undefined) was
   * sending: ERR_BERTH_ABORTED, whatever the stream reports after.
   */
  #bodyFailed(p: Pending, attempt: Attempt | undefined, error: Error): void {
    const phase = p.phase;
    // #fail() marks the request done before it cancels the stream, so the 'close' that follows is ignored.
    if (phase.t === 'done' || phase.t === 'streaming' || (phase.t === 'sending' && attempt !== undefined && phase.attempt !== attempt)) return;
    this.#fail(p, new AbortedError(`request body stream to ${this.#o.origin}${p.options.path} failed: ${error.message}`, { cause: error }));
  }

  #onResponse(p: Pending, attempt: Attempt, headers: IncomingHttpHeaders): void {
    if (p.phase.t !== 'sending' || p.phase.attempt !== attempt) return;
    const o = this.#o;
    this.#headersDeadlines.remove(attempt.headersTimer);
    attempt.headersTimer = undefined;
    this.#requestDeadlines.remove(p.deadline);
    p.deadline = undefined;
    const now = o.clock.now();
    const status = Number(headers[':status'] ?? 0);
    const session = attempt.session;
    session.responseStarted();
    const connectMs = attempt.reused ? undefined : session.connectMs;
    // Built without spreads: this runs once per response.
    const ttfbMs = now - attempt.sentAt;
    const totalMs = now - p.startedAt;
    const timings = connectMs === undefined ? { queuedMs: p.queuedMs, ttfbMs, totalMs } : { queuedMs: p.queuedMs, connectMs, ttfbMs, totalMs };
    const response = new H2Response(
      status,
      headers,
      now,
      {
        source: attempt.stream,
        session,
        context: this.#bodyContext,
        maxBytes: p.options.maxResponseBytes,
        bodyTimeoutMs: p.options.bodyTimeoutMs ?? o.bodyTimeoutMs,
        token: attempt,
      },
      { protocol: 'h2', reused: attempt.reused, connectionId: session.id, attempts: p.attempts, timings },
    );
    p.phase = { t: 'streaming', response };
    attempt.response = response;
    this.#publishEnd(attempt.start, status, attempt.reused, session.id, attempt.sentAt, undefined);
    p.resolve(response);
  }

  /** The stream closed before its response head: replay it if that is safe, else fail. */
  #onStreamClosed(p: Pending, attempt: Attempt): void {
    if (p.phase.t !== 'sending' || p.phase.attempt !== attempt) return;
    const o = this.#o;
    this.#headersDeadlines.remove(attempt.headersTimer);
    attempt.headersTimer = undefined;
    this.#inFlight -= 1;
    const { session, stream } = attempt;
    p.phase = NEW;
    const rstCode = stream.rstCode;
    const where = `${o.origin}${p.options.path}`;
    if (session.unprocessed(stream)) {
      this.#retryOrFail(p, 'goaway', new GoawayError(`${o.origin} sent GOAWAY before processing ${p.method} ${p.options.path}`, { origin: o.origin }), p.replayable, attempt);
      return;
    }
    if (rstCode === NGHTTP2_REFUSED_STREAM) {
      const canRetry = p.replayable && p.refusedRetries === 0;
      if (canRetry) p.refusedRetries += 1;
      this.#retryOrFail(
        p,
        'refused-stream',
        new RefusedStreamError(`${o.origin} refused the stream for ${p.method} ${p.options.path}${p.refusedRetries > 0 ? ' twice' : ''}`, { origin: o.origin }),
        canRetry,
        attempt,
        true,
      );
      return;
    }
    const failure = session.failure;
    const safeResend = p.replayable && p.idempotent;
    if (failure !== undefined) {
      const reason: RetryReason = failure.code === 'ERR_BERTH_PING_TIMEOUT' ? 'ping-timeout' : 'session-error';
      this.#retryOrFail(p, reason, failure, safeResend && failure.code !== 'ERR_BERTH_CLOSED', attempt);
      return;
    }
    if (rstCode === NGHTTP2_INTERNAL_ERROR && session.goawayReceived) {
      // nodejs/node#55888: streams are sometimes reset with INTERNAL_ERROR right after a graceful GOAWAY.
      this.#retryOrFail(p, 'session-error', new GoawayError(`${where} was reset with INTERNAL_ERROR after GOAWAY`, { origin: o.origin, rstCode }), safeResend, attempt);
      return;
    }
    const error =
      rstCode === NGHTTP2_PROTOCOL_ERROR
        ? new ProtocolError(`${o.origin} broke HTTP/2 on ${p.method} ${p.options.path} (PROTOCOL_ERROR)`, { origin: o.origin, rstCode })
        : new UpstreamResetError(`${where} was reset before the response head (HTTP/2 error code ${rstCode ?? 'none'})`, { origin: o.origin, rstCode });
    this.#fail(p, error, attempt);
  }

  #retryOrFail(p: Pending, reason: RetryReason, error: BerthError, allowed: boolean, attempt?: Attempt, ignoreBudget = false): void {
    if (attempt !== undefined) {
      attempt.session.countError();
      this.#publishEnd(attempt.start, undefined, attempt.reused, attempt.session.id, attempt.sentAt, error);
    }
    const withinBudget = ignoreBudget || p.attempts <= this.#o.maxRetries;
    if (!allowed || !withinBudget || this.#state.t !== 'ready') {
      this.#fail(p, error);
      return;
    }
    this.#retries[reason] += 1;
    if (channels.retry.hasSubscribers) channels.retry.publish({ component: this.#identity, reason, urgency: p.urgency });
    this.#enqueue(p, true);
  }

  /** Ends `p` with `error` wherever it is: queued, sending, or streaming its body. */
  #fail(p: Pending, error: BerthError, endedAttempt?: Attempt): void {
    const phase = p.phase;
    if (phase.t === 'done') return;
    p.phase = DONE;
    if (phase.t === 'queued') {
      this.#queue.remove(phase.entry);
      this.#acquireDeadlines.remove(phase.timer);
    } else if (phase.t === 'sending') {
      const attempt = phase.attempt;
      this.#headersDeadlines.remove(attempt.headersTimer);
      this.#inFlight -= 1;
      attempt.session.countError();
      attempt.session.cancel(attempt.stream);
      this.#publishEnd(attempt.start, undefined, attempt.reused, attempt.session.id, attempt.sentAt, error);
    } else if (phase.t === 'streaming') {
      // Only an abort reaches a body; the deadline ended with the response head.
      phase.response.destroy(error);
      return;
    } else if (endedAttempt !== undefined) {
      endedAttempt.session.countError();
      this.#publishEnd(endedAttempt.start, undefined, endedAttempt.reused, endedAttempt.session.id, endedAttempt.sentAt, error);
    }
    this.#requestDeadlines.remove(p.deadline);
    p.deadline = undefined;
    if (p.signal !== undefined) p.signal.removeEventListener('abort', p);
    this.#errors += 1;
    p.reject(error);
  }

  #publishEnd(
    start: RequestStartMessage | undefined,
    status: number | undefined,
    reused: boolean,
    connectionId: string,
    sentAt: number,
    error: BerthError | undefined,
  ): void {
    if (start === undefined || !channels.requestEnd.hasSubscribers) return;
    const now = this.#o.clock.now();
    channels.requestEnd.publish({
      component: this.#identity,
      requestId: start.requestId,
      start,
      ...(status === undefined ? {} : { status }),
      protocol: 'h2',
      reused,
      connectionId,
      timings: { queuedMs: sentAt - start.startedAt, ttfbMs: now - sentAt, totalMs: now - start.startedAt },
      ...(error === undefined ? {} : { error: eventError(error) }),
    });
  }

  #headersTooLarge(method: string, path: string, bytes: number, limit: number, source: string): InvalidRequestError {
    return new InvalidRequestError(
      `${method} ${this.#o.origin}${path} has a ${bytes}-byte header list (RFC 9113 §6.5.2: name + value + 32 per field), over the ${limit}-byte limit (${source}); nothing was sent`,
      { origin: this.#o.origin, headerListBytes: bytes, maxHeaderListBytes: limit },
    );
  }

  #describeSlots(): string {
    const s = this.stats();
    return `${s.sessions.length} session(s), ${s.activeStreams}/${s.capacity} streams, ${s.queued} queued`;
  }
}

function checkUrgency(priority: unknown): void {
  if (priority === undefined) return;
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0 || priority > 7) {
    throw new InvalidRequestError(`invalid priority ${JSON.stringify(priority)}: expected an RFC 9218 urgency 0–7`, { priority });
  }
}

/**
 * Creates an HTTP/2 {@link Transport} to `origin` (`https://…` with a `tls` connector, or
 * `http://…` with `allowCleartext: true` for h2c). Validates every option at once.
 *
 * @example
 * const h2 = createH2Multiplexer('https://api.example.com', { tls: connector });
 * const res = await h2.request({ path: '/v1/models', priority: 1 });
 * console.log(res.status, await res.json());
 * await h2.close();
 */
export function createH2Multiplexer(origin: string, options: H2MultiplexerOptions = {}): H2Multiplexer {
  return new H2Multiplexer(origin, options);
}

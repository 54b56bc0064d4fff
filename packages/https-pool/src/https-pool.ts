import genericPool from 'generic-pool';
import type { Factory, Options as GenericPoolOptions, Pool as GenericPool } from 'generic-pool';
import type { Dispatcher } from 'undici';
import { CLOSE_REASONS, ConfigError, IDEMPOTENT_METHODS, describeValue, isBerthError } from '@berth/core-types';
import type {
  AcquireMessage,
  BerthError,
  CloseOptions,
  CloseReason,
  ComponentIdentity,
  ConnectErrorMessage,
  ConnectionClosedMessage,
  ConnectionCreatedMessage,
  ConnectionInfo,
  LifecycleState,
  PoolBounds,
  PoolGaugesMessage,
  PoolResizeMessage,
  PoolStats,
  RequestBody,
  RequestEndMessage,
  RequestOptions,
  RequestStartMessage,
  RequestTimings,
  ResizablePool,
  ResponseData,
  ResponseHeaders,
  TimerHandle,
  Transport,
  Urgency,
  ValidationMessage,
} from '@berth/core-types';
import { AdmissionGate } from './admission-gate.js';
import type { GateFailures } from './admission-gate.js';
import { connectBackoffMs } from './backoff.js';
import { channels } from './channels.js';
import { Connection, StaleConnectionError } from './connection.js';
import type { ConnectionHooks } from './connection.js';
import { Dialer } from './dialer.js';
import { toBerthError } from './error-mapping.js';
import { AbortedError, AcquireTimeoutError, HttpsPoolError, PoolClosedError, QueueFullError } from './errors.js';
import { Exchange } from './exchange.js';
import type { BodyHandle, ExchangeListener } from './exchange.js';
import { LatencyWindow } from './latency-window.js';
import { LifetimeSchedule } from './lifetime-schedule.js';
import { resolveOptions } from './options.js';
import { PoolResponse } from './pool-response.js';
import type { HttpsPoolOptions, ResolvedOptions } from './options.js';
import { validateRequest } from './request-validation.js';
import { evictorFor } from './slot-evictor.js';
import { Tombstone } from './tombstone.js';

type Slot = Connection | Tombstone;

/** Lifecycle of the pool. */
type PoolPhase =
  | { readonly t: 'ready' }
  | { readonly t: 'draining'; readonly done: Promise<void> }
  | { readonly t: 'closed'; readonly done: Promise<void> };

/** Options of {@link HttpsPool.acquire}. */
export interface AcquireOptions {
  /** Gives up waiting: `ERR_BERTH_ABORTED`. */
  readonly signal?: AbortSignal;
  /** RFC 9218 urgency 0–7 of the wait (default 3). */
  readonly priority?: Urgency;
}

/** A connection borrowed with {@link HttpsPool.acquire}. */
export interface ConnectionLease {
  /** The connection's id. */
  readonly id: string;
  /** A snapshot of the connection. */
  info(): ConnectionInfo;
  /** Gives the connection back to the pool. Idempotent. */
  release(): void;
}

/** What a caller's signal or deadline aborts: the slot wait, then the exchange. */
interface Aborter {
  abort(reason: BerthError): void;
}

/** Where the slot wait, then the exchange, hangs itself to be aborted (no closure per request). */
interface AbortHook {
  aborter: Aborter | undefined;
}

/** The pool's side of {@link SlotWait}, bound once per pool. */
interface SlotWaitHost {
  abortWait(wait: SlotWait, reason: BerthError): void;
  timeoutWait(wait: SlotWait): void;
}

/** Who gets the outcome of a slot wait: a request (which starts its attempt at once) or a lease. */
interface SlotSink extends AbortHook {
  /** `now`: the clock reading taken when the slot was found (read once per borrow). */
  slotReady(connection: Connection, now: number): void;
  slotFailed(error: Error): void;
}

/** One caller waiting for generic-pool to lend a slot. */
class SlotWait implements Aborter {
  settled = false;
  /** Armed only when generic-pool queued the caller: an idle slot is lent without a timer. */
  timer: TimerHandle | undefined = undefined;
  readonly #host: SlotWaitHost;
  readonly sink: SlotSink;

  constructor(host: SlotWaitHost, sink: SlotSink) {
    this.#host = host;
    this.sink = sink;
  }

  abort(reason: BerthError): void {
    this.#host.abortWait(this, reason);
  }

  /** The slot-wait deadline passed. */
  expire(): void {
    this.#host.timeoutWait(this);
  }
}

/** The pool's side of {@link RequestContext}, bound once per pool. */
interface RequestHost {
  slotReady(ctx: RequestContext, connection: Connection, now: number): void;
  slotFailed(ctx: RequestContext, error: Error): void;
}

/**
 * One request, from the call to its response head: the facts its attempts share, and the
 * one promise the caller awaits. The request moves on by callbacks (gate → slot → attempt),
 * not by a chain of awaited promises, so it costs one promise however many steps it takes.
 */
class RequestContext implements SlotSink {
  readonly #host: RequestHost;
  readonly options: RequestOptions;
  readonly method: string;
  readonly startedAt: number;
  readonly replayable: boolean;
  readonly maxBytes: number | undefined;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly resolve: (response: ResponseData) => void;
  readonly reject: (error: Error) => void;
  queuedMs = 0;
  /** No wait at the gate (bb8's "direct", confirmed once the connection turns out to be an existing one). */
  direct = false;
  /** When the slot wait began. */
  slotWaitStart = 0;
  /** Fires on the caller's signal or the request deadline; the reason is a Berth error. */
  abortReason: BerthError | undefined = undefined;
  /** Aborted (with `abortReason`) on the caller's signal or the request deadline; absent when neither is set. */
  signal: AbortSignal | undefined = undefined;
  aborter: Aborter | undefined = undefined;
  /** Disarms the caller's signal and the request deadline. */
  disarm: () => void = NOOP;

  constructor(
    host: RequestHost,
    options: RequestOptions,
    method: string,
    startedAt: number,
    replayable: boolean,
    maxBytes: number | undefined,
    headersTimeoutMs: number,
    bodyTimeoutMs: number,
    resolve: (response: ResponseData) => void,
    reject: (error: Error) => void,
  ) {
    this.#host = host;
    this.options = options;
    this.method = method;
    this.startedAt = startedAt;
    this.replayable = replayable;
    this.maxBytes = maxBytes;
    this.headersTimeoutMs = headersTimeoutMs;
    this.bodyTimeoutMs = bodyTimeoutMs;
    this.resolve = resolve;
    this.reject = reject;
  }

  slotReady(connection: Connection, now: number): void {
    this.#host.slotReady(this, connection, now);
  }

  slotFailed(error: Error): void {
    this.#host.slotFailed(this, error);
  }
}

function NOOP(): void {}
/** generic-pool's release/destroy reject only for a slot it did not lend: nothing to do then. */
const IGNORE = (): void => {};
let nextRequestId = 1;
let nextPoolId = 1;

// generic-pool's d.ts declares neither the Pool constructor's extension parameters nor
// Deque/PriorityQueue; they are its public exports (index.js), typed here.
type PoolConstructor = new (
  evictor: new () => unknown,
  deque: unknown,
  priorityQueue: unknown,
  factory: Factory<Slot>,
  options: GenericPoolOptions,
) => GenericPool<Slot>;
const gp = genericPool as unknown as { Pool: PoolConstructor; Deque: unknown; PriorityQueue: unknown };

/** The pool's side of {@link Attempt}, bound once per pool. */
interface AttemptHost {
  head(a: Attempt, status: number, headers: ResponseHeaders, body: BodyHandle, closeRequested: boolean, now: number): void;
  failed(a: Attempt, error: BerthError): void;
  settled(a: Attempt, failed: boolean): void;
}

/**
 * One attempt of one request on one connection; forwards its exchange's reports to the pool.
 * One class (methods on the prototype) holding the attempt's state, so the hot path
 * allocates one object here and no functions.
 */
class Attempt implements ExchangeListener {
  readonly #host: AttemptHost;
  readonly ctx: RequestContext;
  readonly connection: Connection;
  readonly attempt: number;
  /** The connection was opened for this very request (exempt from the resend rule). */
  readonly freshForThis: boolean;
  /** The connection belongs to generic-pool (false: the one-shot connection of a resend). */
  readonly pooled: boolean;
  readonly reused: boolean;
  readonly start: RequestStartMessage | undefined;
  readonly sentAt: number;

  constructor(
    host: AttemptHost,
    ctx: RequestContext,
    connection: Connection,
    attempt: number,
    freshForThis: boolean,
    pooled: boolean,
    reused: boolean,
    start: RequestStartMessage | undefined,
    sentAt: number,
  ) {
    this.#host = host;
    this.ctx = ctx;
    this.connection = connection;
    this.attempt = attempt;
    this.freshForThis = freshForThis;
    this.pooled = pooled;
    this.reused = reused;
    this.start = start;
    this.sentAt = sentAt;
  }

  head(status: number, headers: ResponseHeaders, body: BodyHandle, closeRequested: boolean, now: number): void {
    this.#host.head(this, status, headers, body, closeRequested, now);
  }

  failed(error: BerthError): void {
    this.#host.failed(this, error);
  }

  settled(failed: boolean): void {
    this.#host.settled(this, failed);
  }
}

/** The pool's side of {@link LeaseWait}, bound once per pool. */
interface LeaseHost {
  ready(wait: LeaseWait, connection: Connection, now: number): void;
  failed(wait: LeaseWait, error: Error): void;
  /** The error of an acquire whose signal fired. */
  aborted(): BerthError;
}

/**
 * An `acquire()` waiting for its slot. It is also the listener of the caller's signal
 * (`handleEvent`), so a lease allocates no closures.
 */
class LeaseWait implements SlotSink {
  readonly #host: LeaseHost;
  readonly started: number;
  readonly direct: boolean;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (lease: ConnectionLease) => void;
  readonly reject: (error: Error) => void;
  aborter: Aborter | undefined = undefined;

  constructor(
    host: LeaseHost,
    started: number,
    direct: boolean,
    signal: AbortSignal | undefined,
    resolve: (lease: ConnectionLease) => void,
    reject: (error: Error) => void,
  ) {
    this.#host = host;
    this.started = started;
    this.direct = direct;
    this.signal = signal;
    this.resolve = resolve;
    this.reject = reject;
  }

  /** The caller's signal fired while waiting for a slot. */
  handleEvent(): void {
    this.aborter?.abort(this.#host.aborted());
  }

  slotReady(connection: Connection, now: number): void {
    this.#host.ready(this, connection, now);
  }

  slotFailed(error: Error): void {
    this.#host.failed(this, error);
  }
}

/** A connection lent by `acquire()`; gives it back once. */
class Lease implements ConnectionLease {
  readonly id: string;
  readonly #connection: Connection;
  readonly #release: (connection: Connection) => void;
  #released = false;

  constructor(connection: Connection, release: (connection: Connection) => void) {
    this.id = connection.id;
    this.#connection = connection;
    this.#release = release;
  }

  info(): ConnectionInfo {
    return this.#connection.info();
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#release(this.#connection);
  }
}

function isReplayableBody(body: RequestBody | undefined): boolean {
  return body === undefined || typeof body === 'string' || body instanceof Uint8Array;
}

/**
 * An HTTP/1.1 connection pool over one origin: generic-pool lends slots, each slot one
 * keep-alive connection driven by its own undici `Client` (pipelining 1), so every
 * connection is counted, validated, aged and retired on its own. Implements `Transport`
 * (requests) and `ResizablePool` (the scaler's view). Build it with {@link createHttpsPool}.
 */
export class HttpsPool implements Transport, ResizablePool {
  /** The sizes `resize()` accepts. */
  readonly bounds: PoolBounds;
  /** The origin served, e.g. `https://api.example.com`. */
  readonly origin: string;

  readonly #o: ResolvedOptions;
  readonly #identity: ComponentIdentity;
  readonly #gate: AdmissionGate;
  readonly #pool: GenericPool<Slot>;
  readonly #dialer: Dialer;
  readonly #lifetimes: LifetimeSchedule;
  readonly #connections = new Set<Connection>();
  /**
   * Idle connections kept out of generic-pool between requests (still lent, as far as it
   * knows): the warm path. See {@link HttpsPool.#takeParked}.
   */
  readonly #parked: Connection[] = [];
  readonly #sleepers = new Set<{ timer: TimerHandle; wake: () => void }>();
  readonly #readyWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  readonly #acquireWait = new LatencyWindow();
  #acquireWaitTotalMs = 0;
  readonly #destroyed: Record<CloseReason, number> = Object.fromEntries(CLOSE_REASONS.map((r) => [r, 0])) as Record<CloseReason, number>;
  readonly #hooks: ConnectionHooks;
  readonly #releaseLease = (connection: Connection): void => this.#finished(connection, false, true);
  readonly #attemptHost: AttemptHost = {
    head: (a, status, headers, body, closeRequested, now) => this.#attemptHead(a, status, headers, body, closeRequested, now),
    failed: (a, error) => this.#attemptFailed(a, error),
    settled: (a, failed) => this.#attemptSettled(a, failed),
  };
  readonly #slotWaitHost: SlotWaitHost = {
    abortWait: (wait, reason) => {
      if (wait.settled) return;
      this.#settleWait(wait);
      wait.sink.slotFailed(reason);
    },
    timeoutWait: (wait) => {
      if (wait.settled) return;
      this.#settleWait(wait);
      wait.sink.slotFailed(this.#slotTimeout());
    },
  };
  readonly #leaseHost: LeaseHost = {
    ready: (wait, connection, now) => this.#leaseReady(wait, connection, now),
    failed: (wait, error) => this.#leaseFailed(wait, error),
    aborted: () => new AbortedError(`acquire from ${this.origin} aborted`),
  };
  readonly #requestHost: RequestHost = {
    slotReady: (ctx, connection, now) => this.#slotReady(ctx, connection, now),
    slotFailed: (ctx, error) => {
      this.#gate.release();
      this.#requestFailed(ctx, error);
    },
  };
  readonly #gateFailures: GateFailures;
  readonly #housekeeping: TimerHandle;
  readonly #poolId = nextPoolId++;
  #phase: PoolPhase = { t: 'ready' };
  #connecting = 0;
  /** Open connections in phase `busy`, kept by the connections themselves (O(1) gauges). */
  #busy = 0;
  /** The gauges last published (size, idle, busy, connecting, pending, target) and when. */
  readonly #lastGauges = new Float64Array(6).fill(-1);
  #lastGaugesAt = Number.NEGATIVE_INFINITY;
  #nextConnectionId = 1;
  #consecutiveFailures = 0;
  #lastConnectError: BerthError | undefined;
  #nextAttemptAt = 0;
  #requests = 0;
  #inFlight = 0;
  #slotWaiting = 0;
  #errors = 0;
  #reused = 0;
  #created = 0;
  #connectErrors = 0;
  #acquires = { direct: 0, waited: 0, timedOut: 0, rejected: 0 };
  readonly #idleWaiters: (() => void)[] = [];

  /** Prefer {@link createHttpsPool}. */
  constructor(origin: string | URL, options: HttpsPoolOptions = {}) {
    const o = resolveOptions(origin, options);
    this.#o = o;
    this.origin = o.originString;
    this.bounds = { min: o.minConnections, max: o.maxConnections };
    this.#identity = { kind: 'https-pool', name: o.name, origin: o.originString, ...(o.region === undefined ? {} : { region: o.region }) };
    this.#gate = new AdmissionGate(o.targetConnections, o.clock);
    this.#dialer = new Dialer(o);
    this.#lifetimes = new LifetimeSchedule(o.clock);
    this.#hooks = {
      closed: (connection, reason) => this.#connectionClosed(connection, reason),
      expiredWhileIdle: () => this.#publishGauges(),
      busyChanged: (delta) => {
        this.#busy += delta;
      },
    };
    this.#gateFailures = {
      timeout: (waitedMs) => {
        this.#acquires.timedOut += 1;
        this.#publishAcquire('timeout', waitedMs);
        return this.#acquireTimeout(waitedMs);
      },
      aborted: (signal) =>
        isBerthError(signal.reason) ? signal.reason : new AbortedError(`request to ${this.origin} aborted while waiting for a connection`),
    };

    const factory: Factory<Slot> = {
      create: () => this.#createSlot(),
      destroy: (slot) => {
        if (slot instanceof Connection) slot.close(slot.retireReason() ?? 'closed');
        return Promise.resolve();
      },
    };
    // Every generic-pool default that bites is set explicitly (ANCHORS §2): the evictor runs,
    // min/max and the queue bound are ours, and the ceiling is the hard maximum (the live
    // limit is the admission gate's, so resize() works although generic-pool's max is fixed).
    // Acquires do time out, but by our deadline (`#borrow`), armed only for a caller that
    // generic-pool actually queued: its acquireTimeoutMillis arms a timer on every acquire.
    this.#pool = new gp.Pool(evictorFor((slot, available) => this.#shouldEvict(slot, available)), gp.Deque, gp.PriorityQueue, factory, {
      min: o.minIdle,
      max: o.maxConnections,
      maxWaitingClients: o.maxConnections + o.maxWaiting,
      testOnBorrow: false,
      fifo: o.idleOrder === 'fifo',
      priorityRange: 1,
      autostart: true,
      evictionRunIntervalMillis: o.housekeepingIntervalMs,
      numTestsPerEvictionRun: o.maxConnections,
      idleTimeoutMillis: Number.MAX_SAFE_INTEGER,
      softIdleTimeoutMillis: -1,
    });
    // Never thrown away silently (generic-pool drops them if nobody listens); the factory
    // itself never rejects, so anything here is a bug worth a log line.
    this.#pool.on('factoryCreateError', (error: unknown) => o.logger.error('https-pool: slot factory failed', { origin: this.origin, error: String(error) }));
    this.#pool.on('factoryDestroyError', (error: unknown) => o.logger.warn('https-pool: slot destroy failed', { origin: this.origin, error: String(error) }));
    this.#housekeeping = o.clock.setInterval(() => this.#housekeep(), o.housekeepingIntervalMs);
    this.#housekeeping.unref();
  }

  /** Lifecycle state of the pool. */
  state(): LifecycleState {
    return this.#phase.t === 'ready' ? 'ready' : this.#phase.t;
  }

  /**
   * Resolves when `minIdle` connections are open (TCP connected and, for https, TLS-verified).
   * Rejects with the connect error if a connection attempt fails first (the pool keeps
   * retrying with backoff), or with `ERR_BERTH_CLOSED` if the pool closes.
   */
  ready(): Promise<void> {
    if (this.#phase.t !== 'ready') return Promise.reject(new PoolClosedError(`pool for ${this.origin} is ${this.#phase.t}`));
    if (this.#connections.size >= this.#o.minIdle) return Promise.resolve();
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  /** Sends one request; resolves at the response head. Rejects only with Berth errors. */
  request(options: RequestOptions): Promise<ResponseData> {
    try {
      validateRequest(options);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (this.#phase.t !== 'ready') return Promise.reject(new PoolClosedError(`pool for ${this.origin} is ${this.#phase.t}; no new requests`));
    return this.#send(options);
  }

  /**
   * Borrows one connection without sending anything, through the same admission gate and
   * generic-pool path as `request()`: for benchmarks of the acquire path, and for callers
   * that must hold a connection. Fails like `request()` does while waiting
   * (`ERR_BERTH_QUEUE_FULL`, `ERR_BERTH_ACQUIRE_TIMEOUT`, connect errors, `ERR_BERTH_ABORTED`).
   */
  acquire(options: AcquireOptions = {}): Promise<ConnectionLease> {
    if (this.#phase.t !== 'ready') return Promise.reject(new PoolClosedError(`pool for ${this.origin} is ${this.#phase.t}`));
    const o = this.#o;
    const started = o.clock.now();
    if (this.#gate.tryAcquire()) return this.#lease(started, true, options.signal);
    if (this.#gate.waiting >= o.maxWaiting) {
      this.#acquires.rejected += 1;
      this.#publishAcquire('rejected', 0);
      return Promise.reject(new QueueFullError(`pool for ${this.origin} has ${this.#gate.waiting} callers waiting (maxWaiting ${o.maxWaiting}); ${this.#describe()}`));
    }
    return this.#gate.wait(options.priority ?? 3, o.acquireTimeoutMs, options.signal, this.#gateFailures).then(() => this.#lease(started, false, options.signal));
  }

  /** With a gate permit held: waits for a slot and lends it. */
  #lease(started: number, direct: boolean, signal: AbortSignal | undefined): Promise<ConnectionLease> {
    return new Promise<ConnectionLease>((resolve, reject) => {
      const wait = new LeaseWait(this.#leaseHost, started, direct, signal, resolve, reject);
      signal?.addEventListener('abort', wait, { once: true });
      this.#acquireSlot(wait, started);
    });
  }

  #leaseReady(wait: LeaseWait, connection: Connection, now: number): void {
    wait.signal?.removeEventListener('abort', wait);
    const waited = now - wait.started;
    // "Direct" as bb8 counts it: no wait at the gate and a connection that already existed.
    const direct = wait.direct && connection.createdAt < wait.started;
    if (direct) this.#acquires.direct += 1;
    else this.#acquires.waited += 1;
    this.#acquireWait.add(waited);
    this.#acquireWaitTotalMs += waited;
    this.#publishAcquire(direct ? 'direct' : 'waited', waited);
    connection.lease(now);
    wait.resolve(new Lease(connection, this.#releaseLease));
  }

  #leaseFailed(wait: LeaseWait, error: Error): void {
    wait.signal?.removeEventListener('abort', wait);
    this.#gate.release();
    wait.reject(error);
  }

  /** A snapshot of the pool for dashboards and the scaler. */
  stats(): PoolStats {
    const busy = this.#busy;
    const idle = this.#connections.size - busy;
    return {
      kind: 'https-pool',
      name: this.#o.name,
      origin: this.origin,
      state: this.state(),
      requests: this.#requests,
      inFlight: this.#inFlight,
      queued: this.#gate.waiting + this.#slotWaiting,
      errors: this.#errors,
      size: this.#connections.size + this.#connecting,
      idle,
      busy,
      connecting: this.#connecting,
      pending: this.#gate.waiting + this.#slotWaiting,
      target: this.#gate.target,
      created: this.#created,
      destroyed: { ...this.#destroyed },
      connectErrors: this.#connectErrors,
      acquires: { ...this.#acquires },
      acquireWait: this.#acquireWait.summary(),
      acquireWaitTotalMs: this.#acquireWaitTotalMs,
      reusedRequests: this.#reused,
      reuseRate: this.#requests === 0 ? 0 : this.#reused / this.#requests,
    };
  }

  /** Every open connection, oldest first. */
  connections(): ConnectionInfo[] {
    return [...this.#connections].map((c) => c.info());
  }

  /**
   * Sets the live size limit within `bounds`. Growing serves the next waiter at once;
   * shrinking closes idle connections first and retires busy ones as their requests end —
   * it never aborts a request. A target outside `bounds` throws `ERR_BERTH_CONFIG`.
   */
  resize(target: number): void {
    if (!Number.isInteger(target) || target < this.bounds.min || target > this.bounds.max) {
      throw new ConfigError('https-pool', [
        { path: 'resize(target)', expected: `an integer in [${this.bounds.min}, ${this.bounds.max}]`, received: describeValue(target) },
      ]);
    }
    const from = this.#gate.target;
    if (from === target) return;
    this.#gate.setTarget(target);
    if (channels.resize.hasSubscribers) {
      const message: PoolResizeMessage = { component: this.#identity, from, to: target };
      channels.resize.publish(message);
    }
    let excess = this.#connections.size - target;
    for (const c of this.#connections) {
      if (excess <= 0) break;
      if (c.phase.t === 'idle') {
        c.close('resize');
        excess -= 1;
      }
    }
    this.#publishGauges();
  }

  /**
   * Graceful close: new requests and waiters get `ERR_BERTH_CLOSED`, in-flight requests
   * may finish until `deadlineMs` (default `closeDeadlineMs`), then every connection is
   * destroyed. Nothing is left open: no socket, no timer. Idempotent.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.#phase.t !== 'ready') return this.#phase.done;
    const done = this.#shutdown(options.deadlineMs ?? this.#o.closeDeadlineMs);
    this.#phase = { t: 'draining', done };
    return done;
  }

  async #shutdown(deadlineMs: number): Promise<void> {
    const closed = new PoolClosedError(`pool for ${this.origin} closed`);
    this.#gate.rejectAll(closed);
    for (const w of this.#readyWaiters.splice(0)) w.reject(closed);
    // drain() first: it sets generic-pool's draining flag synchronously, so min-refill stops
    // and no create starts for shutdown (coopernurse/node-pool#256); creates already
    // running end as tombstones that fail their waiters with ERR_BERTH_CLOSED.
    const drained = this.#pool.drain().catch(IGNORE);
    this.#dialer.close();
    for (const s of [...this.#sleepers]) s.wake();
    for (const c of [...this.#connections]) if (c.phase.t !== 'busy') c.close('closed');
    if (this.#inFlight > 0) await this.#within(new Promise<void>((resolve) => this.#idleWaiters.push(resolve)), deadlineMs);
    for (const c of [...this.#connections]) c.close('closed');
    await this.#within(drained, this.#o.closeDeadlineMs);
    await this.#pool.clear().catch(IGNORE);
    this.#o.clock.clearInterval(this.#housekeeping);
    this.#phase = { t: 'closed', done: Promise.resolve() };
  }

  /** Resolves when `promise` settles or after `ms`, whichever comes first; leaves no timer. */
  #within(promise: Promise<void>, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.#o.clock.setTimeout(resolve, ms);
      void promise.then(() => {
        this.#o.clock.clearTimeout(timer);
        resolve();
      });
    });
  }

  // ---------------------------------------------------------------- request path

  #send(options: RequestOptions): Promise<ResponseData> {
    const o = this.#o;
    const method = options.method ?? 'GET';
    const idempotent = options.idempotent ?? IDEMPOTENT_METHODS.has(method);
    this.#requests += 1;
    return new Promise<ResponseData>((resolve, reject) => {
      const ctx = new RequestContext(
        this.#requestHost,
        options,
        method,
        o.clock.now(),
        idempotent && isReplayableBody(options.body),
        options.maxResponseBytes ?? o.maxResponseBytes,
        options.headersTimeoutMs ?? o.headersTimeoutMs,
        options.bodyTimeoutMs ?? o.bodyTimeoutMs,
        resolve,
        reject,
      );
      ctx.disarm = this.#armDeadline(ctx);
      if (ctx.abortReason !== undefined) {
        this.#requestFailed(ctx, ctx.abortReason);
        return;
      }
      if (this.#gate.tryAcquire()) {
        ctx.direct = true;
        this.#acquireSlot(ctx, ctx.startedAt);
        return;
      }
      if (this.#gate.waiting >= o.maxWaiting) {
        this.#acquires.rejected += 1;
        this.#publishAcquire('rejected', 0);
        this.#requestFailed(
          ctx,
          new QueueFullError(`pool for ${this.origin} has ${this.#gate.waiting} callers waiting (maxWaiting ${o.maxWaiting}); ${this.#describe()}`, {
            maxWaiting: o.maxWaiting,
          }),
        );
        return;
      }
      this.#gate.wait(options.priority ?? 3, o.acquireTimeoutMs, ctx.signal, this.#gateFailures).then(
        (waitedMs) => {
          ctx.queuedMs = waitedMs;
          this.#acquireSlot(ctx, o.clock.now());
        },
        (error: unknown) => this.#requestFailed(ctx, error as Error),
      );
    });
  }

  /** The request holds a gate permit and got a connection: count the wait and send. */
  #slotReady(ctx: RequestContext, connection: Connection, now: number): void {
    const waitStart = ctx.slotWaitStart;
    ctx.queuedMs += now - waitStart;
    const direct = ctx.direct && connection.createdAt < waitStart;
    if (direct) this.#acquires.direct += 1;
    else this.#acquires.waited += 1;
    this.#acquireWait.add(ctx.queuedMs);
    this.#acquireWaitTotalMs += ctx.queuedMs;
    this.#publishAcquire(direct ? 'direct' : 'waited', ctx.queuedMs);
    const createdForThis = connection.requestCount === 0 && connection.createdAt >= waitStart;
    this.#attempt(connection, ctx, 1, createdForThis, true, now);
  }

  /** The response head arrived (after a resend, if any). */
  #requestDone(ctx: RequestContext, response: ResponseData): void {
    ctx.disarm();
    ctx.resolve(response);
  }

  /** The request failed for good. */
  #requestFailed(ctx: RequestContext, error: Error): void {
    this.#errors += 1;
    ctx.disarm();
    ctx.reject(error);
  }

  /** Arms the caller's signal and the request deadline; returns the disarm function. */
  #armDeadline(ctx: RequestContext): () => void {
    const { signal } = ctx.options;
    const timeoutMs = ctx.options.timeoutMs ?? this.#o.requestTimeoutMs;
    if (signal === undefined && timeoutMs === undefined) return NOOP;
    // One signal for both, so the admission gate also gives up at the request deadline.
    const controller = new AbortController();
    ctx.signal = controller.signal;
    const fire = (reason: BerthError) => {
      if (ctx.abortReason !== undefined) return;
      ctx.abortReason = reason;
      controller.abort(reason);
      ctx.aborter?.abort(reason);
    };
    const onSignal = () => fire(new AbortedError(`request to ${this.origin} aborted`, { cause: signal?.reason }));
    if (signal?.aborted === true) onSignal();
    else signal?.addEventListener('abort', onSignal, { once: true });
    const timer =
      timeoutMs === undefined
        ? undefined
        : this.#o.clock.setTimeout(
            () => fire(new HttpsPoolError('ERR_BERTH_TIMEOUT', `request to ${this.origin}${ctx.options.path} got no response head within ${timeoutMs} ms`, { timeoutMs })),
            timeoutMs,
          );
    return () => {
      signal?.removeEventListener('abort', onSignal);
      this.#o.clock.clearTimeout(timer);
    };
  }

  /**
   * Borrows a connection from generic-pool and checks it here rather than through
   * generic-pool's `testOnBorrow`, which costs four promise hops on every acquire even when
   * nothing needs checking (the goal is O(1) per acquire). A tombstone becomes its connect
   * error while fresh; a stale tombstone, a connection closed meanwhile (shrink, lifetime,
   * peer) or one failing its idle validation is destroyed and another one borrowed — the
   * same "failed validation destroys and re-dispatches" contract as generic-pool's own.
   */
  #acquireSlot(sink: SlotSink, now: number): void {
    this.#slotWaiting += 1;
    if (sink instanceof RequestContext) sink.slotWaitStart = now;
    const wait = new SlotWait(this.#slotWaitHost, sink);
    sink.aborter = wait;
    this.#borrow(wait);
  }

  #borrow(wait: SlotWait): void {
    const parked = this.#takeParked();
    if (parked !== undefined) {
      this.#borrowed(wait, parked);
      return;
    }
    this.#pool.acquire().then(
      (slot) => this.#borrowed(wait, slot),
      (error: unknown) => {
        if (wait.settled) return;
        this.#settleWait(wait);
        wait.sink.slotFailed(this.#mapAcquireError(error));
      },
    );
    // generic-pool lends an idle slot synchronously, leaving its queue empty; the caller is
    // still queued only when none was idle (its queue is FIFO: the newest request is the
    // last one served). Only then is a deadline armed, so the warm path has no timer at all
    // (generic-pool's own acquireTimeoutMillis would arm and clear one per acquire).
    if (wait.timer === undefined && !wait.settled && this.#pool.pending > 0) {
      wait.timer = this.#o.clock.setTimeout(() => wait.expire(), this.#o.acquireTimeoutMs);
    }
  }

  #borrowed(wait: SlotWait, slot: Slot): void {
    const now = this.#o.clock.now();
    if (slot instanceof Tombstone) {
      if (now >= slot.freshUntil && this.#phase.t === 'ready') {
        this.#discard(wait, slot);
        return;
      }
      void this.#pool.destroy(slot).catch(IGNORE);
      if (!wait.settled) {
        this.#settleWait(wait);
        wait.sink.slotFailed(slot.error);
      }
      return;
    }
    if (!slot.isUsable()) {
      if (slot.phase.t !== 'closed') slot.close(slot.retireReason() ?? 'broken');
      this.#discard(wait, slot);
      return;
    }
    const check = this.#borrowCheck(slot, now);
    if (check === undefined) this.#give(wait, slot, now);
    else void check.then((ok) => (ok ? this.#give(wait, slot, this.#o.clock.now()) : this.#discard(wait, slot)));
  }

  /**
   * The warm path. generic-pool's acquire + release cost about 1 µs and a microtask per
   * request (a Deferred and a promise for the request, another for the loan, a resolved
   * promise from release, and our `.then`). A connection whose request ended while nobody
   * waited in generic-pool is therefore *parked* here instead of released: it stays lent
   * as far as generic-pool knows, and the next borrow takes it synchronously, through the
   * same checks as any borrowed slot (`#borrowed`: usable, validated if idle too long).
   * generic-pool's contract is kept: parked connections go back to it every housekeeping
   * period (so its evictor sees them for the idle timeout), a parked connection that closes
   * (lifetime, peer, resize, close()) is destroyed in it at once, a waiter queued in it is
   * served by release as before, and `maxConnections` counts parked ones as lent.
   * `idleOrder` holds: `lifo` takes the most recently parked first; `fifo` takes
   * generic-pool's idle connections before parked ones, so light load still rotates over all.
   */
  #takeParked(): Connection | undefined {
    const parked = this.#parked;
    if (parked.length === 0) return undefined;
    if (this.#o.idleOrder === 'lifo') return parked.pop();
    return this.#pool.available > 0 ? undefined : parked.shift();
  }

  /** Gives every parked connection back to generic-pool (each housekeeping period). */
  #unpark(): void {
    for (const c of this.#parked.splice(0)) void this.#pool.release(c);
  }

  #give(wait: SlotWait, slot: Connection, now: number): void {
    if (wait.settled) {
      // The caller gave up while the slot was being found: put it back.
      void this.#pool.release(slot).catch(IGNORE);
      return;
    }
    this.#settleWait(wait);
    wait.sink.slotReady(slot, now);
  }

  #discard(wait: SlotWait, slot: Slot): void {
    void this.#pool.destroy(slot).catch(IGNORE);
    if (!wait.settled) this.#borrow(wait);
  }

  #settleWait(wait: SlotWait): void {
    wait.settled = true;
    this.#slotWaiting -= 1;
    wait.sink.aborter = undefined;
    if (wait.timer !== undefined) this.#o.clock.clearTimeout(wait.timer);
  }

  /** A validation to await before lending `slot`, or undefined when none is due. */
  #borrowCheck(slot: Connection, now: number): Promise<boolean> | undefined {
    const phase = slot.phase;
    if (phase.t === 'validating') return phase.check.then((r) => r.ok);
    const after = this.#o.validateAfterIdleMs;
    if (after > 0 && phase.t === 'idle' && now - Math.max(phase.since, slot.lastValidatedAt) >= after) {
      return this.#runValidation(slot);
    }
    return undefined;
  }

  #slotTimeout(): BerthError {
    this.#acquires.timedOut += 1;
    this.#publishAcquire('timeout', this.#o.acquireTimeoutMs);
    return this.#acquireTimeout(this.#o.acquireTimeoutMs);
  }

  #mapAcquireError(error: unknown): BerthError {
    if (this.#phase.t !== 'ready') return new PoolClosedError(`pool for ${this.origin} closed`, { cause: error });
    // Callers that gave up (deadline, abort) stay in generic-pool's queue until a slot or a
    // tombstone reaches them (it offers no way to withdraw a request); its bounded queue can
    // fill with them during a long outage of hanging connects. That is a full queue, coded so.
    if (error instanceof Error && error.message.startsWith('max waitingClients')) {
      return new QueueFullError(`pool for ${this.origin} has too many callers waiting for a connection; ${this.#describe()}`, { cause: error });
    }
    return new HttpsPoolError('ERR_BERTH_INTERNAL', `generic-pool failed to lend a connection for ${this.origin}`, { cause: error });
  }

  #acquireTimeout(waitedMs: number): AcquireTimeoutError {
    return new AcquireTimeoutError(`no connection to ${this.origin} became free within ${Math.round(waitedMs)} ms; ${this.#describe()}`, {
      waitedMs,
      ...(this.#consecutiveFailures > 0 ? { cause: this.#lastConnectError } : {}),
    });
  }

  #describe(): string {
    const size = this.#connections.size + this.#connecting;
    const idle = this.#connections.size - this.#busy;
    return `pool state: size ${size}/${this.#gate.target} (busy ${this.#busy}, idle ${idle}, connecting ${this.#connecting}), waiting ${this.#gate.waiting + this.#slotWaiting}, consecutive connect failures ${this.#consecutiveFailures}`;
  }

  /**
   * Sends one attempt on `connection`. Go's Transport rule (`checkTransportResend`): an
   * attempt that fails on a *reused* connection before any response byte is retried once on
   * a new connection when the request is replayable (idempotent, or marked so, with a
   * body that can be sent again). "Reused" here means any connection that sat idle in the
   * pool (a pre-warmed one too), since that is what a server's keep-alive close races with;
   * only a connection opened for this very request (`freshForThis`) is exempt. A request the
   * connection never wrote is replayable whatever its method.
   */
  #attempt(connection: Connection, ctx: RequestContext, attempt: number, freshForThis: boolean, pooled: boolean, now: number): void {
    const options = ctx.options;
    const reused = connection.requestCount > 0;
    const start = this.#publishStart(ctx, attempt);
    const headers = (start?.headers ?? options.headers) as Record<string, string | string[]> | undefined;
    this.#inFlight += 1;
    if (reused) this.#reused += 1;
    const state = new Attempt(this.#attemptHost, ctx, connection, attempt, freshForThis, pooled, reused, start, now);
    const exchange = new Exchange(state, ctx.maxBytes, this.origin, connection.responseDeadline(), ctx.bodyTimeoutMs);
    ctx.aborter = exchange;
    if (ctx.abortReason !== undefined) exchange.abort(ctx.abortReason);
    // The phase deadlines are the pool's own (ResponseDeadline: undici's are ±1 s fast
    // timers), and undici gets none, so its parser creates no timer per request. Except the
    // headers deadline of a streamed request body: undici pauses it while the body is being
    // written, which only undici can see, so it keeps that one.
    const streamedBody = !isReplayableBody(options.body);
    if (!streamedBody) exchange.expectHead(ctx.headersTimeoutMs, now);
    const dispatchOptions: Dispatcher.DispatchOptions = {
      method: ctx.method,
      path: options.path,
      headersTimeout: streamedBody ? ctx.headersTimeoutMs : 0,
      bodyTimeout: 0,
    };
    if (headers !== undefined) dispatchOptions.headers = headers;
    if (options.body !== undefined) dispatchOptions.body = options.body as NonNullable<Dispatcher.DispatchOptions['body']>;
    try {
      connection.dispatch(dispatchOptions, exchange, now);
    } catch (error) {
      // undici reports failures to the handler; a synchronous throw must still end the attempt.
      exchange.onError(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #attemptHead(a: Attempt, status: number, responseHeaders: ResponseHeaders, body: BodyHandle, closeRequested: boolean, now: number): void {
    const { ctx, connection } = a;
    if (closeRequested) connection.markNotReusable();
    ctx.aborter = undefined;
    const timings: RequestTimings = a.freshForThis
      ? { queuedMs: ctx.queuedMs, connectMs: connection.connectMs, ttfbMs: now - a.sentAt, totalMs: now - ctx.startedAt }
      : { queuedMs: ctx.queuedMs, ttfbMs: now - a.sentAt, totalMs: now - ctx.startedAt };
    this.#publishEnd(a.start, a.reused, connection.id, timings, status, undefined);
    this.#requestDone(ctx, new PoolResponse(status, responseHeaders, body, { protocol: 'http/1.1', reused: a.reused, connectionId: connection.id, attempts: a.attempt, timings }));
  }

  #attemptFailed(a: Attempt, error: BerthError): void {
    const { ctx, connection } = a;
    ctx.aborter = undefined;
    const now = this.#o.clock.now();
    this.#publishEnd(a.start, a.reused, connection.id, { queuedMs: ctx.queuedMs, ttfbMs: now - a.sentAt, totalMs: now - ctx.startedAt }, undefined, error);
    const notSent = error instanceof StaleConnectionError;
    const retry =
      a.attempt === 1 &&
      ctx.abortReason === undefined &&
      isReplayableBody(ctx.options.body) &&
      (notSent || (!a.freshForThis && ctx.replayable && error.code === 'ERR_BERTH_UPSTREAM_RESET'));
    if (!retry) {
      this.#requestFailed(ctx, error);
      return;
    }
    this.#o.logger.debug('https-pool: retrying on a new connection', { origin: this.origin, connectionId: connection.id, code: error.code });
    this.#retryOnNewConnection(ctx, error);
  }

  #attemptSettled(a: Attempt, failed: boolean): void {
    this.#inFlight -= 1;
    this.#finished(a.connection, failed, a.pooled);
  }

  /** The one retry of the safe-resend rule, on a connection opened for it and closed after. */
  #retryOnNewConnection(ctx: RequestContext, firstError: BerthError): void {
    if (this.#phase.t !== 'ready') {
      this.#requestFailed(ctx, firstError);
      return;
    }
    // The extra connection serves exactly this request and is closed after it (`max-requests`).
    this.#openConnection().then(
      (connection) => this.#attempt(connection, ctx, 2, true, false, this.#o.clock.now()),
      () => this.#requestFailed(ctx, firstError),
    );
  }

  /** The request on `connection` ended: retire it if it must go, else lend it again. */
  #finished(connection: Connection, failed: boolean, pooled: boolean): void {
    connection.finished(failed);
    if (!pooled) {
      connection.close('max-requests');
    } else {
      let reason = connection.retireReason();
      if (reason === undefined && this.#connections.size > this.#gate.target) reason = 'resize';
      if (reason !== undefined) {
        connection.close(reason);
        void this.#pool.destroy(connection).catch(IGNORE);
      } else {
        // release() rejects only for a slot it did not lend; checked first, so the resolved
        // promise it returns needs no handler (one promise less per request).
        if (this.#pool.isBorrowedResource(connection)) {
          if (this.#pool.pending === 0 && this.#phase.t === 'ready') this.#parked.push(connection);
          else void this.#pool.release(connection);
        }
      }
      this.#gate.release();
    }
    if (this.#inFlight === 0 && this.#idleWaiters.length > 0) for (const w of this.#idleWaiters.splice(0)) w();
    this.#publishGauges();
  }

  // ---------------------------------------------------------------- slots

  /** generic-pool's factory.create: never rejects (see {@link Tombstone}). */
  async #createSlot(): Promise<Slot> {
    try {
      return await this.#openConnection();
    } catch (error) {
      const err = error as BerthError;
      return new Tombstone(err, this.#phase.t === 'ready' ? this.#nextAttemptAt : Number.POSITIVE_INFINITY);
    }
  }

  /**
   * Dials one connection, waiting out the connect backoff first. The backoff is what keeps
   * a dead upstream from turning generic-pool's create→dispense cycle into a busy loop.
   */
  async #openConnection(): Promise<Connection> {
    const o = this.#o;
    if (this.#phase.t !== 'ready') throw new PoolClosedError(`pool for ${this.origin} closed`);
    const wait = this.#nextAttemptAt - o.clock.now();
    if (wait > 0) await this.#sleep(wait);
    if (this.#phase.t !== 'ready') throw new PoolClosedError(`pool for ${this.origin} closed`);
    this.#connecting += 1;
    let dialed;
    try {
      dialed = await this.#dialer.dial();
    } catch (error) {
      this.#connecting -= 1;
      throw this.#connectFailed(toBerthError(error, 'connect', this.origin));
    }
    this.#connecting -= 1;
    if (this.#phase.t !== 'ready') {
      dialed.socket.destroy();
      throw new PoolClosedError(`pool for ${this.origin} closed`);
    }
    this.#consecutiveFailures = 0;
    this.#nextAttemptAt = 0;
    const connection = new Connection(`h1-${this.#poolId}-${this.#nextConnectionId++}`, dialed, o, this.#hooks);
    this.#connections.add(connection);
    if (connection.expiresAt !== Number.POSITIVE_INFINITY) this.#lifetimes.add(connection);
    this.#created += 1;
    if (channels.connectionCreated.hasSubscribers) {
      const message: ConnectionCreatedMessage = { component: this.#identity, connection: connection.info() };
      channels.connectionCreated.publish(message);
    }
    if (this.#connections.size >= o.minIdle && this.#readyWaiters.length > 0) for (const w of this.#readyWaiters.splice(0)) w.resolve();
    this.#publishGauges();
    return connection;
  }

  #connectFailed(error: BerthError): BerthError {
    if (this.#phase.t !== 'ready' || error.code === 'ERR_BERTH_CLOSED') return error;
    const o = this.#o;
    this.#consecutiveFailures += 1;
    this.#connectErrors += 1;
    this.#lastConnectError = error;
    const delay = connectBackoffMs(this.#consecutiveFailures, o.backoffBaseMs, o.backoffMaxMs, o.random);
    this.#nextAttemptAt = o.clock.now() + delay;
    o.logger.warn('https-pool: connect failed', { origin: this.origin, code: error.code, consecutiveFailures: this.#consecutiveFailures, nextDelayMs: Math.round(delay) });
    if (channels.connectError.hasSubscribers) {
      const message: ConnectErrorMessage = {
        component: this.#identity,
        error: { code: error.code, message: error.message },
        consecutiveFailures: this.#consecutiveFailures,
        nextDelayMs: delay,
      };
      channels.connectError.publish(message);
    }
    for (const w of this.#readyWaiters.splice(0)) w.reject(error);
    return error;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const sleeper = {
        timer: this.#o.clock.setTimeout(() => sleeper.wake(), ms),
        wake: () => {
          this.#o.clock.clearTimeout(sleeper.timer);
          this.#sleepers.delete(sleeper);
          resolve();
        },
      };
      this.#sleepers.add(sleeper);
    });
  }

  #runValidation(connection: Connection): Promise<boolean> {
    return connection.validate().then((result) => {
      if (channels.validation.hasSubscribers) {
        const message: ValidationMessage = {
          component: this.#identity,
          connectionId: connection.id,
          ok: result.ok,
          ...(result.reason === undefined ? {} : { reason: result.reason }),
        };
        channels.validation.publish(message);
      }
      return result.ok;
    });
  }

  /** generic-pool's evictor asks this about each idle slot, every housekeeping period. */
  #shouldEvict(slot: Slot, available: number): boolean {
    if (slot instanceof Tombstone) return this.#o.clock.now() >= slot.freshUntil;
    if (slot.phase.t === 'closed') return true;
    if (slot.phase.t !== 'idle') return false;
    if (!slot.isUsable()) {
      slot.close(slot.retireReason() ?? 'broken');
      return true;
    }
    if (this.#o.clock.now() - slot.phase.since >= this.#o.idleTimeoutMs && available > this.#o.minIdle) {
      slot.close('idle');
      return true;
    }
    return false;
  }

  /**
   * Background work each period. (1) Validate warm idle connections before a keep-alive
   * timer (ours or the server's) can close them, so `minIdle` connections survive idle
   * periods instead of being reopened (nodejs/undici#317, QwenLM/qwen-code#3318).
   * (2) Keep `minIdle` connections *idle* under load too, as bb8's `min_idle`, within the
   * live target and never while connects are failing.
   */
  #housekeep(): void {
    if (this.#phase.t !== 'ready') return;
    this.#unpark();
    this.#publishGauges();
    if (this.#o.minIdle === 0) return;
    const after = this.#o.validateAfterIdleMs;
    const now = this.#o.clock.now();
    let idle = 0;
    for (const c of this.#connections) {
      const phase = c.phase;
      if ((phase.t !== 'idle' && phase.t !== 'validating') || !c.isUsable()) continue;
      idle += 1;
      if (idle <= this.#o.minIdle && after > 0 && phase.t === 'idle' && now - Math.max(phase.since, c.lastValidatedAt) >= after) {
        void this.#runValidation(c);
      }
    }
    // Connections being opened will be idle: count them, or every period would open more.
    const missing = Math.min(this.#o.minIdle - idle - this.#connecting, this.#gate.target - this.#connections.size - this.#connecting);
    // Only while connects succeed: during an outage the evictor's refill alone paces retries.
    if (missing > 0 && this.#consecutiveFailures === 0) this.#warm(missing);
  }

  /**
   * Opens `n` idle connections through generic-pool, which has no "add a resource" call:
   * borrowing everything idle plus `n` makes it create exactly `n`, and all are given back.
   */
  #warm(n: number): void {
    const borrows = this.#pool.available + n;
    for (let i = 0; i < borrows; i += 1) {
      this.#pool.acquire().then(
        (slot) => {
          if (slot instanceof Connection && slot.isUsable()) void this.#pool.release(slot).catch(IGNORE);
          else void this.#pool.destroy(slot).catch(IGNORE);
        },
        () => {},
      );
    }
  }

  #connectionClosed(connection: Connection, reason: CloseReason): void {
    if (!this.#connections.delete(connection)) return;
    this.#lifetimes.remove(connection);
    const parkedAt = this.#parked.indexOf(connection);
    if (parkedAt !== -1) {
      this.#parked.splice(parkedAt, 1);
      void this.#pool.destroy(connection).catch(IGNORE);
    }
    this.#destroyed[reason] += 1;
    if (channels.connectionClosed.hasSubscribers) {
      const message: ConnectionClosedMessage = {
        component: this.#identity,
        connectionId: connection.id,
        reason,
        ageMs: this.#o.clock.now() - connection.createdAt,
        requestCount: connection.requestCount,
      };
      channels.connectionClosed.publish(message);
    }
    this.#publishGauges();
  }

  // ---------------------------------------------------------------- events

  #publishStart(ctx: RequestContext, attempt: number): RequestStartMessage | undefined {
    if (!channels.requestStart.hasSubscribers && !channels.requestEnd.hasSubscribers) return undefined;
    const headers: Record<string, string | string[]> = {};
    const given = ctx.options.headers;
    if (given !== undefined) for (const k in given) headers[k] = given[k] as string | string[];
    const message: RequestStartMessage = {
      component: this.#identity,
      requestId: nextRequestId++,
      method: ctx.method,
      origin: this.origin,
      path: ctx.options.path,
      headers,
      attempt,
      startedAt: this.#o.clock.now(),
    };
    if (channels.requestStart.hasSubscribers) channels.requestStart.publish(message);
    return message;
  }

  #publishEnd(
    start: RequestStartMessage | undefined,
    reused: boolean,
    connectionId: string,
    timings: RequestTimings,
    status: number | undefined,
    error: BerthError | undefined,
  ): void {
    if (start === undefined || !channels.requestEnd.hasSubscribers) return;
    // Built field by field (no spreads of temporaries): this runs once per request.
    const message: { -readonly [K in keyof RequestEndMessage]: RequestEndMessage[K] } = {
      component: this.#identity,
      requestId: start.requestId,
      start,
      protocol: 'http/1.1',
      reused,
      timings,
      connectionId,
    };
    if (status !== undefined) message.status = status;
    if (error !== undefined) message.error = { code: error.code, message: error.message };
    channels.requestEnd.publish(message);
  }

  #publishAcquire(outcome: AcquireMessage['outcome'], waitMs: number): void {
    if (!channels.acquire.hasSubscribers) return;
    const message: AcquireMessage = { component: this.#identity, outcome, waitMs };
    channels.acquire.publish(message);
  }

  /**
   * Publishes the gauges when one changed, and at least once per housekeeping period
   * (`#housekeep` calls this) so a subscriber that joins a steady pool still gets them. O(1):
   * it runs on every request end while anyone subscribes, so it reads the counters directly
   * instead of building `stats()` (whose latency summary sorts), and it skips identical
   * repeats — in a steady closed loop every request end would publish the same numbers.
   */
  #publishGauges(): void {
    if (!channels.gauges.hasSubscribers) return;
    const size = this.#connections.size + this.#connecting;
    const idle = this.#connections.size - this.#busy;
    const busy = this.#busy;
    const connecting = this.#connecting;
    const pending = this.#gate.waiting + this.#slotWaiting;
    const target = this.#gate.target;
    const last = this.#lastGauges;
    const now = this.#o.clock.now();
    if (
      last[0] === size &&
      last[1] === idle &&
      last[2] === busy &&
      last[3] === connecting &&
      last[4] === pending &&
      last[5] === target &&
      now - this.#lastGaugesAt < this.#o.housekeepingIntervalMs
    ) {
      return;
    }
    last[0] = size;
    last[1] = idle;
    last[2] = busy;
    last[3] = connecting;
    last[4] = pending;
    last[5] = target;
    this.#lastGaugesAt = now;
    const message: PoolGaugesMessage = { component: this.#identity, size, idle, busy, connecting, pending, target };
    channels.gauges.publish(message);
  }
}

/**
 * Creates an HTTP/1.1 pool for one origin (`https://host[:port]`, or `http://` with
 * `allowCleartext`). Connections open in the background up to `minIdle`; await
 * `ready()` to start warm. Throws `ERR_BERTH_CONFIG` listing every invalid option.
 *
 * @example
 * const pool = createHttpsPool('https://api.example.com', { tls: connector, minIdle: 4 });
 * await pool.ready();
 * const res = await pool.request({ method: 'GET', path: '/v1/models' });
 * console.log(res.status, await res.json(), res.meta.reused);
 * await pool.close();
 */
export function createHttpsPool(origin: string | URL, options: HttpsPoolOptions = {}): HttpsPool {
  return new HttpsPool(origin, options);
}

import type { Socket } from 'node:net';
import { Client } from 'undici';
import type { Dispatcher } from 'undici';
import type { CloseReason, ConnectionInfo, TlsHandshakeInfo } from '@berth/core-types';
import { ResponseDeadline } from './response-deadline.js';
import type { DialedSocket } from './dialer.js';
import { HttpsPoolError, PoolClosedError } from './errors.js';
import type { ResolvedOptions } from './options.js';

/** Lifecycle of one connection, with only the fields valid in each state. */
export type ConnectionPhase =
  | { readonly t: 'idle'; readonly since: number }
  | { readonly t: 'validating'; readonly since: number; readonly check: Promise<ValidationResult> }
  | { readonly t: 'busy'; readonly since: number }
  | { readonly t: 'closed'; readonly reason: CloseReason; readonly at: number };

/** Outcome of a health request. */
export interface ValidationResult {
  readonly ok: boolean;
  /** Why it failed: `status 503`, `connection: close`, or the error message. */
  readonly reason?: string;
}

/** What a connection tells its pool. */
export interface ConnectionHooks {
  /** Called once, when the connection is closed for `reason`. */
  closed(connection: Connection, reason: CloseReason): void;
  /** Called when the lifetime of an idle connection ran out and it was retired. */
  expiredWhileIdle(connection: Connection): void;
  /** The connection became busy (`+1`) or stopped being busy (`-1`): keeps the pool's gauges O(1). */
  busyChanged(delta: 1 | -1): void;
}

/** Error of a request that reached a slot whose socket had already closed: nothing was written. */
export class StaleConnectionError extends HttpsPoolError {
  constructor(id: string) {
    super('ERR_BERTH_UPSTREAM_RESET', `connection ${id} closed before the request was written`, { connectionId: id, notSent: true });
  }
}

/**
 * One pool slot: one TCP/TLS connection dialled by the pool, driven by its own undici
 * `Client` with pipelining 1, so this connection alone can be counted, validated, aged and
 * retired. The client never dials: its `connect` hands over the socket already verified,
 * and refuses to reconnect (a slot whose socket closed is retired, never silently redialled).
 */
export class Connection {
  /** Unique in the process, e.g. `h1-https://api.example.com-17`. */
  readonly id: string;
  /** Monotonic milliseconds of creation. */
  readonly createdAt: number;
  /** When the jittered lifetime runs out (monotonic ms); `Infinity` when disabled. */
  readonly expiresAt: number;
  /** TLS facts, absent for cleartext. */
  readonly tls: TlsHandshakeInfo | undefined;
  /** DNS + TCP + TLS time, in milliseconds. */
  readonly connectMs: number;
  /** Requests started on it (validation requests excluded). */
  requestCount = 0;
  /** Requests that failed on it. */
  errorCount = 0;
  /** Last time a request started or ended on it. */
  lastUsedAt: number;
  /** Last time a health request passed on it. */
  lastValidatedAt: number;

  readonly #options: ResolvedOptions;
  readonly #hooks: ConnectionHooks;
  readonly #socket: Socket;
  /** Created on first use: an idle pre-warmed connection needs no undici `Client` (≈4 KB each). */
  #client: Client | undefined;
  /** Created with the first request, like the client. */
  #deadline: ResponseDeadline | undefined;
  #handedOver = false;
  #phase: ConnectionPhase;
  #reusable = true;
  #expired = false;
  #disconnectError: Error | undefined;

  constructor(id: string, dialed: DialedSocket, options: ResolvedOptions, hooks: ConnectionHooks) {
    const now = options.clock.now();
    this.id = id;
    this.createdAt = now;
    this.lastUsedAt = now;
    this.lastValidatedAt = now;
    this.tls = dialed.tls;
    this.connectMs = dialed.connectMs;
    this.#options = options;
    this.#hooks = hooks;
    this.#socket = dialed.socket;
    this.#phase = { t: 'idle', since: now };

    // The socket may fail before undici attaches its own listeners: never an unlistened 'error'.
    this.#socket.on('error', (error: Error) => {
      this.#disconnectError ??= error;
    });
    this.#socket.once('close', () => this.#socketClosed());

    if (options.maxLifetimeMs > 0) {
      // HikariCP subtracts up to 2.5 % "to avoid mass die-off"; Go maintainers ask for a
      // duration with jitter (golang/go#79664). ±lifetimeJitter spreads reconnects both ways.
      const jitter = (2 * options.random.next() - 1) * options.lifetimeJitter;
      const lifetime = Math.max(1, Math.round(options.maxLifetimeMs * (1 + jitter)));
      // Timed by the pool's one LifetimeSchedule (no timer per connection).
      this.expiresAt = now + lifetime;
    } else {
      this.expiresAt = Number.POSITIVE_INFINITY;
    }
  }

  /**
   * The undici `Client` driving this socket, created on first use. It never dials: its
   * `connect` hands over the socket already verified, once, and refuses to reconnect.
   */
  #driver(): Client {
    if (this.#client !== undefined) return this.#client;
    const options = this.#options;
    const client = new Client(options.originString, {
      pipelining: 1,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      // A server's `Keep-Alive: timeout=` hint is honoured (minus the threshold) up to idleTimeoutMs.
      keepAliveMaxTimeout: Math.max(options.keepAliveTimeoutMs, options.idleTimeoutMs),
      keepAliveTimeoutThreshold: options.keepAliveTimeoutThresholdMs,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      // undici expects the callback asynchronously, as its own connector calls it from a
      // socket event: a synchronous call lands inside its resume loop and is dropped.
      connect: (_opts, callback) => {
        queueMicrotask(() => {
          if (this.#handedOver || this.#socket.destroyed) {
            callback(new StaleConnectionError(this.id), null);
            return;
          }
          this.#handedOver = true;
          callback(null, this.#socket);
        });
      },
    });
    client.on('disconnect', (_origin: URL, _targets: unknown, error: Error) => {
      this.#disconnectError ??= error;
    });
    client.on('connectionError', () => {});
    this.#client = client;
    return client;
  }

  /** The phase deadlines of the response on this connection (one at a time: pipelining 1). */
  responseDeadline(): ResponseDeadline {
    return (this.#deadline ??= new ResponseDeadline(this.#options.clock));
  }

  /** Moves to `next`, telling the pool when the connection starts or stops being busy. */
  #enter(next: ConnectionPhase): void {
    const wasBusy = this.#phase.t === 'busy';
    this.#phase = next;
    const isBusy = next.t === 'busy';
    if (wasBusy !== isBusy) this.#hooks.busyChanged(isBusy ? 1 : -1);
  }

  /** Current phase. */
  get phase(): ConnectionPhase {
    return this.#phase;
  }

  /** True when the connection is open, idle, and may carry another request. */
  isUsable(): boolean {
    const max = this.#options.maxRequestsPerConnection;
    return (
      (this.#phase.t === 'idle' || this.#phase.t === 'validating') &&
      this.#reusable &&
      !this.#expired &&
      !this.#socket.destroyed &&
      (max === 0 || this.requestCount < max)
    );
  }

  /** Why this connection should not be lent again, or undefined if it may be. */
  retireReason(): CloseReason | undefined {
    if (this.#phase.t === 'closed') return this.#phase.reason;
    if (this.#expired) return 'lifetime';
    if (!this.#reusable || this.#socket.destroyed) return 'broken';
    const max = this.#options.maxRequestsPerConnection;
    if (max !== 0 && this.requestCount >= max) return 'max-requests';
    return undefined;
  }

  /** The server asked to close (`Connection: close`) or the exchange left the socket unusable. */
  markNotReusable(): void {
    this.#reusable = false;
  }

  /** Starts a request on this connection at `now` (the pool's clock reading). */
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler, now: number): void {
    this.#enter({ t: 'busy', since: now });
    this.requestCount += 1;
    this.lastUsedAt = now;
    this.#driver().dispatch(options, handler);
  }

  /** Lends the connection to a caller that will not send through the pool (`HttpsPool.acquire`). */
  lease(now: number): void {
    this.#enter({ t: 'busy', since: now });
    this.lastUsedAt = now;
  }

  /**
   * The request on this connection finished (or failed); the connection is idle again. A
   * failed one is never lent again: undici destroys the socket of an HTTP/1.1 exchange it
   * aborts (unread response bytes would desynchronize the next one), just after reporting
   * the failure, so without this the connection would be released for a moment with a
   * socket about to close (and then counted as closed `idle`, not `broken`).
   */
  finished(failed: boolean): void {
    if (failed) {
      this.errorCount += 1;
      this.#reusable = false;
    }
    if (this.#phase.t === 'closed') return;
    const now = this.#options.clock.now();
    this.lastUsedAt = now;
    this.#enter({ t: 'idle', since: now });
  }

  /**
   * Sends the health request (single-flight). A status not accepted, a `Connection: close`
   * answer (the connection is going away — never "healthy", ANCHORS §2) or any failure
   * retires the connection with reason `invalid`.
   */
  validate(): Promise<ValidationResult> {
    const phase = this.#phase;
    if (phase.t === 'validating') return phase.check;
    if (phase.t !== 'idle') return Promise.resolve({ ok: false, reason: `connection is ${phase.t}` });
    const check = this.#runValidation().then((result) => {
      if (this.#phase.t === 'validating') this.#phase = { t: 'idle', since: phase.since };
      if (result.ok) this.lastValidatedAt = this.#options.clock.now();
      else this.close('invalid');
      return result;
    });
    this.#phase = { t: 'validating', since: phase.since, check };
    return check;
  }

  async #runValidation(): Promise<ValidationResult> {
    const v = this.#options.validation;
    try {
      const response = await this.#driver().request({
        method: v.method,
        path: v.path,
        headersTimeout: v.timeoutMs,
        bodyTimeout: v.timeoutMs,
      });
      await response.body.dump();
      const connection = response.headers['connection'];
      if (typeof connection === 'string' && connection.toLowerCase().includes('close')) {
        return { ok: false, reason: 'connection: close' };
      }
      if (!v.acceptStatus(response.statusCode)) return { ok: false, reason: `status ${response.statusCode}` };
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Closes the connection (idempotent). Any request still on it fails. */
  close(reason: CloseReason): void {
    if (this.#phase.t === 'closed') return;
    this.#enter({ t: 'closed', reason, at: this.#options.clock.now() });
    this.#deadline?.dispose();
    // A request still on a connection the pool closes gets ERR_BERTH_CLOSED, as promised by
    // close(); any other reason means the socket is gone (mapped to ERR_BERTH_UPSTREAM_RESET).
    const error = reason === 'closed' ? new PoolClosedError(`connection ${this.id} closed by the pool`) : null;
    this.#client?.destroy(error).catch(ignore);
    this.#socket.destroy();
    this.#hooks.closed(this, reason);
  }

  /** A snapshot for `connections()` and events. */
  info(): ConnectionInfo {
    const t = this.#phase.t;
    return {
      id: this.id,
      protocol: 'http/1.1',
      createdAt: this.createdAt,
      lastUsedAt: this.lastUsedAt,
      requestCount: this.requestCount,
      errorCount: this.errorCount,
      ...(this.tls === undefined ? {} : { tls: this.tls }),
      state: t === 'validating' ? 'idle' : t,
    };
  }

  /** The jittered lifetime ran out (the pool's {@link LifetimeSchedule} calls this). */
  lifetimeEnded(): void {
    this.#expired = true;
    // Never mid-request: a busy connection is retired when its request ends.
    if (this.#phase.t === 'idle' || this.#phase.t === 'validating') {
      this.close('lifetime');
      this.#hooks.expiredWhileIdle(this);
    }
  }

  #socketClosed(): void {
    const phase = this.#phase;
    if (phase.t === 'closed') return;
    // undici closes an idle socket itself when its keep-alive runs out ("socket idle timeout").
    const code = (this.#disconnectError as { code?: string } | undefined)?.code;
    this.close(phase.t !== 'busy' && code === 'UND_ERR_INFO' ? 'idle' : 'broken');
  }
}

function ignore(): void {}

import type { RequestOptions, ResponseData } from './request.js';

/**
 * The lifecycle every connection, session, socket and component goes through, exposed by
 * `state()`: `connecting → ready → draining → closed`, or `errored`.
 */
export type LifecycleState = 'connecting' | 'ready' | 'draining' | 'closed' | 'errored';

/** Options of a graceful `close()`. */
export interface CloseOptions {
  /**
   * Milliseconds to let in-flight work finish after new work is refused; then everything
   * left is destroyed and its callers get `ERR_BERTH_CLOSED`. Default: the component's.
   */
  readonly deadlineMs?: number;
}

/** A snapshot every transport gives, whatever it is made of. */
export interface TransportStats {
  /** What the transport is: `https-pool`, `h2-multiplexer`, `geo-router`, `resilience` … */
  readonly kind: string;
  /** Its name (from options; defaults to the origin). Used as the `name` metric label. */
  readonly name: string;
  /** The origin it serves, when it serves one. */
  readonly origin?: string;
  /** Its lifecycle state. */
  readonly state: LifecycleState;
  /** Requests started since creation. */
  readonly requests: number;
  /** Requests currently in flight (sent, response not yet complete). */
  readonly inFlight: number;
  /** Requests waiting for a connection or slot. */
  readonly queued: number;
  /** Requests that ended with an error since creation. */
  readonly errors: number;
}

/**
 * Anything that carries requests: https-pool, h2-multiplexer, geo-router (over other
 * transports) and resilience (around one). Composition in Berth happens through this type.
 */
export interface Transport {
  /** Sends one request; resolves when the response head arrives. Rejects only with `BerthError`s. */
  request(options: RequestOptions): Promise<ResponseData>;
  /** A synchronous snapshot for dashboards and control loops. */
  stats(): TransportStats;
  /** Graceful close: refuse new work, finish in-flight up to a deadline, then destroy. Idempotent. */
  close(options?: CloseOptions): Promise<void>;
}

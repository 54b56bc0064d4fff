import type { LifecycleState, TransportStats } from './transport.js';
import type { Protocol } from './request.js';

/**
 * Why a connection was closed. Feeds `berth_connections_closed_total{reason}`.
 * - `idle`: unused for longer than the idle timeout.
 * - `lifetime`: reached its (jittered) maximum age.
 * - `max-requests`: served its maximum number of requests.
 * - `broken`: the peer closed or reset it, or a keep-alive probe failed.
 * - `invalid`: a validation request failed or answered `Connection: close`.
 * - `error`: a request on it failed in a way that leaves it unusable.
 * - `resize`: the pool shrank.
 * - `goaway`: the HTTP/2 peer sent GOAWAY and its streams finished.
 * - `closed`: the pool itself closed.
 */
export type CloseReason =
  | 'idle'
  | 'lifetime'
  | 'max-requests'
  | 'broken'
  | 'invalid'
  | 'error'
  | 'resize'
  | 'goaway'
  | 'closed';

/** Every close reason, for building zeroed counters. */
export const CLOSE_REASONS: readonly CloseReason[] = [
  'idle',
  'lifetime',
  'max-requests',
  'broken',
  'invalid',
  'error',
  'resize',
  'goaway',
  'closed',
];

/** A latency summary in milliseconds over a recent window. Zero counts give zero values. */
export interface LatencySummary {
  /** Samples in the window. */
  readonly count: number;
  /** Mean, in milliseconds. */
  readonly meanMs: number;
  /** Median, in milliseconds. */
  readonly p50Ms: number;
  /** 99th percentile, in milliseconds. */
  readonly p99Ms: number;
  /** Largest sample, in milliseconds. */
  readonly maxMs: number;
}

/** Facts of the TLS handshake of one connection. */
export interface TlsHandshakeInfo {
  /** Negotiated version, e.g. `TLSv1.3`. */
  readonly version: string;
  /** Negotiated cipher suite (OpenSSL name), e.g. `TLS_AES_256_GCM_SHA384`. */
  readonly cipher: string;
  /** Protocol chosen by ALPN (`h2`, `http/1.1`), or `false` when none was negotiated. */
  readonly alpn: string | false;
  /** True when the session was resumed from a ticket (abbreviated handshake). */
  readonly resumed: boolean;
  /** TCP connect + TLS handshake, in milliseconds. */
  readonly handshakeMs: number;
}

/** State of one connection (or HTTP/2 session, or WebSocket). */
export type ConnectionState = LifecycleState | 'idle' | 'busy';

/** Everything known about one live connection. */
export interface ConnectionInfo {
  /** Unique within the process, e.g. `h1-api.example.com:443-17`. */
  readonly id: string;
  /** Protocol spoken on it. */
  readonly protocol: Protocol | 'websocket';
  /** Creation time, monotonic milliseconds of the component's clock. */
  readonly createdAt: number;
  /** Last time a request started or ended on it, monotonic milliseconds; `createdAt` if never used. */
  readonly lastUsedAt: number;
  /** Requests started on it. */
  readonly requestCount: number;
  /** Requests that failed on it. */
  readonly errorCount: number;
  /** TLS facts; absent for cleartext connections. */
  readonly tls?: TlsHandshakeInfo;
  /** Current state. */
  readonly state: ConnectionState;
}

/** Acquire outcomes, bb8-style. */
export interface AcquireCounts {
  /** A connection was free at once. */
  readonly direct: number;
  /** The caller waited, then got a connection. */
  readonly waited: number;
  /** The caller gave up after `acquireTimeoutMs`. */
  readonly timedOut: number;
  /** Rejected at once because the waiting queue was full. */
  readonly rejected: number;
}

/** The snapshot of a connection pool: the numbers dashboards and the scaler read. */
export interface PoolStats extends TransportStats {
  /** Connections open or opening. */
  readonly size: number;
  /** Open connections with no request. */
  readonly idle: number;
  /** Connections carrying a request. */
  readonly busy: number;
  /** Connections being opened. */
  readonly connecting: number;
  /** Callers waiting for a connection. */
  readonly pending: number;
  /** The live size limit (changed by `resize`). */
  readonly target: number;
  /** Connections opened since creation. */
  readonly created: number;
  /** Connections closed since creation, by reason. */
  readonly destroyed: Readonly<Record<CloseReason, number>>;
  /** Connection attempts that failed. */
  readonly connectErrors: number;
  /** Acquire outcomes. */
  readonly acquires: AcquireCounts;
  /** Time callers waited for a connection, over the recent window. */
  readonly acquireWait: LatencySummary;
  /**
   * Milliseconds waited by every completed acquire since creation (direct ones add 0).
   * Its change divided by the change in `acquires.direct + acquires.waited` is the exact mean
   * wait over any interval, which a fixed-size window cannot give (it mixes in older load).
   */
  readonly acquireWaitTotalMs: number;
  /** Requests that went on a connection that had served one before. */
  readonly reusedRequests: number;
  /** `reusedRequests / requests`, 0 when there were none. */
  readonly reuseRate: number;
}

/** Bounds a pool may be resized within. */
export interface PoolBounds {
  /** Smallest size `resize` accepts. */
  readonly min: number;
  /** Largest size `resize` accepts. */
  readonly max: number;
}

/**
 * A pool whose size can change at runtime. https-pool implements it; adaptive-scaler
 * drives it. `resize` clamps nothing silently: a target outside `bounds` throws `ERR_BERTH_CONFIG`.
 */
export interface ResizablePool {
  /** The pool's snapshot. */
  stats(): PoolStats;
  /** Sets the live size limit. Growing serves the next waiter; shrinking retires idle connections first and never aborts a request. */
  resize(target: number): void;
  /** The resize bounds. */
  readonly bounds: PoolBounds;
}

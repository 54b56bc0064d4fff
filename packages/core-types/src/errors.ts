/**
 * Every error code Berth raises. Callers and tests match on `code`, never on the message.
 * A code is stable once published; the message may improve.
 */
export type ErrorCode =
  /** Options failed validation; `problems` lists every bad field at once. */
  | 'ERR_BERTH_CONFIG'
  /** The component was closed (or is closing) and accepts no more work. */
  | 'ERR_BERTH_CLOSED'
  /** The caller's `AbortSignal` fired. */
  | 'ERR_BERTH_ABORTED'
  /** The request's overall deadline (`timeoutMs`) passed. */
  | 'ERR_BERTH_TIMEOUT'
  /** No response headers within `headersTimeoutMs`. */
  | 'ERR_BERTH_HEADERS_TIMEOUT'
  /** The response body stalled for longer than `bodyTimeoutMs`. */
  | 'ERR_BERTH_BODY_TIMEOUT'
  /** The TCP connection (or TLS handshake) was not established within `connectTimeoutMs`. */
  | 'ERR_BERTH_CONNECT_TIMEOUT'
  /** The peer refused the TCP connection (ECONNREFUSED). */
  | 'ERR_BERTH_CONNECT_REFUSED'
  /** The connection could not be made for another reason (unreachable network, EMFILE…). */
  | 'ERR_BERTH_CONNECT_FAILED'
  /** The host name could not be resolved. */
  | 'ERR_BERTH_DNS'
  /** The peer's certificate has expired or is not yet valid. */
  | 'ERR_BERTH_TLS_EXPIRED'
  /** The peer's certificate does not cover the host name (or IP) that was dialled. */
  | 'ERR_BERTH_TLS_HOSTNAME'
  /** The peer's certificate chain does not lead to a trusted CA. */
  | 'ERR_BERTH_TLS_UNTRUSTED'
  /** The peer's public key matches none of the configured SPKI pins. */
  | 'ERR_BERTH_TLS_PIN_MISMATCH'
  /** The handshake failed for another reason (protocol version, cipher, alert, reset mid-handshake). */
  | 'ERR_BERTH_TLS_HANDSHAKE'
  /** No connection became free within `acquireTimeoutMs`; the message carries the pool state. */
  | 'ERR_BERTH_ACQUIRE_TIMEOUT'
  /** A bounded queue (waiters, queued streams, bulkhead) is full; rejected at once. */
  | 'ERR_BERTH_QUEUE_FULL'
  /** The connection was reset or closed by the peer before the response completed. */
  | 'ERR_BERTH_UPSTREAM_RESET'
  /** An HTTP/2 GOAWAY (RFC 9113 §6.8) ended the stream and it could not be retried. */
  | 'ERR_BERTH_GOAWAY'
  /** The server refused the HTTP/2 stream (REFUSED_STREAM, RFC 9113 §8.7) and the retry failed too. */
  | 'ERR_BERTH_REFUSED_STREAM'
  /** The peer broke the HTTP protocol (malformed response, HTTP/2 PROTOCOL_ERROR…). */
  | 'ERR_BERTH_PROTOCOL'
  /** A keep-alive PING got no answer in time; the connection is considered dead. */
  | 'ERR_BERTH_PING_TIMEOUT'
  /** The response body exceeded `maxResponseBytes`. */
  | 'ERR_BERTH_BODY_TOO_LARGE'
  /** The request itself is invalid (CRLF in a header, bad method or path); nothing was sent. */
  | 'ERR_BERTH_INVALID_REQUEST'
  /** A circuit breaker is open; `details.retryAt` says when it half-opens. */
  | 'ERR_BERTH_CIRCUIT_OPEN'
  /** A rate limit would have been exceeded for longer than `maxWaitMs`. */
  | 'ERR_BERTH_RATE_LIMITED'
  /** A pinned region (or every allowed region) is unavailable; never re-routed outside the pin. */
  | 'ERR_BERTH_REGION_UNAVAILABLE'
  /** The WebSocket send buffer is full and the overflow policy is `reject`. */
  | 'ERR_BERTH_WS_BUFFER_FULL'
  /** A buffered WebSocket message outlived its `ttlMs` before a socket was ready. */
  | 'ERR_BERTH_WS_EXPIRED'
  /** A buffered WebSocket message was dropped by the `drop-oldest`/`drop-newest` policy. */
  | 'ERR_BERTH_WS_DROPPED'
  /** The WebSocket (or pool) closed before the message could be written. */
  | 'ERR_BERTH_WS_CLOSED'
  /** The WebSocket opening handshake failed (HTTP status, timeout, bad upgrade). */
  | 'ERR_BERTH_WS_HANDSHAKE'
  /** A bug in Berth: an invariant did not hold. Please report it. */
  | 'ERR_BERTH_INTERNAL';

/** Every code, for exhaustive checks and docs. Kept in the order of {@link ErrorCode}. */
export const ERROR_CODES: readonly ErrorCode[] = [
  'ERR_BERTH_CONFIG',
  'ERR_BERTH_CLOSED',
  'ERR_BERTH_ABORTED',
  'ERR_BERTH_TIMEOUT',
  'ERR_BERTH_HEADERS_TIMEOUT',
  'ERR_BERTH_BODY_TIMEOUT',
  'ERR_BERTH_CONNECT_TIMEOUT',
  'ERR_BERTH_CONNECT_REFUSED',
  'ERR_BERTH_CONNECT_FAILED',
  'ERR_BERTH_DNS',
  'ERR_BERTH_TLS_EXPIRED',
  'ERR_BERTH_TLS_HOSTNAME',
  'ERR_BERTH_TLS_UNTRUSTED',
  'ERR_BERTH_TLS_PIN_MISMATCH',
  'ERR_BERTH_TLS_HANDSHAKE',
  'ERR_BERTH_ACQUIRE_TIMEOUT',
  'ERR_BERTH_QUEUE_FULL',
  'ERR_BERTH_UPSTREAM_RESET',
  'ERR_BERTH_GOAWAY',
  'ERR_BERTH_REFUSED_STREAM',
  'ERR_BERTH_PROTOCOL',
  'ERR_BERTH_PING_TIMEOUT',
  'ERR_BERTH_BODY_TOO_LARGE',
  'ERR_BERTH_INVALID_REQUEST',
  'ERR_BERTH_CIRCUIT_OPEN',
  'ERR_BERTH_RATE_LIMITED',
  'ERR_BERTH_REGION_UNAVAILABLE',
  'ERR_BERTH_WS_BUFFER_FULL',
  'ERR_BERTH_WS_EXPIRED',
  'ERR_BERTH_WS_DROPPED',
  'ERR_BERTH_WS_CLOSED',
  'ERR_BERTH_WS_HANDSHAKE',
  'ERR_BERTH_INTERNAL',
];

/**
 * Options of every Berth error: the underlying `cause`, plus structured details
 * (pool state, host, retry time …) that logs and callers can read without parsing the message.
 */
export interface BerthErrorOptions {
  /** The error that led to this one (a Node `Error` with its own `code`, an undici error …). */
  readonly cause?: unknown;
  /** Structured facts about the failure; every one of them also appears in the message. */
  readonly [detail: string]: unknown;
}

/**
 * Base class of every error Berth raises. Packages subclass it in their own `errors.ts`
 * with a fixed `code`, constructed as `new XError(message, { cause, ...details })`.
 */
export class BerthError extends Error {
  /** Stable, machine-readable reason. */
  readonly code: ErrorCode;
  /** Structured details given at construction (everything but `cause`). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: BerthErrorOptions = {}) {
    const { cause, ...details } = options;
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.details = details;
  }

  override get name(): string {
    return 'BerthError';
  }
}

/**
 * True when `error` is a Berth error (optionally with one of `codes`). Works across two copies
 * of this package in one process, where `instanceof` does not.
 */
export function isBerthError(error: unknown, ...codes: ErrorCode[]): error is BerthError {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('ERR_BERTH_')) return false;
  return codes.length === 0 || codes.includes(code as ErrorCode);
}

/** One invalid option: where it is, what was expected, and what was received. */
export interface ConfigProblem {
  /** Dotted path of the option, e.g. `pool.maxConnections` or `regions.eu.origin`. */
  readonly path: string;
  /** What a valid value looks like, e.g. `an integer in [1, 10000]`. */
  readonly expected: string;
  /** The value that was given, rendered for the message (strings quoted, objects summarized). */
  readonly received: string;
}

/**
 * `ERR_BERTH_CONFIG`: options failed validation. Lists every problem at once so a user fixes
 * a configuration in one pass, never one field per restart.
 */
export class ConfigError extends BerthError {
  /** Every invalid option, in the order they were checked. */
  readonly problems: readonly ConfigProblem[];

  constructor(component: string, problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  - ${p.path}: expected ${p.expected}, received ${p.received}`);
    super(
      'ERR_BERTH_CONFIG',
      `Invalid ${component} options (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
      { component, problems },
    );
    this.problems = problems;
  }
}

import { BerthError, isBerthError } from '@berth/core-types';
import type { BerthErrorOptions } from '@berth/core-types';

/** `ERR_BERTH_CLOSED`: the multiplexer (or the session under a request) was closed. */
export class ClosedError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_CLOSED', message, options);
  }
}

/** `ERR_BERTH_QUEUE_FULL`: `maxQueued` requests already wait for a stream slot. */
export class QueueFullError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_QUEUE_FULL', message, options);
  }
}

/** `ERR_BERTH_ACQUIRE_TIMEOUT`: no stream slot became free within `acquireTimeoutMs`. */
export class AcquireTimeoutError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_ACQUIRE_TIMEOUT', message, options);
  }
}

/** `ERR_BERTH_ABORTED`: the caller's signal fired, or the request body stream failed. */
export class AbortedError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_ABORTED', message, options);
  }
}

/** `ERR_BERTH_TIMEOUT`: the request's overall deadline passed before the response head. */
export class RequestTimeoutError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_TIMEOUT', message, options);
  }
}

/** `ERR_BERTH_HEADERS_TIMEOUT`: no response head within `headersTimeoutMs` of sending. */
export class HeadersTimeoutError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_HEADERS_TIMEOUT', message, options);
  }
}

/** `ERR_BERTH_BODY_TIMEOUT`: the response body was silent for longer than `bodyTimeoutMs`. */
export class BodyTimeoutError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_BODY_TIMEOUT', message, options);
  }
}

/** `ERR_BERTH_BODY_TOO_LARGE`: the response body exceeded `maxResponseBytes`. */
export class BodyTooLargeError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_BODY_TOO_LARGE', message, options);
  }
}

/** `ERR_BERTH_GOAWAY`: GOAWAY (RFC 9113 §6.8) ended the stream and it could not be replayed. */
export class GoawayError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_GOAWAY', message, options);
  }
}

/** `ERR_BERTH_REFUSED_STREAM`: REFUSED_STREAM (RFC 9113 §8.7) twice, or once on a body that cannot be replayed. */
export class RefusedStreamError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_REFUSED_STREAM', message, options);
  }
}

/** `ERR_BERTH_UPSTREAM_RESET`: the stream or session was reset before the response completed. */
export class UpstreamResetError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_UPSTREAM_RESET', message, options);
  }
}

/** `ERR_BERTH_PROTOCOL`: the peer broke HTTP/2 (PROTOCOL_ERROR, no `h2` from ALPN …). */
export class ProtocolError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_PROTOCOL', message, options);
  }
}

/** `ERR_BERTH_PING_TIMEOUT`: a PING got no ACK within `pingTimeoutMs`; the session is dead. */
export class PingTimeoutError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_PING_TIMEOUT', message, options);
  }
}

/** `ERR_BERTH_INVALID_REQUEST`: bad method, path or header; nothing was sent. */
export class InvalidRequestError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_INVALID_REQUEST', message, options);
  }
}

/** `ERR_BERTH_CONNECT_TIMEOUT`: TCP + TLS + SETTINGS did not finish within `connectTimeoutMs`. */
export class ConnectTimeoutError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_CONNECT_TIMEOUT', message, options);
  }
}

/** `ERR_BERTH_CONNECT_REFUSED` or `ERR_BERTH_CONNECT_FAILED`: the session could not be opened. */
export class ConnectError extends BerthError {
  constructor(code: 'ERR_BERTH_CONNECT_REFUSED' | 'ERR_BERTH_CONNECT_FAILED', message: string, options: BerthErrorOptions = {}) {
    super(code, message, options);
  }
}

/** `ERR_BERTH_TLS_*`: certificate verification failed (default connector only; tls-config classifies its own). */
export class TlsError extends BerthError {
  constructor(code: 'ERR_BERTH_TLS_EXPIRED' | 'ERR_BERTH_TLS_HOSTNAME' | 'ERR_BERTH_TLS_UNTRUSTED', message: string, options: BerthErrorOptions = {}) {
    super(code, message, options);
  }
}

/** OpenSSL / Node verification codes and the Berth code each maps to. */
const TLS_CODES: Readonly<Record<string, 'ERR_BERTH_TLS_EXPIRED' | 'ERR_BERTH_TLS_HOSTNAME' | 'ERR_BERTH_TLS_UNTRUSTED'>> = {
  CERT_HAS_EXPIRED: 'ERR_BERTH_TLS_EXPIRED',
  CERT_NOT_YET_VALID: 'ERR_BERTH_TLS_EXPIRED',
  ERR_TLS_CERT_ALTNAME_INVALID: 'ERR_BERTH_TLS_HOSTNAME',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'ERR_BERTH_TLS_UNTRUSTED',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'ERR_BERTH_TLS_UNTRUSTED',
  SELF_SIGNED_CERT_IN_CHAIN: 'ERR_BERTH_TLS_UNTRUSTED',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'ERR_BERTH_TLS_UNTRUSTED',
};

/**
 * Turns a dial failure into a Berth error: connector errors (`ERR_BERTH_TLS_*`,
 * `ERR_BERTH_CONNECT_*`) pass through, Node socket errors are classified.
 */
export function toConnectError(error: unknown, origin: string): BerthError {
  if (isBerthError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const tlsCode = typeof code === 'string' ? TLS_CODES[code] : undefined;
  if (tlsCode !== undefined) return new TlsError(tlsCode, `TLS to ${origin} failed: ${message}`, { cause: error, origin });
  if (code === 'ECONNREFUSED') return new ConnectError('ERR_BERTH_CONNECT_REFUSED', `connection to ${origin} refused`, { cause: error, origin });
  return new ConnectError('ERR_BERTH_CONNECT_FAILED', `could not open an HTTP/2 session to ${origin}: ${message}`, { cause: error, origin });
}


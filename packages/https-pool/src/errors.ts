import { BerthError } from '@berth/core-types';
import type { BerthErrorOptions, ErrorCode } from '@berth/core-types';

/**
 * An error raised by `@berth/https-pool`. The code says why; `cause` holds the Node, undici
 * or connector error underneath. Constructed as `(code, message, { cause, ...details })`
 * because one failure family (connect, TLS, upstream) maps onto several stable codes.
 */
export class HttpsPoolError extends BerthError {
  constructor(code: ErrorCode, message: string, options: BerthErrorOptions = {}) {
    super(code, message, options);
  }
}

/** `ERR_BERTH_CLOSED`: the pool is closing or closed and accepts no more work. */
export class PoolClosedError extends HttpsPoolError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_CLOSED', message, options);
  }
}

/** `ERR_BERTH_ACQUIRE_TIMEOUT`: no connection became free in time; the message carries the pool state. */
export class AcquireTimeoutError extends HttpsPoolError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_ACQUIRE_TIMEOUT', message, options);
  }
}

/** `ERR_BERTH_QUEUE_FULL`: `maxWaiting` callers already wait; rejected at once. */
export class QueueFullError extends HttpsPoolError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_QUEUE_FULL', message, options);
  }
}

/** `ERR_BERTH_INVALID_REQUEST`: the request is malformed (CRLF in a header, bad method or path); nothing was sent. */
export class InvalidRequestError extends HttpsPoolError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_INVALID_REQUEST', message, options);
  }
}

/** `ERR_BERTH_ABORTED`: the caller's `AbortSignal` fired. */
export class AbortedError extends HttpsPoolError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_ABORTED', message, options);
  }
}

/** `ERR_BERTH_BODY_TOO_LARGE`: the response body went past `maxResponseBytes`. */
export class BodyTooLargeError extends HttpsPoolError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_BODY_TOO_LARGE', message, options);
  }
}

/** `ERR_BERTH_BODY_TIMEOUT`: the response body sent nothing for `bodyTimeoutMs` while it was being read. */
export class BodyTimeoutError extends HttpsPoolError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_BODY_TIMEOUT', message, options);
  }
}

/** `ERR_BERTH_HEADERS_TIMEOUT`: no response head within `headersTimeoutMs` of sending the request. */
export class HeadersTimeoutError extends HttpsPoolError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_HEADERS_TIMEOUT', message, options);
  }
}

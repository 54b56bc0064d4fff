import { BerthError } from '@berth/core-types';
import type { BerthErrorOptions } from '@berth/core-types';

/** `ERR_BERTH_WS_BUFFER_FULL`: the send buffer is at `maxBufferedMessages`/`maxBufferedBytes` and the policy is `reject`. */
export class WsBufferFullError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_WS_BUFFER_FULL', message, options);
  }
}

/** `ERR_BERTH_WS_EXPIRED`: a buffered message outlived its `ttlMs` before it could be written. */
export class WsExpiredError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_WS_EXPIRED', message, options);
  }
}

/** `ERR_BERTH_ABORTED`: the sender's `AbortSignal` fired while the message was still waiting (blocked or buffered). */
export class WsAbortedError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_ABORTED', message, options);
  }
}

/** `ERR_BERTH_WS_DROPPED`: a buffered message was pushed out by the `drop-oldest` / `drop-newest` policy. */
export class WsDroppedError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_WS_DROPPED', message, options);
  }
}

/**
 * `ERR_BERTH_WS_CLOSED`: the pool, channel or socket closed (or gave up reconnecting) before the
 * message was written. `details.maybeDelivered` is true for a message that had been written but
 * not acknowledged: the server may have it.
 */
export class WsClosedError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_WS_CLOSED', message, options);
  }
}

/** `ERR_BERTH_WS_HANDSHAKE`: the opening handshake failed (HTTP status, timeout, bad upgrade, `onOpen` hook). */
export class WsHandshakeError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_WS_HANDSHAKE', message, options);
  }
}

/** `ERR_BERTH_PING_TIMEOUT`: no pong (and no other frame) within `pongTimeoutMs`; the socket was terminated. */
export class WsPingTimeoutError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_PING_TIMEOUT', message, options);
  }
}

/** `ERR_BERTH_ACQUIRE_TIMEOUT`: no exclusive socket became free within `lease.acquireTimeoutMs`. */
export class WsAcquireTimeoutError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_ACQUIRE_TIMEOUT', message, options);
  }
}

/** `ERR_BERTH_QUEUE_FULL`: too many callers wait for a lease, or every socket holds `maxChannelsPerSocket` channels. */
export class WsQueueFullError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_QUEUE_FULL', message, options);
  }
}

/** `ERR_BERTH_CLOSED`: the pool is closed and accepts no new channels or leases. */
export class WsPoolClosedError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_CLOSED', message, options);
  }
}

/** `ERR_BERTH_INVALID_REQUEST`: a message the codec cannot encode, or a payload over `maxPayloadBytes`. */
export class WsInvalidMessageError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_INVALID_REQUEST', message, options);
  }
}

/** `ERR_BERTH_TIMEOUT`: `ready()` did not see every socket ready within its deadline. */
export class WsTimeoutError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_TIMEOUT', message, options);
  }
}

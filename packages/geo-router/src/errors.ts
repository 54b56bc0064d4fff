import { BerthError } from '@berth/core-types';
import type { BerthErrorOptions } from '@berth/core-types';

/**
 * `ERR_BERTH_REGION_UNAVAILABLE`: the pinned region (or every region the request may use) is
 * ejected or was already tried. The router never re-routes outside a pin or `allowedRegions`.
 * Details: `regions` (the ones allowed), `retryAt` (monotonic ms when the first comes back, if known).
 */
export class RegionUnavailableError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_REGION_UNAVAILABLE', message, options);
  }
}

/** `ERR_BERTH_CLOSED`: the router is closed (or closing) and takes no more requests. */
export class RouterClosedError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_CLOSED', message, options);
  }
}

/** `ERR_BERTH_ABORTED`: the caller's signal fired between or during attempts. */
export class RouterAbortedError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_ABORTED', message, options);
  }
}

/** `ERR_BERTH_TIMEOUT`: the request's overall `timeoutMs` passed across its attempts. */
export class RouterTimeoutError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_TIMEOUT', message, options);
  }
}

/** `ERR_BERTH_HEADERS_TIMEOUT`: one attempt got no response head within `attemptTimeoutMs`. */
export class AttemptTimeoutError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_HEADERS_TIMEOUT', message, options);
  }
}

/** `ERR_BERTH_INTERNAL`: a region transport broke its contract (rejected with a non-Berth error). */
export class RouterInternalError extends BerthError {
  constructor(message: string, options: BerthErrorOptions = {}) {
    super('ERR_BERTH_INTERNAL', message, options);
  }
}

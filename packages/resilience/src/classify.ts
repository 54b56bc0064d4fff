import { isBerthError } from '@berth/core-types';
import type { ErrorCode } from '@berth/core-types';

/**
 * Failures where the request did not get a response head and replaying an idempotent request
 * is safe and useful: the connection could not be made, or it broke before the response
 * (undici's retry handler retries the same family: ECONNRESET, ECONNREFUSED, ENOTFOUND,
 * UND_ERR_SOCKET …; RFC 9113 §8.7 says a REFUSED_STREAM was not processed).
 * TLS verification failures are not here: they do not heal in a backoff's time.
 */
export const RETRYABLE_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ERR_BERTH_CONNECT_REFUSED',
  'ERR_BERTH_CONNECT_TIMEOUT',
  'ERR_BERTH_CONNECT_FAILED',
  'ERR_BERTH_DNS',
  'ERR_BERTH_UPSTREAM_RESET',
  'ERR_BERTH_GOAWAY',
  'ERR_BERTH_REFUSED_STREAM',
  'ERR_BERTH_HEADERS_TIMEOUT',
  'ERR_BERTH_PING_TIMEOUT',
  'ERR_BERTH_TIMEOUT',
]);

/**
 * Errors that say nothing about the upstream's health: the caller gave up, Berth refused
 * locally, or the request itself was bad. They neither open nor close a breaker.
 */
const NEUTRAL_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ERR_BERTH_CONFIG',
  'ERR_BERTH_CLOSED',
  'ERR_BERTH_ABORTED',
  'ERR_BERTH_INVALID_REQUEST',
  'ERR_BERTH_CIRCUIT_OPEN',
  'ERR_BERTH_RATE_LIMITED',
  'ERR_BERTH_QUEUE_FULL',
  'ERR_BERTH_ACQUIRE_TIMEOUT',
  'ERR_BERTH_BODY_TOO_LARGE',
  'ERR_BERTH_REGION_UNAVAILABLE',
]);

/** What an outcome means to a circuit breaker. */
export type BreakerOutcome = 'success' | 'failure' | 'ignore';

/** Breaker meaning of an error thrown by a transport (or any function a breaker runs). */
export function breakerOutcomeOfError(error: unknown): BreakerOutcome {
  if (isBerthError(error) && NEUTRAL_ERROR_CODES.has(error.code)) return 'ignore';
  return 'failure';
}

/** True when a transport error may be retried (for an idempotent, replayable request). */
export function isRetryableError(error: unknown): boolean {
  return isBerthError(error) && RETRYABLE_ERROR_CODES.has(error.code);
}

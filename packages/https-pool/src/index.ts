/**
 * @packageDocumentation
 * HTTP/1.1 connection pool: generic-pool slots over undici Clients, pre-warmed, validated, aged and observable.
 */
export { createHttpsPool, HttpsPool } from './https-pool.js';
export type { AcquireOptions, ConnectionLease } from './https-pool.js';
export type { DnsOptions, HttpsPoolOptions, ValidationOptions } from './options.js';
/** Validates pool options without opening anything (the facade reports every section's problems at once). */
export { resolveOptions as resolveHttpsPoolOptions } from './options.js';
export type { ResolvedOptions as ResolvedHttpsPoolOptions } from './options.js';
export {
  DEFAULT_ACQUIRE_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_LIFETIME_MS,
  DEFAULT_MIN_IDLE,
  DEFAULT_VALIDATE_AFTER_IDLE_MS,
} from './options.js';
export {
  AbortedError,
  AcquireTimeoutError,
  BodyTimeoutError,
  BodyTooLargeError,
  HeadersTimeoutError,
  HttpsPoolError,
  InvalidRequestError,
  PoolClosedError,
  QueueFullError,
} from './errors.js';

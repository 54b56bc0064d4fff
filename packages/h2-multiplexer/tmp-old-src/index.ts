/**
 * @packageDocumentation
 * HTTP/2 sessions over node:http2: stream slots, a priority queue, adaptive flow-control windows and GOAWAY handling.
 */
export { createH2Multiplexer, H2Multiplexer } from './multiplexer.js';
export { resolveOptions as resolveH2MultiplexerOptions } from './options.js';
export type { H2MultiplexerOptions, ResolvedOptions as ResolvedH2MultiplexerOptions } from './options.js';
export {
  DEFAULT_ACQUIRE_TIMEOUT_MS,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_CLOSE_DEADLINE_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_CONNECTION_WINDOW_BYTES,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_AGE_JITTER,
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MAX_CONCURRENT_STREAMS,
  DEFAULT_MAX_QUEUED,
  DEFAULT_MAX_RETRIES,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MAX_WINDOW_BYTES,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PING_TIMEOUT_MS,
  DEFAULT_STREAM_WINDOW_BYTES,
} from './options.js';
export type { H2MultiplexerStats, H2SessionStats, RetryReason } from './stats.js';
export { BdpEstimator } from './bdp-estimator.js';
export type { BdpEstimatorOptions } from './bdp-estimator.js';
export {
  AbortedError,
  AcquireTimeoutError,
  BodyTimeoutError,
  BodyTooLargeError,
  ClosedError,
  ConnectError,
  ConnectTimeoutError,
  GoawayError,
  HeadersTimeoutError,
  InvalidRequestError,
  PingTimeoutError,
  ProtocolError,
  QueueFullError,
  RefusedStreamError,
  RequestTimeoutError,
  TlsError,
  UpstreamResetError,
} from './errors.js';

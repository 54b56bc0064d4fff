/**
 * @packageDocumentation
 * WebSocket pool over ws: heartbeat, jittered reconnect, bounded send buffer, channels,
 * exclusive leases and make-before-break rotation.
 */
export { createWsPool, WsPool } from './ws-pool.js';
export type { WsChannelOptions, WsPoolStats } from './ws-pool.js';
export { WsChannel } from './channel.js';
export type { WsChannelStats, WsSendOptions } from './channel.js';
export { WsLease } from './lease.js';
export type { WsFrame, WsOpenContext } from './open-context.js';
export type { WsSendResult } from './outbound.js';
export type { WsSocketStats } from './pooled-socket.js';
export type { OverflowPolicy, ResolvedWsPoolOptions, WsLeaseOptions, WsPoolOptions } from './options.js';
/** Validates pool options without opening anything (the facade reports every section's problems at once). */
export { resolveOptions as resolveWsPoolOptions } from './options.js';
export {
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_BACKOFF_CAP_MS,
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_MARK_BYTES,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_BUFFERED_MESSAGES,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PONG_TIMEOUT_MS,
  DEFAULT_TTL_MS,
} from './options.js';
export { createJsonEnvelopeCodec, jsonEnvelopeCodec } from './codec.js';
export type { JsonEnvelopeHooks, WsCodec, WsInbound } from './codec.js';
export { classifyClose, parseRetryAfterMs } from './close-policy.js';
export type { CloseClassifier, CloseDecision, CloseInfo, ClosePolicy } from './close-policy.js';
export { fullJitterDelayMs } from './backoff.js';
export type { BackoffParams } from './backoff.js';
export {
  WsAbortedError,
  WsAcquireTimeoutError,
  WsBufferFullError,
  WsClosedError,
  WsDroppedError,
  WsExpiredError,
  WsHandshakeError,
  WsInvalidMessageError,
  WsPingTimeoutError,
  WsPoolClosedError,
  WsQueueFullError,
  WsTimeoutError,
} from './errors.js';

/**
 * @packageDocumentation
 * Contracts shared by every Berth package. Functional packages depend on this package only,
 * and meet each other through these types (DESIGN.md, "The one rule of dependencies").
 */

// Errors
export { BerthError, ConfigError, ERROR_CODES, isBerthError } from './errors.js';
export type { BerthErrorOptions, ConfigProblem, ErrorCode } from './errors.js';
export { OptionChecker, describeValue } from './option-checker.js';
export type { NumberRule } from './option-checker.js';

// Time, randomness, logging
export { systemClock, systemRandom } from './clock.js';
export type { Clock, Random, TimerHandle } from './clock.js';
export { silentLogger } from './logger.js';
export type { LogFields, Logger } from './logger.js';

// Requests and transports
export { IDEMPOTENT_METHODS, MAX_TIMER_MS, invalidRequestTimeouts } from './request.js';
export type {
  HttpMethod,
  Protocol,
  RequestBody,
  RequestHeaders,
  RequestOptions,
  RequestTimings,
  ResponseData,
  ResponseHeaders,
  ResponseMeta,
  Urgency,
} from './request.js';
export type { CloseOptions, LifecycleState, Transport, TransportStats } from './transport.js';

// Pools and connections
export { CLOSE_REASONS } from './pool.js';
export type {
  AcquireCounts,
  CloseReason,
  ConnectionInfo,
  ConnectionState,
  LatencySummary,
  PoolBounds,
  PoolStats,
  ResizablePool,
  TlsHandshakeInfo,
} from './pool.js';

// TLS
export type { TlsConnector, TlsTarget } from './tls.js';

// Events (diagnostics channels)
export { REQUEST_CHANNELS } from './events.js';
export type {
  BerthEvent,
  ComponentIdentity,
  ComponentKind,
  EventError,
  RequestEndMessage,
  RequestStartMessage,
} from './events.js';
export { HTTPS_POOL_CHANNELS } from './events-https-pool.js';
export type {
  AcquireMessage,
  ConnectErrorMessage,
  ConnectionClosedMessage,
  ConnectionCreatedMessage,
  PoolGaugesMessage,
  PoolResizeMessage,
  ValidationMessage,
} from './events-https-pool.js';
export { H2_CHANNELS } from './events-h2.js';
export type {
  H2GoawayMessage,
  H2PingMessage,
  H2RetryMessage,
  H2SessionClosedMessage,
  H2SessionCreatedMessage,
  H2StreamsMessage,
  H2WindowMessage,
} from './events-h2.js';
export { WS_CHANNELS } from './events-ws.js';
export type {
  WsBufferMessage,
  WsHeartbeatMessage,
  WsMessageLostMessage,
  WsReconnectMessage,
  WsRotationMessage,
  WsSocketState,
  WsStateMessage,
} from './events-ws.js';
export { GEO_CHANNELS } from './events-geo.js';
export type {
  GeoEjectedMessage,
  GeoEstimateMessage,
  GeoFailoverMessage,
  GeoHedgeMessage,
  GeoRegionSwitchMessage,
  GeoRestoredMessage,
} from './events-geo.js';
export { SCALER_CHANNELS } from './events-scaler.js';
export type { ScalerDecisionMessage, ScalerResizeErrorMessage } from './events-scaler.js';
export { RESILIENCE_CHANNELS } from './events-resilience.js';
export type {
  BreakerState,
  BreakerStateMessage,
  RateAdjustedMessage,
  RejectedMessage,
  RetryMessage,
  ThrottledMessage,
} from './events-resilience.js';
export { TLS_CHANNELS } from './events-tls.js';
export type {
  CertExpiringMessage,
  TlsHandshakeErrorMessage,
  TlsHandshakeMessage,
  TlsReloadMessage,
} from './events-tls.js';

import { GEO_CHANNELS as GEO } from './events-geo.js';
import { H2_CHANNELS as H2 } from './events-h2.js';
import { HTTPS_POOL_CHANNELS as HTTPS_POOL } from './events-https-pool.js';
import { RESILIENCE_CHANNELS as RESILIENCE } from './events-resilience.js';
import { SCALER_CHANNELS as SCALER } from './events-scaler.js';
import { TLS_CHANNELS as TLS } from './events-tls.js';
import { WS_CHANNELS as WS } from './events-ws.js';
import { REQUEST_CHANNELS as REQUEST } from './events.js';

/** Every `berth:*` channel name, for subscribers that want them all (metrics, tests, leak checks). */
export const ALL_CHANNELS: readonly string[] = [REQUEST, HTTPS_POOL, H2, WS, GEO, SCALER, RESILIENCE, TLS].flatMap(
  (group) => Object.values(group),
);

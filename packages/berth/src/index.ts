/**
 * @packageDocumentation
 * The facade: `createBerth(config)` wires TLS, pools, routing, scaling, resilience and
 * metrics together. Each package also works on its own (`@berth/https-pool` …); this package
 * re-exports the types an application needs and nothing internal.
 */

export { createBerth } from './create-berth.js';
export { Berth } from './berth.js';
export type { BerthStats, RegionStatsNode } from './berth.js';
export { DEFAULT_REGION } from './options.js';
export type { BerthConfig, BerthResilienceOptions, ProtocolChoice, RegionOptions } from './options.js';
export type { RegionTransportStats } from './region-transport.js';
export { BerthChannel, BerthWebSocket } from './websocket.js';
export type { BerthWebSocketStats } from './websocket.js';

// The contracts users meet through the facade.
export { BerthError, ConfigError, ERROR_CODES, isBerthError } from '@berth/core-types';
export type {
  ConfigProblem,
  ErrorCode,
  Logger,
  PoolStats,
  RequestOptions,
  ResponseData,
  ResponseMeta,
  Transport,
  TransportStats,
  Urgency,
} from '@berth/core-types';
export type { TlsConfig, TlsConfigOptions } from '@berth/tls-config';
export type { HttpsPoolOptions } from '@berth/https-pool';
export type { H2MultiplexerOptions } from '@berth/h2-multiplexer';
export type { WsChannel, WsChannelOptions, WsPool, WsPoolOptions, WsSendOptions, WsSendResult } from '@berth/ws-pool';
export type { GeoRouterOptions, GeoRouterStats } from '@berth/geo-router';
export type { ScalerOptions } from '@berth/adaptive-scaler';
export type { CollectMetricsOptions, MetricsCollector, TraceRequestsOptions } from '@berth/metrics';

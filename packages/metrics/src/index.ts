/**
 * @packageDocumentation
 * Prometheus metrics, OpenTelemetry spans and structured logs from Berth's diagnostics-channel events.
 */
export { collectMetrics } from './collector.js';
export type { MetricsCollector } from './collector.js';
export { traceRequests, TRACER_NAME } from './tracer.js';
export type { RequestTracer } from './tracer.js';
export { createConsoleLogger, createPinoLogger } from './logger.js';
export type { PinoLike } from './logger.js';
export { logEvents } from './log-events.js';
export type { EventLogger } from './log-events.js';
export { REDACTED } from './redact.js';
export {
  DEFAULT_AGE_BUCKETS,
  DEFAULT_HANDSHAKE_BUCKETS,
  DEFAULT_MAX_COMPONENTS,
  DEFAULT_MAX_LABEL_VALUES,
  DEFAULT_PREFIX,
  DEFAULT_REDACTED_HEADERS,
  DEFAULT_REQUEST_BUCKETS,
  DEFAULT_WAIT_BUCKETS,
} from './options.js';
/** Validate options without subscribing (the facade reports every section's problems at once). */
export { resolveCollectOptions, resolveTraceOptions } from './options.js';
export type {
  BucketOptions,
  CollectMetricsOptions,
  ConsoleLike,
  ConsoleLoggerOptions,
  LogEventsOptions,
  LoggerAdapterOptions,
  LogLevel,
  TraceRequestsOptions,
} from './options.js';
export { METRIC_DEFINITIONS } from './metric-set.js';
export type { MetricName } from './metric-set.js';

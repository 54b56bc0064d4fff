/**
 * @packageDocumentation
 * Prometheus metrics, OpenTelemetry spans and structured logs from Berth's diagnostics-channel events.
 */
export { collectMetrics } from './collector.js';
export type { MetricsCollector } from './collector.js';
export { traceRequests, TRACER_NAME } from './tracer.js';
export type { RequestTracer } from './tracer.js';

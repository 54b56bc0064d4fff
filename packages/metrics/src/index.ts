/**
 * @packageDocumentation
 * Prometheus metrics, OpenTelemetry spans and structured logs from Berth's diagnostics-channel events.
 */
export {};

import { OptionChecker } from '@berth/core-types';
import type { Metric, Registry } from 'prom-client';
import { IDENTITY_LABELS } from './labels.js';
import type { ResolvedCollectOptions } from './options.js';
import { CounterMetric, GaugeMetric, HistogramMetric } from './series.js';

type Kind = 'counter' | 'gauge' | 'histogram';
// `count`: request counts, not seconds (`connection_requests`).
type BucketKey = keyof ResolvedCollectOptions['buckets'] | 'count';

interface Definition {
  readonly kind: Kind;
  readonly help: string;
  readonly labels: readonly string[];
  readonly buckets?: BucketKey;
}

const counter = (help: string, ...labels: string[]) => ({ kind: 'counter' as const, help, labels });
const gauge = (help: string, ...labels: string[]) => ({ kind: 'gauge' as const, help, labels });
const histogram = (help: string, buckets: BucketKey, ...labels: string[]) => ({ kind: 'histogram' as const, help, labels, buckets });

/**
 * Every metric, by name without the prefix. Names follow Prometheus conventions (`_total`
 * counters, base units `_seconds`/`_bytes`); every metric also carries the identity labels
 * `kind`, `name`, `origin`, `region` except `events_total`. No label ever holds a path or an id.
 */
export const METRIC_DEFINITIONS = {
  // Pools (https-pool gauges; h2 sessions count as connections too)
  connections: gauge('Connections of a pool by state (idle, busy, connecting).', 'state'),
  pool_waiters: gauge('Callers waiting for a connection.'),
  pool_target: gauge('The live size limit of a pool.'),
  pool_resizes_total: counter('Changes of the live size limit, by direction.', 'direction'),
  connections_created_total: counter('Connections (and HTTP/2 sessions) opened, by protocol.', 'protocol'),
  connections_closed_total: counter('Connections (and HTTP/2 sessions) closed, by reason.', 'reason'),
  connection_age_seconds: histogram('Age of connections when they closed.', 'connectionAgeSeconds'),
  connection_requests: histogram('Requests carried by a connection over its life, observed at close.', 'count'),
  connect_errors_total: counter('Failed attempts to open a connection, by error code.', 'code'),
  connect_consecutive_failures: gauge('Connection attempts failed in a row (0 once one succeeds): alert when it stays above 0.'),
  acquire_total: counter('Connection acquisitions by outcome (direct, waited, timeout, rejected).', 'outcome'),
  acquire_wait_seconds: histogram('Time callers waited for a connection (direct and waited acquisitions).', 'waitSeconds'),
  validations_total: counter('Validation requests on idle connections, by outcome.', 'outcome'),
  // Requests (leaf transports)
  requests_total: counter('Request attempts by status class, protocol and connection reuse.', 'status_class', 'protocol', 'reused'),
  request_duration_seconds: histogram('Time from the request call to the response head.', 'requestDurationSeconds', 'protocol'),
  requests_in_flight: gauge('Request attempts started and not yet answered.'),
  request_errors_total: counter('Failed request attempts, by error code.', 'code'),
  // TLS
  tls_handshake_seconds: histogram('TCP connect plus TLS handshake time, by resumption.', 'handshakeSeconds', 'resumed', 'version'),
  tls_handshake_errors_total: counter('Failed TLS handshakes, by error code.', 'code'),
  tls_certificate_expiry_timestamp_seconds: gauge('Expiry of a certificate seen (peer) or used (client), Unix seconds.', 'which', 'subject'),
  tls_reloads_total: counter('TLS configuration reloads, by outcome.', 'outcome'),
  // HTTP/2
  h2_sessions: gauge('Open HTTP/2 sessions.'),
  h2_streams_active: gauge('Open HTTP/2 streams over all sessions.'),
  h2_streams_capacity: gauge('HTTP/2 stream capacity over all ready sessions.'),
  h2_streams_queued: gauge('Requests queued for a stream slot, by RFC 9218 urgency.', 'urgency'),
  h2_goaway_total: counter('GOAWAY frames received (RFC 9113 §6.8), by HTTP/2 error code.', 'error_code'),
  h2_stream_retries_total: counter('Streams retried on another session, by reason.', 'reason'),
  h2_ping_rtt_seconds: histogram('HTTP/2 PING round trips.', 'handshakeSeconds'),
  h2_ping_timeouts_total: counter('HTTP/2 PINGs that got no ACK in time.'),
  h2_bdp_bytes: gauge('Last bandwidth-delay-product estimate of a session.'),
  h2_stream_window_bytes: gauge('Last initial stream window advertised.'),
  h2_connection_window_bytes: gauge('Last connection window of a session.'),
  // WebSocket
  ws_sockets: gauge('Pooled WebSockets by state (closed sockets are not counted).', 'state'),
  ws_time_to_ready_seconds: histogram('Time from connecting to ready (handshake and onOpen hook; failed attempts since it was last ready included).', 'handshakeSeconds'),
  ws_reconnects_total: counter('WebSocket reconnects scheduled, by the close code that ended the previous connection.', 'close_code'),
  ws_messages_dropped_total: counter('Messages not delivered (their sender was told), by reason.', 'reason'),
  ws_dropped_bytes_total: counter('Bytes of messages not delivered, by reason.', 'reason'),
  ws_buffered_messages: gauge('Messages in the send buffer.'),
  ws_buffered_bytes: gauge('Bytes in the send buffer.'),
  ws_heartbeat_rtt_seconds: histogram('WebSocket ping round trips.', 'handshakeSeconds'),
  ws_heartbeat_timeouts_total: counter('WebSockets terminated for a missing pong.'),
  ws_rotations_total: counter('WebSockets replaced make-before-break, by reason.', 'reason'),
  // Regions (the `region` label is the region the value is about)
  region_latency_estimate_seconds: gauge('Peak-EWMA latency estimate of a region.'),
  region_pending_requests: gauge('Requests in flight to a region.'),
  region_healthy: gauge('1 when a region is healthy, 0 while it is ejected.'),
  region_switches_total: counter('Changes of the preferred region.', 'from_region', 'to_region', 'reason'),
  region_ejections_total: counter('Regions ejected by outlier detection, by reason.', 'reason'),
  region_restorations_total: counter('Ejected regions that came back.'),
  failovers_total: counter('Requests retried in another region after a failure.', 'from_region', 'to_region', 'code'),
  hedges_total: counter('Hedged copies of requests sent.', 'primary_region', 'secondary_region'),
  hedge_outcomes_total: counter('Hedged requests settled, by which copy answered first (primary, secondary).', 'winner'),
  // Scaler
  scaler_target: gauge('Pool size the scaler decided on.'),
  scaler_decisions_total: counter('Scaler decisions by action and reason (holds included).', 'action', 'reason'),
  scaler_input: gauge('Inputs of the last scaler decision (acquire wait, utilization, gradient …).', 'input'),
  scaler_resize_errors_total: counter('resize() calls of the scaler that failed, by error code.', 'code'),
  // Resilience
  retries_total: counter('Retries scheduled, by the error code or HTTP status that caused them.', 'reason'),
  breaker_state: gauge('Circuit breaker state: 1 for the current state, 0 for the others.', 'key', 'state'),
  breaker_transitions_total: counter('Circuit breaker state changes, by new state.', 'key', 'state'),
  rate_limited_total: counter('Requests held back by a rate limit: delayed for a token, paused by an upstream Retry-After, or rejected.', 'outcome'),
  rate_limit_wait_seconds: histogram('Time requests waited for a rate-limit token.', 'waitSeconds'),
  rate_limit_requests_per_second: gauge('Rate a limiter enforces now (AIMD: lowered on 429, raised back after).', 'key'),
  rate_limit_configured_requests_per_second: gauge('Rate a limiter was configured with.', 'key'),
  rate_limit_adjustments_total: counter('Rate changes of a limiter, by reason (throttled, recovered).', 'key', 'reason'),
  rejections_total: counter('Requests refused by a policy (circuit open, rate limited, bulkhead full), by error code.', 'code'),
  // Everything
  events_total: counter('Berth diagnostics-channel events seen, by channel.', 'channel'),
} as const satisfies Record<string, Definition>;

/** Metric names (without prefix). */
export type MetricName = keyof typeof METRIC_DEFINITIONS;

type MetricOf<D> = D extends { kind: 'counter' } ? CounterMetric : D extends { kind: 'gauge' } ? GaugeMetric : HistogramMetric;

/** The live prom-client metrics of one collector. */
export type MetricSet = { readonly [K in MetricName]: MetricOf<(typeof METRIC_DEFINITIONS)[K]> };

const REQUEST_COUNT_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000, 10000];

/**
 * Registers every metric of {@link METRIC_DEFINITIONS} in the registry. Throws `ERR_BERTH_CONFIG`
 * (before registering anything) when a name is already taken, e.g. by a collector not stopped.
 */
export function createMetricSet(options: ResolvedCollectOptions): MetricSet {
  const { registry, prefix } = options;
  const names = Object.keys(METRIC_DEFINITIONS) as MetricName[];
  const c = new OptionChecker('metrics');
  const taken = names.filter((n) => registry.getSingleMetric(prefix + n) !== undefined);
  if (taken.length > 0) {
    c.problem(
      'prefix',
      `a prefix whose metrics are not registered yet in this registry (${prefix}${taken[0]} is; stop() the other collector or choose another prefix)`,
      prefix,
    );
  }
  c.done();
  const set: Record<string, CounterMetric | GaugeMetric | HistogramMetric> = {};
  for (const name of names) {
    const def: Definition = METRIC_DEFINITIONS[name];
    const labelNames = name === 'events_total' ? [...def.labels] : [...IDENTITY_LABELS, ...def.labels];
    let metric: CounterMetric | GaugeMetric | HistogramMetric;
    if (def.kind === 'counter') metric = new CounterMetric(prefix + name, def.help, labelNames);
    else if (def.kind === 'gauge') metric = new GaugeMetric(prefix + name, def.help, labelNames);
    else {
      const key = def.buckets ?? 'count';
      metric = new HistogramMetric(prefix + name, def.help, labelNames, key === 'count' ? REQUEST_COUNT_BUCKETS : options.buckets[key]);
    }
    // The Registry only uses name, type, get() and reset() (see series.ts), which these provide.
    registry.registerMetric(metric as unknown as Metric);
    set[name] = metric;
  }
  return set as unknown as MetricSet;
}

/** Removes the metrics of `set` from the registry, leaving any other metric that took one of their names since. */
export function removeMetricSet(registry: Registry, prefix: string, set: MetricSet): void {
  // By the registered name: an OpenMetrics registry renames counters in place (drops `_total`).
  for (const name of Object.keys(METRIC_DEFINITIONS) as MetricName[]) {
    if ((registry.getSingleMetric(prefix + name) as unknown) === set[name]) registry.removeSingleMetric(prefix + name);
  }
}

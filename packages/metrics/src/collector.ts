import {
  ALL_CHANNELS,
  GEO_CHANNELS,
  H2_CHANNELS,
  HTTPS_POOL_CHANNELS,
  REQUEST_CHANNELS,
  RESILIENCE_CHANNELS,
  SCALER_CHANNELS,
  TLS_CHANNELS,
  WS_CHANNELS,
} from '@berth/core-types';
import type {
  AcquireMessage,
  BerthEvent,
  BreakerState,
  BreakerStateMessage,
  CertExpiringMessage,
  ConnectErrorMessage,
  ConnectionClosedMessage,
  ConnectionCreatedMessage,
  GeoEjectedMessage,
  GeoEstimateMessage,
  GeoFailoverMessage,
  GeoHedgeMessage,
  GeoRegionSwitchMessage,
  GeoRestoredMessage,
  H2GoawayMessage,
  H2PingMessage,
  H2RetryMessage,
  H2SessionClosedMessage,
  H2SessionCreatedMessage,
  H2StreamsMessage,
  H2WindowMessage,
  PoolGaugesMessage,
  PoolResizeMessage,
  RateAdjustedMessage,
  RejectedMessage,
  RequestEndMessage,
  RequestStartMessage,
  RetryMessage,
  ScalerDecisionMessage,
  ScalerResizeErrorMessage,
  ThrottledMessage,
  TlsHandshakeErrorMessage,
  TlsHandshakeMessage,
  TlsReloadMessage,
  ValidationMessage,
  WsBufferMessage,
  WsHeartbeatMessage,
  WsMessageLostMessage,
  WsReconnectMessage,
  WsRotationMessage,
  WsSocketState,
  WsStateMessage,
} from '@berth/core-types';
import type { Registry } from 'prom-client';
import { LabelGuard, statusClass, statusClassIndex } from './labels.js';
import type { IdentityLabels } from './labels.js';
import { createMetricSet, removeMetricSet } from './metric-set.js';
import type { MetricSet } from './metric-set.js';
import type { CounterSeries, GaugeSeries } from './series.js';
import { resolveCollectOptions } from './options.js';
import type { CollectMetricsOptions, ResolvedCollectOptions } from './options.js';
import { subscribeAll } from './subscriptions.js';
import { sampledTraceOf, TRACEPARENT } from './trace-context.js';
import type { ChannelHandler } from './subscriptions.js';

/** What {@link collectMetrics} returns. */
export interface MetricsCollector {
  /** The registry the metrics live in (`registry.metrics()` renders the exposition). */
  readonly registry: Registry;
  /** The metric name prefix in use. */
  readonly prefix: string;
  /** Unsubscribes from every channel and removes this collector's metrics from the registry. Idempotent. */
  stop(): void;
}

const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half-open'];
const URGENCIES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7'];
const ms = (value: number): number => value / 1000;

/**
 * Subscribes to every `berth:*` diagnostics channel ({@link ALL_CHANNELS}) and keeps prom-client
 * metrics from the events: pools, requests, TLS, HTTP/2, WebSocket, regions, scaler and
 * resilience (see the README for the full list). Labels are the publisher's identity
 * (`kind`, `name`, `origin`, `region`) plus bounded values; never a path or an id.
 *
 * @throws ConfigError `ERR_BERTH_CONFIG` for invalid options, or when the registry already
 *   holds metrics with this prefix.
 * @example
 * const collector = collectMetrics({ registry: new Registry() });
 * app.get('/metrics', async () => collector.registry.metrics());
 */
export function collectMetrics(options?: CollectMetricsOptions): MetricsCollector {
  const resolved = resolveCollectOptions(options);
  const m = createMetricSet(resolved);
  const guard = new LabelGuard(resolved.maxComponents, resolved.maxLabelValues);
  const handlers = buildHandlers(m, guard, resolved);
  const unsubscribe = subscribeAll(handlers, resolved.logger, 'metrics');
  let stopped = false;
  return {
    registry: resolved.registry,
    prefix: resolved.prefix,
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      removeMetricSet(resolved.registry, resolved.prefix, m);
    },
  };
}

function perIdentity<T>(build: (labels: IdentityLabels) => T): (labels: IdentityLabels) => T {
  const cache = new WeakMap<IdentityLabels, T>();
  return (labels) => {
    let value = cache.get(labels);
    if (value === undefined) {
      value = build(labels);
      cache.set(labels, value);
    }
    return value;
  };
}

interface WsSocket {
  state: WsSocketState;
  /** Clock time the current connection attempt began, until it is ready. */
  connectingSince: number | undefined;
}

function buildHandlers(m: MetricSet, guard: LabelGuard, { clock, exemplars }: ResolvedCollectOptions): Map<string, ChannelHandler> {
  const id = (event: BerthEvent): IdentityLabels => guard.identity(event.component);
  const bounded = (metric: string, label: string, value: string | number): string => guard.value(metric, label, String(value));
  const region = (name: string): string => bounded('region', 'region', name);
  const wsSockets = new WeakMap<IdentityLabels, Map<string, WsSocket>>();
  // Requests and the two gauge messages that come with every request (pool gauges, h2 stream
  // slots) resolve their series once per component instead of once per value.
  const requestSeries = perIdentity((labels) => ({
    inFlight: m.requests_in_flight.labels(labels),
    totals: [] as (CounterSeries | undefined)[],
    duration: m.request_duration_seconds.labels(labels, { protocol: 'http/1.1' }),
    h2Duration: m.request_duration_seconds.labels(labels, { protocol: 'h2' }),
  }));
  // Acquisitions come once per request too: by outcome, resolved on first use.
  const acquireSeries = perIdentity((labels) => ({
    totals: new Map<string, CounterSeries>(),
    wait: m.acquire_wait_seconds.labels(labels),
  }));
  const poolGauges = perIdentity((labels) => ({
    idle: m.connections.labels(labels, { state: 'idle' }),
    busy: m.connections.labels(labels, { state: 'busy' }),
    connecting: m.connections.labels(labels, { state: 'connecting' }),
    waiters: m.pool_waiters.labels(labels),
    target: m.pool_target.labels(labels),
  }));
  const streamGauges = perIdentity((labels) => ({
    active: m.h2_streams_active.labels(labels),
    capacity: m.h2_streams_capacity.labels(labels),
    queued: URGENCIES.map((urgency) => m.h2_streams_queued.labels(labels, { urgency })),
  }));
  // Marks the start messages this collector counted, so an attempt that started before it did
  // cannot drive the in-flight gauge below zero. A symbol only this collector holds, set on the
  // message (publishers hand out plain, unfrozen objects; the tracer writes traceparent into
  // them too), instead of a WeakSet: an add and a delete per request in an ephemeron table
  // cost more than the counters they guard.
  const counted = Symbol('berth.metrics.counted');
  type Marked = RequestStartMessage & { [counted]?: boolean };

  const on: Record<string, (message: never) => void> = {
    // Requests
    [REQUEST_CHANNELS.start]: (e: RequestStartMessage) => {
      (e as Marked)[counted] = true;
      requestSeries(id(e)).inFlight.inc();
    },
    [REQUEST_CHANNELS.end]: (e: RequestEndMessage) => {
      const labels = id(e);
      const r = requestSeries(labels);
      const start = e.start as Marked;
      if (start[counted] === true) {
        start[counted] = false;
        r.inFlight.dec();
      }
      // The per-request counter by a small index, not a label object: (status class, protocol, reused).
      const slot = statusClassIndex(e.status) * 4 + (e.protocol === 'h2' ? 2 : 0) + (e.reused ? 1 : 0);
      let total = r.totals[slot];
      if (total === undefined) {
        total = m.requests_total.labels(labels, { status_class: statusClass(e.status), protocol: e.protocol, reused: e.reused ? 'true' : 'false' });
        r.totals[slot] = total;
      }
      total.inc();
      const duration = e.protocol === 'h2' ? r.h2Duration : r.duration;
      const trace = exemplars ? sampledTraceOf(e.start.headers[TRACEPARENT]) : undefined;
      duration.observe(ms(e.timings.totalMs), trace && { traceId: trace.traceId, spanId: trace.spanId, timestampMs: clock.wallNow() });
      if (e.error !== undefined) m.request_errors_total.labels(labels, { code: e.error.code }).inc();
    },

    // https-pool
    [HTTPS_POOL_CHANNELS.connectionCreated]: (e: ConnectionCreatedMessage) => {
      m.connections_created_total.labels(id(e), { protocol: e.connection.protocol }).inc();
      m.connect_consecutive_failures.labels(id(e)).set(0);
    },
    [HTTPS_POOL_CHANNELS.connectionClosed]: (e: ConnectionClosedMessage) => closed(e, e.reason, e.ageMs, e.requestCount),
    [HTTPS_POOL_CHANNELS.connectError]: (e: ConnectErrorMessage) => {
      m.connect_errors_total.labels(id(e), { code: e.error.code }).inc();
      m.connect_consecutive_failures.labels(id(e)).set(e.consecutiveFailures);
    },
    [HTTPS_POOL_CHANNELS.acquire]: (e: AcquireMessage) => {
      const labels = id(e);
      const a = acquireSeries(labels);
      let total = a.totals.get(e.outcome);
      if (total === undefined) {
        total = m.acquire_total.labels(labels, { outcome: e.outcome });
        a.totals.set(e.outcome, total);
      }
      total.inc();
      // bb8's get_wait_time counts only acquisitions that got a connection; timeouts would
      // pile up at the deadline and hide the real wait distribution.
      if (e.outcome === 'direct' || e.outcome === 'waited') a.wait.observe(ms(e.waitMs));
    },
    [HTTPS_POOL_CHANNELS.validation]: (e: ValidationMessage) =>
      m.validations_total.labels(id(e), { outcome: e.ok ? 'ok' : 'failed' }).inc(),
    [HTTPS_POOL_CHANNELS.resize]: (e: PoolResizeMessage) => {
      const labels = id(e);
      m.pool_target.labels(labels).set(e.to);
      if (e.to !== e.from) m.pool_resizes_total.labels(labels, { direction: e.to > e.from ? 'up' : 'down' }).inc();
    },
    [HTTPS_POOL_CHANNELS.gauges]: (e: PoolGaugesMessage) => {
      const g = poolGauges(id(e));
      g.idle.set(e.idle);
      g.busy.set(e.busy);
      g.connecting.set(e.connecting);
      g.waiters.set(e.pending);
      g.target.set(e.target);
    },

    // h2-multiplexer
    [H2_CHANNELS.sessionCreated]: (e: H2SessionCreatedMessage) => {
      const labels = id(e);
      m.h2_sessions.labels(labels).inc();
      m.connections_created_total.labels(labels, { protocol: 'h2' }).inc();
    },
    [H2_CHANNELS.sessionClosed]: (e: H2SessionClosedMessage) => {
      m.h2_sessions.labels(id(e)).dec();
      closed(e, e.reason, e.ageMs, e.streamCount);
    },
    [H2_CHANNELS.goaway]: (e: H2GoawayMessage) =>
      m.h2_goaway_total.labels(id(e), { error_code: bounded('h2_goaway_total', 'error_code', e.errorCode) }).inc(),
    [H2_CHANNELS.streams]: (e: H2StreamsMessage) => {
      const g = streamGauges(id(e));
      g.active.set(e.active);
      g.capacity.set(e.capacity);
      // RFC 9218 urgencies are 0..7; set all eight so an emptied queue reads 0, not its last value.
      for (let urgency = 0; urgency < 8; urgency += 1) (g.queued[urgency] as GaugeSeries).set(e.queuedByUrgency[urgency] ?? 0);
    },
    [H2_CHANNELS.window]: (e: H2WindowMessage) => {
      const labels = id(e);
      m.h2_bdp_bytes.labels(labels).set(e.bdpBytes);
      m.h2_stream_window_bytes.labels(labels).set(e.streamWindowBytes);
      m.h2_connection_window_bytes.labels(labels).set(e.connectionWindowBytes);
    },
    [H2_CHANNELS.ping]: (e: H2PingMessage) => {
      if (e.timedOut) m.h2_ping_timeouts_total.labels(id(e)).inc();
      if (e.rttMs !== undefined) m.h2_ping_rtt_seconds.labels(id(e)).observe(ms(e.rttMs));
    },
    [H2_CHANNELS.retry]: (e: H2RetryMessage) => m.h2_stream_retries_total.labels(id(e), { reason: e.reason }).inc(),

    // ws-pool
    [WS_CHANNELS.state]: (e: WsStateMessage) => wsState(e),
    [WS_CHANNELS.reconnect]: (e: WsReconnectMessage) =>
      m.ws_reconnects_total.labels(id(e), { close_code: bounded('ws_reconnects_total', 'close_code', e.closeCode) }).inc(),
    [WS_CHANNELS.messageLost]: (e: WsMessageLostMessage) => {
      const labels = id(e);
      m.ws_messages_dropped_total.labels(labels, { reason: e.reason }).inc();
      m.ws_dropped_bytes_total.labels(labels, { reason: e.reason }).inc(e.bytes);
    },
    [WS_CHANNELS.heartbeat]: (e: WsHeartbeatMessage) => {
      if (e.timedOut) m.ws_heartbeat_timeouts_total.labels(id(e)).inc();
      if (e.rttMs !== undefined) m.ws_heartbeat_rtt_seconds.labels(id(e)).observe(ms(e.rttMs));
    },
    [WS_CHANNELS.buffer]: (e: WsBufferMessage) => {
      m.ws_buffered_messages.labels(id(e)).set(e.messages);
      m.ws_buffered_bytes.labels(id(e)).set(e.bytes);
    },
    [WS_CHANNELS.rotation]: (e: WsRotationMessage) =>
      m.ws_rotations_total.labels(id(e), { reason: bounded('ws_rotations_total', 'reason', e.reason) }).inc(),

    // geo-router: the `region` label is the region the value is about, not the router's own.
    [GEO_CHANNELS.estimate]: (e: GeoEstimateMessage) => {
      const labels = id(e);
      const about = { region: region(e.regionName) };
      m.region_latency_estimate_seconds.labels(labels, about).set(ms(e.latencyMs));
      m.region_pending_requests.labels(labels, about).set(e.pending);
      m.region_healthy.labels(labels, about).set(e.healthy ? 1 : 0);
    },
    [GEO_CHANNELS.regionSwitch]: (e: GeoRegionSwitchMessage) =>
      m.region_switches_total
        .labels(id(e), {
          from_region: region(e.from ?? ''),
          to_region: region(e.to),
          reason: bounded('region_switches_total', 'reason', e.reason),
        })
        .inc(),
    [GEO_CHANNELS.ejected]: (e: GeoEjectedMessage) => {
      const labels = id(e);
      const about = region(e.regionName);
      m.region_ejections_total.labels(labels, { region: about, reason: bounded('region_ejections_total', 'reason', e.reason) }).inc();
      m.region_healthy.labels(labels, { region: about }).set(0);
    },
    [GEO_CHANNELS.restored]: (e: GeoRestoredMessage) => {
      const about = { region: region(e.regionName) };
      m.region_restorations_total.labels(id(e), about).inc();
      m.region_healthy.labels(id(e), about).set(1);
    },
    [GEO_CHANNELS.failover]: (e: GeoFailoverMessage) =>
      m.failovers_total.labels(id(e), { from_region: region(e.from), to_region: region(e.to), code: e.error.code }).inc(),
    // Published twice per hedge: when the copy is sent (no winner yet), and when the first answer settles it.
    [GEO_CHANNELS.hedge]: (e: GeoHedgeMessage) => {
      if (e.winner === undefined) m.hedges_total.labels(id(e), { primary_region: region(e.primary), secondary_region: region(e.secondary) }).inc();
      else m.hedge_outcomes_total.labels(id(e), { winner: e.winner }).inc();
    },

    // adaptive-scaler
    [SCALER_CHANNELS.decision]: (e: ScalerDecisionMessage) => {
      const labels = id(e);
      m.scaler_target.labels(labels).set(e.to);
      m.scaler_decisions_total.labels(labels, { action: e.action, reason: bounded('scaler_decisions_total', 'reason', e.reason) }).inc();
      for (const [input, value] of Object.entries(e.inputs)) {
        if (Number.isFinite(value)) m.scaler_input.labels(labels, { input: bounded('scaler_input', 'input', input) }).set(value);
      }
    },
    [SCALER_CHANNELS.resizeError]: (e: ScalerResizeErrorMessage) =>
      m.scaler_resize_errors_total.labels(id(e), { code: e.error.code }).inc(),

    // resilience
    [RESILIENCE_CHANNELS.retry]: (e: RetryMessage) =>
      m.retries_total.labels(id(e), { reason: e.error?.code ?? (e.status === undefined ? 'unknown' : `status_${e.status}`) }).inc(),
    [RESILIENCE_CHANNELS.breaker]: (e: BreakerStateMessage) => {
      const labels = id(e);
      const key = bounded('breaker', 'key', e.key);
      for (const state of BREAKER_STATES) m.breaker_state.labels(labels, { key, state }).set(state === e.to ? 1 : 0);
      m.breaker_transitions_total.labels(labels, { key, state: e.to }).inc();
    },
    [RESILIENCE_CHANNELS.throttled]: (e: ThrottledMessage) => {
      m.rate_limited_total.labels(id(e), { outcome: e.paused === true ? 'paused' : 'delayed' }).inc();
      m.rate_limit_wait_seconds.labels(id(e)).observe(ms(e.waitMs));
    },
    [RESILIENCE_CHANNELS.rate]: (e: RateAdjustedMessage) => {
      const labels = id(e);
      const key = bounded('rate_limit', 'key', e.key);
      m.rate_limit_requests_per_second.labels(labels, { key }).set(e.ratePerSec);
      m.rate_limit_configured_requests_per_second.labels(labels, { key }).set(e.configuredRatePerSec);
      m.rate_limit_adjustments_total.labels(labels, { key, reason: e.reason }).inc();
    },
    [RESILIENCE_CHANNELS.rejected]: (e: RejectedMessage) => {
      m.rejections_total.labels(id(e), { code: e.error.code }).inc();
      if (e.error.code === 'ERR_BERTH_RATE_LIMITED') m.rate_limited_total.labels(id(e), { outcome: 'rejected' }).inc();
    },

    // tls-config
    [TLS_CHANNELS.handshake]: (e: TlsHandshakeMessage) =>
      m.tls_handshake_seconds
        .labels(id(e), { resumed: e.resumed ? 'true' : 'false', version: bounded('tls_handshake_seconds', 'version', e.version) })
        .observe(ms(e.handshakeMs)),
    [TLS_CHANNELS.handshakeError]: (e: TlsHandshakeErrorMessage) =>
      m.tls_handshake_errors_total.labels(id(e), { code: e.error.code }).inc(),
    [TLS_CHANNELS.certExpiring]: (e: CertExpiringMessage) =>
      m.tls_certificate_expiry_timestamp_seconds
        .labels(id(e), { which: e.which, subject: bounded('tls_certificate_expiry', 'subject', e.subject) })
        .set(Math.floor(e.validTo / 1000)),
    [TLS_CHANNELS.reload]: (e: TlsReloadMessage) => m.tls_reloads_total.labels(id(e), { outcome: e.ok ? 'ok' : 'failed' }).inc(),
  };

  function closed(e: BerthEvent, reason: string, ageMs: number, requests: number): void {
    const labels = id(e);
    m.connections_closed_total.labels(labels, { reason: bounded('connections_closed_total', 'reason', reason) }).inc();
    m.connection_age_seconds.labels(labels).observe(ms(ageMs));
    m.connection_requests.labels(labels).observe(requests);
  }

  // A socket's gauge moves from its previous state to the new one. Closed sockets leave the map
  // (socket ids are unbounded over a process's life); a later message for one counts afresh.
  function wsState(e: WsStateMessage): void {
    const labels = id(e);
    let sockets = wsSockets.get(labels);
    if (sockets === undefined) {
      sockets = new Map();
      wsSockets.set(labels, sockets);
    }
    let socket = sockets.get(e.socketId);
    if (socket !== undefined) m.ws_sockets.labels(labels, { state: socket.state }).dec();
    if (e.to === 'closed') {
      sockets.delete(e.socketId);
      return;
    }
    if (socket === undefined) {
      socket = { state: e.to, connectingSince: undefined };
      sockets.set(e.socketId, socket);
    }
    socket.state = e.to;
    if (e.to === 'connecting') socket.connectingSince ??= clock.now();
    else if (e.to === 'ready' && socket.connectingSince !== undefined) {
      m.ws_time_to_ready_seconds.labels(labels).observe(ms(clock.now() - socket.connectingSince));
      socket.connectingSince = undefined;
    }
    m.ws_sockets.labels(labels, { state: e.to }).inc();
  }

  const handlers = new Map<string, ChannelHandler>();
  // Every channel, including ones added to core-types after this file: unknown ones still count in events_total.
  for (const channel of ALL_CHANNELS) {
    const specific = on[channel] as ChannelHandler | undefined;
    const seen = m.events_total.series({ channel });
    handlers.set(channel, (message) => {
      seen.inc();
      specific?.(message);
    });
  }
  return handlers;
}

import diagnosticsChannel from 'node:diagnostics_channel';
import {
  systemClock,
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
  BreakerStateMessage,
  Clock,
  CertExpiringMessage,
  ComponentIdentity,
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
  LogFields,
  Logger,
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
  WsStateMessage,
} from '@berth/core-types';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { collectMetrics } from './collector.js';
import type { MetricsCollector } from './collector.js';

const pool: ComponentIdentity = { kind: 'https-pool', name: 'api', origin: 'https://api.example.com:443', region: 'eu' };
const h2: ComponentIdentity = { kind: 'h2-multiplexer', name: 'api-h2', origin: 'https://api.example.com:443', region: 'eu' };
const ws: ComponentIdentity = { kind: 'ws-pool', name: 'stream', origin: 'wss://ws.example.com:443' };
const router: ComponentIdentity = { kind: 'geo-router', name: 'router' };
const scaler: ComponentIdentity = { kind: 'adaptive-scaler', name: 'api-scaler' };
const resilience: ComponentIdentity = { kind: 'resilience', name: 'policy' };
const tls: ComponentIdentity = { kind: 'tls-config', name: 'default' };
const ID = 'kind="https-pool",name="api",origin="https://api.example.com:443",region="eu"';

function publish<T extends object>(channel: string, message: T): void {
  diagnosticsChannel.channel(channel).publish(message);
}

function startMessage(requestId: number, path = '/v1/users/42?token=secret'): RequestStartMessage {
  return { component: pool, requestId, method: 'GET', origin: pool.origin!, path, headers: {}, attempt: 1, startedAt: 0 };
}

let collector: MetricsCollector | undefined;
afterEach(() => {
  collector?.stop();
  collector = undefined;
});

function start(options: Parameters<typeof collectMetrics>[0] = {}): { registry: Registry; collector: MetricsCollector } {
  const registry = new Registry();
  collector = collectMetrics({ registry, ...options });
  return { registry, collector };
}

async function parseExposition(text: string): Promise<{ name: string; type: string; metrics: unknown[] }[]> {
  // parse-prometheus-text-format ships no types; load it through a variable specifier.
  const specifier = 'parse-prometheus-text-format';
  const mod = (await import(specifier)) as { default: (text: string) => { name: string; type: string; metrics: unknown[] }[] };
  return mod.default(text);
}

describe('collectMetrics', () => {
  it('counts request attempts by status class, protocol and reuse, with duration in seconds and no path label', async () => {
    const { registry } = start();
    const first = startMessage(1);
    publish(REQUEST_CHANNELS.start, first);
    expect(await registry.metrics()).toContain(`berth_requests_in_flight{${ID}} 1`);
    const end: RequestEndMessage = {
      component: pool,
      requestId: 1,
      start: first,
      status: 204,
      protocol: 'http/1.1',
      reused: true,
      connectionId: 'h1-api-1',
      timings: { queuedMs: 1, ttfbMs: 20, totalMs: 42 },
    };
    publish(REQUEST_CHANNELS.end, end);
    const second = startMessage(2);
    publish(REQUEST_CHANNELS.start, second);
    const { status: _status, ...withoutStatus } = end;
    publish(REQUEST_CHANNELS.end, {
      ...withoutStatus,
      requestId: 2,
      start: second,
      reused: false,
      error: { code: 'ERR_BERTH_UPSTREAM_RESET', message: 'reset' },
    } satisfies RequestEndMessage);

    const text = await registry.metrics();
    expect(text).toContain(`berth_requests_total{${ID},status_class="2xx",protocol="http/1.1",reused="true"} 1`);
    expect(text).toContain(`berth_requests_total{${ID},status_class="error",protocol="http/1.1",reused="false"} 1`);
    expect(text).toContain(`berth_request_errors_total{${ID},code="ERR_BERTH_UPSTREAM_RESET"} 1`);
    expect(text).toContain(`berth_request_duration_seconds_bucket{le="0.05",${ID},protocol="http/1.1"} 2`);
    expect(text).toContain(`berth_request_duration_seconds_sum{${ID},protocol="http/1.1"} 0.084`);
    expect(text).toContain(`berth_requests_in_flight{${ID}} 0`);
    expect(text).not.toContain('/v1/users');
    // An attempt that started before the collector did ends without moving the gauge below zero.
    publish(REQUEST_CHANNELS.end, { ...end, start: startMessage(3) } satisfies RequestEndMessage);
    expect(await registry.metrics()).toContain(`berth_requests_in_flight{${ID}} 0`);
    expect(text).not.toContain('h1-api-1');
  });

  it('attaches sampled traceparents as OpenMetrics exemplars, and nothing for unsampled or malformed ones or when disabled', async () => {
    const render = async (exemplars: boolean, traceparent: string): Promise<string> => {
      const registry = new Registry();
      registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
      const c = collectMetrics({ registry, exemplars, clock: { ...systemClock, wallNow: () => 1_900_000_000_000 } });
      const first = startMessage(1);
      first.headers['traceparent'] = traceparent;
      publish(REQUEST_CHANNELS.end, {
        component: pool, requestId: 1, start: first, status: 200, protocol: 'h2', reused: false, timings: { queuedMs: 0, ttfbMs: 1, totalMs: 30 },
      } satisfies RequestEndMessage);
      const text = await registry.metrics();
      c.stop();
      return text;
    };
    const sampled = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(await render(true, sampled)).toMatch(
      /berth_request_duration_seconds_bucket\{le="0\.05",[^}]*\} 1 # \{trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"\} 0\.03 1900000000$/m,
    );
    expect(await render(true, sampled.replace(/01$/, '00'))).not.toContain('trace_id');
    expect(await render(true, 'garbage')).not.toContain('trace_id');
    expect(await render(false, sampled)).not.toContain('trace_id');
  });

  it('keeps pool gauges, bb8-style acquire counters and connection close reasons', async () => {
    const { registry } = start();
    publish(HTTPS_POOL_CHANNELS.gauges, { component: pool, size: 5, idle: 2, busy: 3, connecting: 1, pending: 4, target: 8 } satisfies PoolGaugesMessage);
    publish(HTTPS_POOL_CHANNELS.acquire, { component: pool, outcome: 'direct', waitMs: 0.2 } satisfies AcquireMessage);
    publish(HTTPS_POOL_CHANNELS.acquire, { component: pool, outcome: 'waited', waitMs: 30 } satisfies AcquireMessage);
    publish(HTTPS_POOL_CHANNELS.acquire, { component: pool, outcome: 'timeout', waitMs: 5000 } satisfies AcquireMessage);
    publish(HTTPS_POOL_CHANNELS.connectionCreated, {
      component: pool,
      connection: { id: 'c1', protocol: 'http/1.1', createdAt: 0, lastUsedAt: 0, requestCount: 0, errorCount: 0, state: 'idle' },
    } satisfies ConnectionCreatedMessage);
    publish(HTTPS_POOL_CHANNELS.connectionClosed, { component: pool, connectionId: 'c1', reason: 'lifetime', ageMs: 1_800_000, requestCount: 700 } satisfies ConnectionClosedMessage);
    publish(HTTPS_POOL_CHANNELS.connectionClosed, { component: pool, connectionId: 'c2', reason: 'idle', ageMs: 4_000, requestCount: 1 } satisfies ConnectionClosedMessage);
    publish(HTTPS_POOL_CHANNELS.connectError, { component: pool, error: { code: 'ERR_BERTH_CONNECT_REFUSED', message: 'refused' }, consecutiveFailures: 3, nextDelayMs: 100 } satisfies ConnectErrorMessage);
    expect(await registry.metrics()).toContain(`berth_connect_consecutive_failures{${ID}} 3`);
    publish(HTTPS_POOL_CHANNELS.connectionCreated, {
      component: pool,
      connection: { id: 'c4', protocol: 'http/1.1', createdAt: 0, lastUsedAt: 0, requestCount: 0, errorCount: 0, state: 'idle' },
    } satisfies ConnectionCreatedMessage);
    publish(HTTPS_POOL_CHANNELS.validation, { component: pool, connectionId: 'c3', ok: false, reason: 'connection-close' } satisfies ValidationMessage);
    publish(HTTPS_POOL_CHANNELS.resize, { component: pool, from: 8, to: 12 } satisfies PoolResizeMessage);
    publish(HTTPS_POOL_CHANNELS.resize, { component: pool, from: 12, to: 12 } satisfies PoolResizeMessage);

    const text = await registry.metrics();
    expect(text).toContain(`berth_connections{${ID},state="idle"} 2`);
    expect(text).toContain(`berth_connections{${ID},state="busy"} 3`);
    expect(text).toContain(`berth_connections{${ID},state="connecting"} 1`);
    expect(text).toContain(`berth_pool_waiters{${ID}} 4`);
    expect(text).toContain(`berth_pool_target{${ID}} 12`);
    expect(text).toContain(`berth_pool_resizes_total{${ID},direction="up"} 1`);
    expect(text).not.toContain('direction="down"');
    expect(text).toContain(`berth_acquire_total{${ID},outcome="timeout"} 1`);
    // Only the two acquisitions that got a connection are in the wait histogram.
    expect(text).toContain(`berth_acquire_wait_seconds_count{${ID}} 2`);
    expect(text).toContain(`berth_acquire_wait_seconds_bucket{le="0.0005",${ID}} 1`);
    expect(text).toContain(`berth_connections_created_total{${ID},protocol="http/1.1"} 2`);
    expect(text).toContain(`berth_connect_consecutive_failures{${ID}} 0`);
    expect(text).toContain(`berth_connections_closed_total{${ID},reason="lifetime"} 1`);
    expect(text).toContain(`berth_connections_closed_total{${ID},reason="idle"} 1`);
    expect(text).toContain(`berth_connection_age_seconds_bucket{le="1800",${ID}} 2`);
    expect(text).toContain(`berth_connection_age_seconds_bucket{le="600",${ID}} 1`);
    expect(text).toContain(`berth_connection_requests_sum{${ID}} 701`);
    expect(text).toContain(`berth_connect_errors_total{${ID},code="ERR_BERTH_CONNECT_REFUSED"} 1`);
    expect(text).toContain(`berth_validations_total{${ID},outcome="failed"} 1`);
  });

  it('follows HTTP/2 sessions, stream slots by urgency, GOAWAY, PING and adaptive windows', async () => {
    const { registry } = start();
    const H2 = 'kind="h2-multiplexer",name="api-h2",origin="https://api.example.com:443",region="eu"';
    publish(H2_CHANNELS.sessionCreated, { component: h2, sessionId: 's1', maxConcurrentStreams: 100 } satisfies H2SessionCreatedMessage);
    publish(H2_CHANNELS.sessionCreated, { component: h2, sessionId: 's2', maxConcurrentStreams: 100 } satisfies H2SessionCreatedMessage);
    publish(H2_CHANNELS.streams, { component: h2, active: 150, capacity: 200, queuedByUrgency: [0, 0, 0, 7, 0, 0, 0, 2] } satisfies H2StreamsMessage);
    publish(H2_CHANNELS.streams, { component: h2, active: 120, capacity: 200, queuedByUrgency: [0, 0, 0, 1] } satisfies H2StreamsMessage);
    publish(H2_CHANNELS.goaway, { component: h2, sessionId: 's1', errorCode: 0, lastStreamId: 99, retriedStreams: 2 } satisfies H2GoawayMessage);
    publish(H2_CHANNELS.retry, { component: h2, reason: 'goaway', urgency: 3 } satisfies H2RetryMessage);
    publish(H2_CHANNELS.sessionClosed, { component: h2, sessionId: 's1', reason: 'goaway', ageMs: 60_000, streamCount: 99 } satisfies H2SessionClosedMessage);
    publish(H2_CHANNELS.ping, { component: h2, sessionId: 's2', rttMs: 3, timedOut: false } satisfies H2PingMessage);
    publish(H2_CHANNELS.ping, { component: h2, sessionId: 's2', timedOut: true } satisfies H2PingMessage);
    publish(H2_CHANNELS.window, { component: h2, sessionId: 's2', bdpBytes: 1_048_576, streamWindowBytes: 2_097_152, connectionWindowBytes: 16_777_216, rttMs: 20 } satisfies H2WindowMessage);

    const text = await registry.metrics();
    expect(text).toContain(`berth_h2_sessions{${H2}} 1`);
    expect(text).toContain(`berth_connections_created_total{${H2},protocol="h2"} 2`);
    expect(text).toContain(`berth_connections_closed_total{${H2},reason="goaway"} 1`);
    expect(text).toContain(`berth_h2_streams_active{${H2}} 120`);
    expect(text).toContain(`berth_h2_streams_capacity{${H2}} 200`);
    expect(text).toContain(`berth_h2_streams_queued{${H2},urgency="3"} 1`);
    // The urgency-7 queue emptied: it reads 0, not its last value.
    expect(text).toContain(`berth_h2_streams_queued{${H2},urgency="7"} 0`);
    expect(text).toContain(`berth_h2_goaway_total{${H2},error_code="0"} 1`);
    expect(text).toContain(`berth_h2_stream_retries_total{${H2},reason="goaway"} 1`);
    expect(text).toContain(`berth_h2_ping_rtt_seconds_count{${H2}} 1`);
    expect(text).toContain(`berth_h2_ping_timeouts_total{${H2}} 1`);
    expect(text).toContain(`berth_h2_bdp_bytes{${H2}} 1048576`);
    expect(text).toContain(`berth_h2_stream_window_bytes{${H2}} 2097152`);
    expect(text).toContain(`berth_h2_connection_window_bytes{${H2}} 16777216`);
  });

  it('counts WebSockets by state as they move, times them to ready, and counts reconnects, losses, buffer, heartbeats and rotations', async () => {
    let now = 1000;
    const { registry } = start({ clock: { ...systemClock, now: () => now } });
    const WS = 'kind="ws-pool",name="stream",origin="wss://ws.example.com:443",region=""';
    const state = (socketId: string, from: WsStateMessage['from'], to: WsStateMessage['to']): void =>
      publish(WS_CHANNELS.state, { component: ws, socketId, from, to } satisfies WsStateMessage);
    state('a', 'closed', 'connecting');
    state('b', 'closed', 'connecting');
    now += 40;
    state('a', 'connecting', 'open');
    now += 10;
    state('a', 'open', 'ready');
    state('b', 'connecting', 'closed');
    state('b', 'closed', 'backoff');
    publish(WS_CHANNELS.reconnect, { component: ws, socketId: 'b', attempt: 1, delayMs: 800, closeCode: 1006 } satisfies WsReconnectMessage);
    publish(WS_CHANNELS.messageLost, { component: ws, reason: 'expired', channel: 'user-42', bytes: 120 } satisfies WsMessageLostMessage);
    publish(WS_CHANNELS.messageLost, { component: ws, reason: 'drop-oldest', bytes: 80 } satisfies WsMessageLostMessage);
    publish(WS_CHANNELS.buffer, { component: ws, messages: 3, bytes: 300 } satisfies WsBufferMessage);
    publish(WS_CHANNELS.heartbeat, { component: ws, socketId: 'a', rttMs: 12, timedOut: false } satisfies WsHeartbeatMessage);
    publish(WS_CHANNELS.heartbeat, { component: ws, socketId: 'a', timedOut: true } satisfies WsHeartbeatMessage);
    publish(WS_CHANNELS.rotation, { component: ws, oldSocketId: 'a', newSocketId: 'c', channelsMoved: 4, reason: 'max-age' } satisfies WsRotationMessage);

    const text = await registry.metrics();
    expect(text).toContain(`berth_ws_sockets{${WS},state="ready"} 1`);
    expect(text).toContain(`berth_ws_sockets{${WS},state="backoff"} 1`);
    expect(text).toContain(`berth_ws_sockets{${WS},state="connecting"} 0`);
    expect(text).toContain(`berth_ws_sockets{${WS},state="open"} 0`);
    expect(text).not.toContain('state="closed"');
    expect(text).toContain(`berth_ws_time_to_ready_seconds_sum{${WS}} 0.05`);
    expect(text).toContain(`berth_ws_time_to_ready_seconds_count{${WS}} 1`);
    expect(text).toContain(`berth_ws_reconnects_total{${WS},close_code="1006"} 1`);
    expect(text).toContain(`berth_ws_messages_dropped_total{${WS},reason="expired"} 1`);
    expect(text).toContain(`berth_ws_dropped_bytes_total{${WS},reason="drop-oldest"} 80`);
    expect(text).toContain(`berth_ws_buffered_messages{${WS}} 3`);
    expect(text).toContain(`berth_ws_buffered_bytes{${WS}} 300`);
    expect(text).toContain(`berth_ws_heartbeat_rtt_seconds_count{${WS}} 1`);
    expect(text).toContain(`berth_ws_heartbeat_timeouts_total{${WS}} 1`);
    expect(text).toContain(`berth_ws_rotations_total{${WS},reason="max-age"} 1`);
    expect(text).not.toContain('user-42');
  });

  it('labels region estimates, health, switches, ejections, failovers and hedges by region', async () => {
    const { registry } = start();
    const R = 'kind="geo-router",name="router",origin=""';
    publish(GEO_CHANNELS.estimate, { component: router, regionName: 'us-east', latencyMs: 85, pending: 3, healthy: true } satisfies GeoEstimateMessage);
    publish(GEO_CHANNELS.regionSwitch, { component: router, from: undefined, to: 'eu-west', reason: 'faster' } satisfies GeoRegionSwitchMessage);
    publish(GEO_CHANNELS.ejected, { component: router, regionName: 'us-east', reason: 'consecutive-failures', durationMs: 30_000, ejections: 1 } satisfies GeoEjectedMessage);
    publish(GEO_CHANNELS.failover, { component: router, from: 'us-east', to: 'eu-west', error: { code: 'ERR_BERTH_CONNECT_TIMEOUT', message: 'timeout' } } satisfies GeoFailoverMessage);
    publish(GEO_CHANNELS.hedge, { component: router, primary: 'eu-west', secondary: 'us-east' } satisfies GeoHedgeMessage);
    publish(GEO_CHANNELS.hedge, { component: router, primary: 'eu-west', secondary: 'us-east', winner: 'secondary' } satisfies GeoHedgeMessage);
    let text = await registry.metrics();
    expect(text).toContain(`berth_region_latency_estimate_seconds{${R},region="us-east"} 0.085`);
    expect(text).toContain(`berth_region_pending_requests{${R},region="us-east"} 3`);
    expect(text).toContain(`berth_region_healthy{${R},region="us-east"} 0`);
    expect(text).toContain(`berth_region_switches_total{${R},region="",from_region="",to_region="eu-west",reason="faster"} 1`);
    expect(text).toContain(`berth_region_ejections_total{${R},region="us-east",reason="consecutive-failures"} 1`);
    expect(text).toContain(
      `berth_failovers_total{${R},region="",from_region="us-east",to_region="eu-west",code="ERR_BERTH_CONNECT_TIMEOUT"} 1`,
    );
    // One hedge, published when sent and again when settled: counted once, its winner once.
    expect(text).toContain(`berth_hedges_total{${R},region="",primary_region="eu-west",secondary_region="us-east"} 1`);
    expect(text).toContain(`berth_hedge_outcomes_total{${R},region="",winner="secondary"} 1`);

    publish(GEO_CHANNELS.restored, { component: router, regionName: 'us-east' } satisfies GeoRestoredMessage);
    text = await registry.metrics();
    expect(text).toContain(`berth_region_healthy{${R},region="us-east"} 1`);
    expect(text).toContain(`berth_region_restorations_total{${R},region="us-east"} 1`);
  });

  it('records scaler decisions with their inputs, and resize errors', async () => {
    const { registry } = start();
    const S = 'kind="adaptive-scaler",name="api-scaler",origin="",region=""';
    publish(SCALER_CHANNELS.decision, {
      component: scaler,
      action: 'up',
      from: 4,
      to: 6,
      reason: 'acquire-wait',
      inputs: { acquireWaitP99Ms: 40, utilization: 0.9, gradient: Number.NaN },
    } satisfies ScalerDecisionMessage);
    publish(SCALER_CHANNELS.decision, { component: scaler, action: 'hold', from: 6, to: 6, reason: 'cooldown', inputs: {} } satisfies ScalerDecisionMessage);
    publish(SCALER_CHANNELS.resizeError, { component: scaler, target: 7, error: { code: 'ERR_BERTH_CONFIG', message: 'out of bounds' } } satisfies ScalerResizeErrorMessage);
    const text = await registry.metrics();
    expect(text).toContain(`berth_scaler_target{${S}} 6`);
    expect(text).toContain(`berth_scaler_decisions_total{${S},action="up",reason="acquire-wait"} 1`);
    expect(text).toContain(`berth_scaler_decisions_total{${S},action="hold",reason="cooldown"} 1`);
    expect(text).toContain(`berth_scaler_input{${S},input="utilization"} 0.9`);
    expect(text).not.toContain('input="gradient"');
    expect(text).toContain(`berth_scaler_resize_errors_total{${S},code="ERR_BERTH_CONFIG"} 1`);
  });

  it('records retries, breaker state as a state set, throttling and rejections', async () => {
    const { registry } = start();
    const P = 'kind="resilience",name="policy",origin="",region=""';
    publish(RESILIENCE_CHANNELS.retry, { component: resilience, key: 'eu', attempt: 2, delayMs: 100, status: 503 } satisfies RetryMessage);
    publish(RESILIENCE_CHANNELS.retry, { component: resilience, key: 'eu', attempt: 3, delayMs: 300, error: { code: 'ERR_BERTH_UPSTREAM_RESET', message: 'reset' } } satisfies RetryMessage);
    publish(RESILIENCE_CHANNELS.retry, { component: resilience, key: 'eu', attempt: 4, delayMs: 300 } satisfies RetryMessage);
    publish(RESILIENCE_CHANNELS.breaker, { component: resilience, key: 'eu', from: 'closed', to: 'open', retryAt: 1 } satisfies BreakerStateMessage);
    publish(RESILIENCE_CHANNELS.throttled, { component: resilience, key: 'eu', waitMs: 250 } satisfies ThrottledMessage);
    publish(RESILIENCE_CHANNELS.throttled, { component: resilience, key: 'eu', waitMs: 1000, paused: true } satisfies ThrottledMessage);
    publish(RESILIENCE_CHANNELS.rate, { component: resilience, key: 'eu', ratePerSec: 5, configuredRatePerSec: 10, reason: 'throttled', pausedMs: 1000 } satisfies RateAdjustedMessage);
    publish(RESILIENCE_CHANNELS.rejected, { component: resilience, key: 'eu', error: { code: 'ERR_BERTH_RATE_LIMITED', message: 'limited' } } satisfies RejectedMessage);
    publish(RESILIENCE_CHANNELS.rejected, { component: resilience, key: 'eu', error: { code: 'ERR_BERTH_CIRCUIT_OPEN', message: 'open' } } satisfies RejectedMessage);
    const text = await registry.metrics();
    expect(text).toContain(`berth_retries_total{${P},reason="status_503"} 1`);
    expect(text).toContain(`berth_retries_total{${P},reason="ERR_BERTH_UPSTREAM_RESET"} 1`);
    expect(text).toContain(`berth_retries_total{${P},reason="unknown"} 1`);
    expect(text).toContain(`berth_breaker_state{${P},key="eu",state="open"} 1`);
    expect(text).toContain(`berth_breaker_state{${P},key="eu",state="closed"} 0`);
    expect(text).toContain(`berth_breaker_state{${P},key="eu",state="half-open"} 0`);
    expect(text).toContain(`berth_breaker_transitions_total{${P},key="eu",state="open"} 1`);
    expect(text).toContain(`berth_rate_limited_total{${P},outcome="delayed"} 1`);
    expect(text).toContain(`berth_rate_limited_total{${P},outcome="rejected"} 1`);
    expect(text).toContain(`berth_rate_limited_total{${P},outcome="paused"} 1`);
    expect(text).toContain(`berth_rate_limit_wait_seconds_sum{${P}} 1.25`);
    expect(text).toContain(`berth_rate_limit_requests_per_second{${P},key="eu"} 5`);
    expect(text).toContain(`berth_rate_limit_configured_requests_per_second{${P},key="eu"} 10`);
    expect(text).toContain(`berth_rate_limit_adjustments_total{${P},key="eu",reason="throttled"} 1`);
    expect(text).toContain(`berth_rejections_total{${P},code="ERR_BERTH_CIRCUIT_OPEN"} 1`);
  });

  it('records TLS handshakes by resumption, failures, certificate expiry and reloads', async () => {
    const { registry } = start();
    const T = 'kind="tls-config",name="default",origin="",region=""';
    const handshake = { component: tls, host: 'api.example.com', port: 443, version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', alpn: 'h2' as const };
    publish(TLS_CHANNELS.handshake, { ...handshake, resumed: false, handshakeMs: 3 } satisfies TlsHandshakeMessage);
    publish(TLS_CHANNELS.handshake, { ...handshake, resumed: true, handshakeMs: 1 } satisfies TlsHandshakeMessage);
    publish(TLS_CHANNELS.handshakeError, { component: tls, host: 'x', port: 443, error: { code: 'ERR_BERTH_TLS_UNTRUSTED', message: 'untrusted' } } satisfies TlsHandshakeErrorMessage);
    publish(TLS_CHANNELS.certExpiring, { component: tls, which: 'peer', subject: 'api.example.com', validTo: 1_900_000_000_500, daysLeft: 9 } satisfies CertExpiringMessage);
    publish(TLS_CHANNELS.reload, { component: tls, ok: true } satisfies TlsReloadMessage);
    const text = await registry.metrics();
    expect(text).toContain(`berth_tls_handshake_seconds_count{${T},resumed="false",version="TLSv1.3"} 1`);
    expect(text).toContain(`berth_tls_handshake_seconds_count{${T},resumed="true",version="TLSv1.3"} 1`);
    expect(text).toContain(`berth_tls_handshake_errors_total{${T},code="ERR_BERTH_TLS_UNTRUSTED"} 1`);
    expect(text).toContain(`berth_tls_certificate_expiry_timestamp_seconds{${T},which="peer",subject="api.example.com"} 1900000000`);
    expect(text).toContain(`berth_tls_reloads_total{${T},outcome="ok"} 1`);
  });

  it('subscribes to every berth channel, counting each event, and stop() leaves no subscriber and no metric', async () => {
    const before = ALL_CHANNELS.filter((name) => diagnosticsChannel.channel(name).hasSubscribers);
    expect(before).toEqual([]);
    const { registry, collector: c } = start();
    for (const name of ALL_CHANNELS) expect(diagnosticsChannel.channel(name).hasSubscribers, name).toBe(true);
    publish(WS_CHANNELS.buffer, { component: ws, messages: 1, bytes: 2 } satisfies WsBufferMessage);
    expect(await registry.metrics()).toContain(`berth_events_total{channel="${WS_CHANNELS.buffer}"} 1`);

    c.stop();
    c.stop();
    for (const name of ALL_CHANNELS) expect(diagnosticsChannel.channel(name).hasSubscribers, name).toBe(false);
    expect((await registry.metrics()).trim()).toBe('');
    // The prefix is free again.
    collector = collectMetrics({ registry });
    expect(registry.getSingleMetric('berth_requests_total')).toBeDefined();
  });

  it('renders an exposition that a Prometheus text-format parser accepts, with _total, _seconds and _bytes names', async () => {
    const { registry } = start({ prefix: 'svc_berth_' });
    const first = startMessage(1);
    publish(REQUEST_CHANNELS.start, first);
    publish(REQUEST_CHANNELS.end, {
      component: pool, requestId: 1, start: first, status: 200, protocol: 'h2', reused: false, timings: { queuedMs: 0, ttfbMs: 5, totalMs: 6 },
    } satisfies RequestEndMessage);
    publish(WS_CHANNELS.messageLost, { component: ws, reason: 'closed', bytes: 5 } satisfies WsMessageLostMessage);
    const families = await parseExposition(await registry.metrics());
    const byName = new Map(families.map((f) => [f.name, f]));
    expect(byName.get('svc_berth_requests_total')?.type).toBe('COUNTER');
    expect(byName.get('svc_berth_request_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(byName.get('svc_berth_ws_dropped_bytes_total')?.metrics).toHaveLength(1);
    expect(byName.get('svc_berth_connections')?.type).toBe('GAUGE');
    for (const family of families) {
      expect(family.name.startsWith('svc_berth_')).toBe(true);
      if (family.type === 'COUNTER') expect(family.name.endsWith('_total'), family.name).toBe(true);
    }
  });

  it('stop() removes only its own metrics, also from an OpenMetrics registry', async () => {
    const { registry, collector: c } = start();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
    expect(await registry.metrics()).toContain('# TYPE berth_requests counter');
    registry.removeSingleMetric('berth_pool_target');
    const { Gauge } = await import('prom-client');
    const theirs = new Gauge({ name: 'berth_pool_target', help: 'not ours', registers: [registry] });
    c.stop();
    expect(registry.getSingleMetric('berth_requests_total')).toBeUndefined();
    expect(registry.getSingleMetric('berth_pool_target')).toBe(theirs);
  });

  it('uses the global prom-client registry by default', async () => {
    const { register } = await import('prom-client');
    collector = collectMetrics();
    expect(collector.registry).toBe(register);
    expect(register.getSingleMetric('berth_requests_total')).toBeDefined();
    collector.stop();
    expect(register.getSingleMetric('berth_requests_total')).toBeUndefined();
  });

  it('refuses a second collector on the same registry and prefix with ERR_BERTH_CONFIG, registering nothing', () => {
    const { registry } = start();
    expect(() => collectMetrics({ registry })).toThrow(expect.objectContaining({ code: 'ERR_BERTH_CONFIG', message: expect.stringContaining('prefix') }));
    const other = collectMetrics({ registry, prefix: 'other_' });
    other.stop();
  });

  it('reports every invalid option at once', () => {
    expect(() =>
      collectMetrics({
        registry: {} as Registry,
        prefix: '9bad',
        buckets: { requestDurationSeconds: [1, 0.5], waitSeconds: [], handshakeSeconds: [Number.NaN], connectionAgeSeconds: [-1] },
        maxComponents: 0,
        maxLabelValues: 1.5,
        logger: {} as Logger,
        clock: {} as Clock,
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_BERTH_CONFIG',
        problems: [
          expect.objectContaining({ path: 'registry' }),
          expect.objectContaining({ path: 'prefix' }),
          expect.objectContaining({ path: 'buckets.requestDurationSeconds' }),
          expect.objectContaining({ path: 'buckets.waitSeconds' }),
          expect.objectContaining({ path: 'buckets.handshakeSeconds' }),
          expect.objectContaining({ path: 'buckets.connectionAgeSeconds' }),
          expect.objectContaining({ path: 'maxComponents' }),
          expect.objectContaining({ path: 'maxLabelValues' }),
          expect.objectContaining({ path: 'logger' }),
          expect.objectContaining({ path: 'clock' }),
        ],
      }),
    );
  });

  it('applies custom histogram buckets', async () => {
    const { registry } = start({ buckets: { requestDurationSeconds: [0.1, 1] } });
    const first = startMessage(1);
    publish(REQUEST_CHANNELS.end, {
      component: pool, requestId: 1, start: first, status: 200, protocol: 'http/1.1', reused: false, timings: { queuedMs: 0, ttfbMs: 1, totalMs: 2 },
    } satisfies RequestEndMessage);
    const text = await registry.metrics();
    expect(text).toContain(`berth_request_duration_seconds_bucket{le="0.1",${ID},protocol="http/1.1"} 1`);
    expect(text).not.toContain('berth_request_duration_seconds_bucket{le="0.005"');
  });

  it('folds components past maxComponents and free-form values past maxLabelValues instead of growing series', async () => {
    const { registry } = start({ maxComponents: 2, maxLabelValues: 2 });
    for (let i = 0; i < 5; i += 1) {
      publish(HTTPS_POOL_CHANNELS.gauges, { component: { kind: 'https-pool', name: `leaky-${i}` }, size: 0, idle: 0, busy: 0, connecting: 0, pending: i, target: 1 } satisfies PoolGaugesMessage);
    }
    for (const reason of ['max-age', '1012', 'manual', 'weird-1']) {
      publish(WS_CHANNELS.rotation, { component: ws, oldSocketId: 'a', newSocketId: 'b', channelsMoved: 0, reason } satisfies WsRotationMessage);
    }
    const text = await registry.metrics();
    expect(text).toContain('berth_pool_waiters{kind="https-pool",name="leaky-1",origin="",region=""} 1');
    expect(text).not.toContain('leaky-2');
    expect(text).toContain('berth_pool_waiters{kind="https-pool",name="_overflow",origin="",region=""} 4');
    expect(text).toContain('reason="1012"} 1');
    expect(text).toContain('reason="_other"} 2');
  });

  it('never throws into a publisher: a malformed message is logged and later events still count', async () => {
    const warnings: [string, LogFields | undefined][] = [];
    const logger: Logger = { debug: () => {}, info: () => {}, warn: (m, f) => warnings.push([m, f]), error: () => {} };
    const { registry } = start({ logger });
    expect(() => publish(REQUEST_CHANNELS.end, { component: pool })).not.toThrow();
    expect(() => publish(HTTPS_POOL_CHANNELS.acquire, { component: pool, outcome: 'waited', waitMs: 'soon' })).not.toThrow();
    publish(HTTPS_POOL_CHANNELS.acquire, { component: pool, outcome: 'direct', waitMs: 0 } satisfies AcquireMessage);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]?.[1]).toMatchObject({ channel: REQUEST_CHANNELS.end });
    expect(await registry.metrics()).toContain(`berth_acquire_total{${ID},outcome="direct"} 1`);
  });
});

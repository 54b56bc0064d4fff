import { OptionChecker, silentLogger, systemClock } from '@berth/core-types';
import type { Clock, Logger } from '@berth/core-types';
import { register as globalRegistry } from 'prom-client';
import type { Registry } from 'prom-client';
import type { TracerProvider, TextMapPropagator } from '@opentelemetry/api';

/** Histogram bucket boundaries, in seconds, of the histograms `collectMetrics()` creates. */
export interface BucketOptions {
  /** `request_duration_seconds`. Default {@link DEFAULT_REQUEST_BUCKETS}. */
  readonly requestDurationSeconds?: readonly number[];
  /** `acquire_wait_seconds` and `rate_limit_wait_seconds`. Default {@link DEFAULT_WAIT_BUCKETS}. */
  readonly waitSeconds?: readonly number[];
  /** `tls_handshake_seconds`, `h2_ping_rtt_seconds`, `ws_heartbeat_rtt_seconds`. Default {@link DEFAULT_HANDSHAKE_BUCKETS}. */
  readonly handshakeSeconds?: readonly number[];
  /** `connection_age_seconds`. Default {@link DEFAULT_AGE_BUCKETS}. */
  readonly connectionAgeSeconds?: readonly number[];
}

/** Options of {@link collectMetrics}. */
export interface CollectMetricsOptions {
  /** prom-client registry the metrics are registered in. Default: prom-client's global `register`. */
  readonly registry?: Registry;
  /**
   * Prefix of every metric name; must match the Prometheus name grammar `[a-zA-Z_:][a-zA-Z0-9_:]*`.
   * Default `berth_`.
   */
  readonly prefix?: string;
  /** Histogram buckets, in seconds. Each list must be non-empty, finite, positive and increasing. */
  readonly buckets?: BucketOptions;
  /**
   * Most distinct component identities (`kind`, `name`, `origin`, `region`) kept as labels;
   * later ones are folded into `name="_overflow"`. Guards Prometheus against a publisher that
   * puts ids in a component name. Default 500.
   */
  readonly maxComponents?: number;
  /**
   * Most distinct values of each free-form label (scaler reason, rotation reason, breaker key,
   * certificate subject, close code …) per metric; later ones become `_other`. Default 64.
   */
  readonly maxLabelValues?: number;
  /** Where a failure to record an event is reported (a subscriber must never throw into a publisher). Default: silent. */
  readonly logger?: Logger;
  /** Times what the events do not carry (a WebSocket's time to ready). Default: the process clock. */
  readonly clock?: Clock;
  /**
   * Attach the trace of the last request in each `request_duration_seconds` bucket as an
   * OpenMetrics exemplar (`trace_id`, `span_id`), read from the sampled `traceparent` the
   * request carried (written by {@link traceRequests} or the application). Shown only when the
   * registry renders OpenMetrics. Default true.
   */
  readonly exemplars?: boolean;
}

/** Options of {@link traceRequests}. */
export interface TraceRequestsOptions {
  /** Where spans go. Default: the global provider (`trace.getTracerProvider()`), a no-op until an SDK registers one. */
  readonly tracerProvider?: TracerProvider;
  /**
   * Injects the trace context into outgoing headers. Default: the global propagator when one
   * is registered, else W3C Trace Context (`traceparent`/`tracestate`) written directly.
   */
  readonly propagator?: TextMapPropagator;
  /** Replace every query value in `url.full` with `REDACTED` (OTel semconv: query values may hold secrets). Default true. */
  readonly redactQuery?: boolean;
  /** Request header names recorded as `http.request.header.<name>` span attributes (sensitive ones redacted). Default none. */
  readonly captureRequestHeaders?: readonly string[];
  /** Header names redacted in addition to {@link DEFAULT_REDACTED_HEADERS}. Case-insensitive. Default none. */
  readonly redactHeaders?: readonly string[];
  /** Where a failure inside a subscriber is reported. Default: silent. */
  readonly logger?: Logger;
}

/** Options of the logger adapters ({@link createPinoLogger}, {@link createConsoleLogger}). */
export interface LoggerAdapterOptions {
  /** Field and header names redacted in addition to {@link DEFAULT_REDACTED_HEADERS}. Case-insensitive. Default none. */
  readonly redactHeaders?: readonly string[];
}

/** Options of {@link logEvents}. */
export interface LogEventsOptions {
  /** Where the events go (e.g. {@link createPinoLogger}). Required. */
  readonly logger: Logger;
  /** Lowest level logged: failures are `warn`, rare state changes `info`, per-request and gauge events `debug`. Default `info`. */
  readonly level?: LogLevel;
  /** Field and header names redacted in addition to {@link DEFAULT_REDACTED_HEADERS}. Case-insensitive. Default none. */
  readonly redactHeaders?: readonly string[];
}

/** Levels of {@link createConsoleLogger} and {@link logEvents}, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The console methods {@link createConsoleLogger} writes to. */
export type ConsoleLike = Pick<Console, 'debug' | 'info' | 'warn' | 'error'>;

/** Options of {@link createConsoleLogger}. */
export interface ConsoleLoggerOptions extends LoggerAdapterOptions {
  /** Lowest level written. Default `info`. */
  readonly level?: LogLevel;
  /** Console to write to. Default the global `console` (looked up per line). */
  readonly console?: ConsoleLike;
}

/** Default `request_duration_seconds` buckets: 5 ms … 30 s (remote APIs, model calls included). */
export const DEFAULT_REQUEST_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Default wait buckets: 0.1 ms … 10 s; a free connection is handed out in well under a millisecond. */
export const DEFAULT_WAIT_BUCKETS: readonly number[] = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Default handshake/RTT buckets: 0.5 ms … 5 s (a loopback TLS 1.3 handshake is ≈1–4 ms, ANCHORS §9). */
export const DEFAULT_HANDSHAKE_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Default `connection_age_seconds` buckets: 1 s … 2 h, spanning idle timeouts (4 s) to max lifetimes (30 min+). */
export const DEFAULT_AGE_BUCKETS: readonly number[] = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200];
/** Default metric name prefix. */
export const DEFAULT_PREFIX = 'berth_';
/** Default cap on distinct component identities. */
export const DEFAULT_MAX_COMPONENTS = 500;
/** Default cap on distinct values of each free-form label. */
export const DEFAULT_MAX_LABEL_VALUES = 64;

/**
 * Header (and log field) names redacted everywhere this package logs or traces. The four named
 * by the issue, plus `x-api-key` and `api-key`, which carry the secret of the model providers
 * Berth is built for (Anthropic, Azure OpenAI).
 */
export const DEFAULT_REDACTED_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
];

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const METRIC_PREFIX = { regex: /^[a-zA-Z_:][a-zA-Z0-9_:]*$/, expected: 'a Prometheus name prefix matching [a-zA-Z_:][a-zA-Z0-9_:]*' };

/** {@link CollectMetricsOptions} with defaults filled in (fields as documented there). */
export interface ResolvedCollectOptions {
  readonly registry: Registry;
  readonly prefix: string;
  readonly buckets: Required<{ readonly [K in keyof BucketOptions]: readonly number[] }>;
  readonly maxComponents: number;
  readonly maxLabelValues: number;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly exemplars: boolean;
}

/** {@link TraceRequestsOptions} with defaults filled in; `redacted` = the default names plus `redactHeaders`, lower-cased. */
export interface ResolvedTraceOptions {
  readonly tracerProvider: TracerProvider | undefined;
  readonly propagator: TextMapPropagator | undefined;
  readonly redactQuery: boolean;
  readonly captureRequestHeaders: readonly string[];
  readonly redacted: ReadonlySet<string>;
  readonly logger: Logger;
}

/** {@link ConsoleLoggerOptions} with defaults filled in; `console` stays undefined for the global one. */
export interface ResolvedLoggerOptions {
  readonly redacted: ReadonlySet<string>;
  readonly level: LogLevel;
  readonly console: ConsoleLike | undefined;
}

/** {@link LogEventsOptions} with defaults filled in. */
export interface ResolvedLogEventsOptions {
  readonly logger: Logger;
  readonly level: LogLevel;
  readonly redacted: ReadonlySet<string>;
}

/** Validates and fills {@link CollectMetricsOptions}; throws one `ERR_BERTH_CONFIG` listing every problem. */
export function resolveCollectOptions(input: CollectMetricsOptions = {}): ResolvedCollectOptions {
  const c = new OptionChecker('metrics');
  const registry = input.registry ?? globalRegistry;
  c.expect(isRegistry(registry), 'registry', 'a prom-client Registry', registry);
  const prefix = c.string('prefix', input.prefix, DEFAULT_PREFIX, METRIC_PREFIX);
  const b = input.buckets ?? {};
  const buckets = {
    requestDurationSeconds: bucketList(c, 'buckets.requestDurationSeconds', b.requestDurationSeconds, DEFAULT_REQUEST_BUCKETS),
    waitSeconds: bucketList(c, 'buckets.waitSeconds', b.waitSeconds, DEFAULT_WAIT_BUCKETS),
    handshakeSeconds: bucketList(c, 'buckets.handshakeSeconds', b.handshakeSeconds, DEFAULT_HANDSHAKE_BUCKETS),
    connectionAgeSeconds: bucketList(c, 'buckets.connectionAgeSeconds', b.connectionAgeSeconds, DEFAULT_AGE_BUCKETS),
  };
  const maxComponents = c.number('maxComponents', input.maxComponents, { min: 1, integer: true, default: DEFAULT_MAX_COMPONENTS });
  const maxLabelValues = c.number('maxLabelValues', input.maxLabelValues, { min: 1, integer: true, default: DEFAULT_MAX_LABEL_VALUES });
  const logger = checkLogger(c, input.logger);
  const clock = input.clock ?? systemClock;
  c.expect(hasMethod(clock, 'now'), 'clock', 'a Clock (now, setTimeout …)', clock);
  const exemplars = c.boolean('exemplars', input.exemplars, true);
  c.done();
  return { registry, prefix, buckets, maxComponents, maxLabelValues, logger, clock, exemplars };
}

/** Validates and fills {@link TraceRequestsOptions}; throws one `ERR_BERTH_CONFIG` listing every problem. */
export function resolveTraceOptions(input: TraceRequestsOptions = {}): ResolvedTraceOptions {
  const c = new OptionChecker('tracing');
  const provider = input.tracerProvider;
  c.expect(provider === undefined || hasMethod(provider, 'getTracer'), 'tracerProvider', 'an OpenTelemetry TracerProvider', provider);
  const propagator = input.propagator;
  c.expect(propagator === undefined || hasMethod(propagator, 'inject'), 'propagator', 'an OpenTelemetry TextMapPropagator', propagator);
  const redactQuery = c.boolean('redactQuery', input.redactQuery, true);
  const captureRequestHeaders = headerNames(c, 'captureRequestHeaders', input.captureRequestHeaders);
  const redacted = redactedSet(c, input.redactHeaders);
  const logger = checkLogger(c, input.logger);
  c.done();
  return { tracerProvider: provider, propagator, redactQuery, captureRequestHeaders, redacted, logger };
}

/** Validates and fills the logger adapter options; throws one `ERR_BERTH_CONFIG` listing every problem. */
export function resolveLoggerOptions(input: ConsoleLoggerOptions = {}): ResolvedLoggerOptions {
  const c = new OptionChecker('logger');
  const redacted = redactedSet(c, input.redactHeaders);
  const level = c.oneOf<LogLevel, LogLevel>('level', input.level, LOG_LEVELS, 'info');
  const out = input.console;
  c.expect(
    out === undefined || (['debug', 'info', 'warn', 'error'] as const).every((m) => hasMethod(out, m)),
    'console',
    'an object with debug, info, warn and error methods',
    out,
  );
  c.done();
  return { redacted, level, console: out };
}

/** Validates and fills {@link LogEventsOptions}; throws one `ERR_BERTH_CONFIG` listing every problem. */
export function resolveLogEventsOptions(options: LogEventsOptions | undefined): ResolvedLogEventsOptions {
  const c = new OptionChecker('log-events');
  // Called from JavaScript without options, it must still report rather than crash.
  const input: Partial<LogEventsOptions> = options ?? {};
  const given = input.logger;
  c.expect(given !== undefined, 'logger', 'a Logger (debug, info, warn, error)', given);
  const logger = checkLogger(c, given);
  const level = c.oneOf<LogLevel, LogLevel>('level', input.level, LOG_LEVELS, 'info');
  const redacted = redactedSet(c, input.redactHeaders);
  c.done();
  return { logger, level, redacted };
}

function bucketList(c: OptionChecker, path: string, value: readonly number[] | undefined, fallback: readonly number[]): readonly number[] {
  if (value === undefined) return fallback;
  const ok =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((v, i) => typeof v === 'number' && Number.isFinite(v) && v > 0 && (i === 0 || v > (value[i - 1] as number)));
  return c.expect(ok, path, 'a non-empty list of finite, positive, increasing numbers (seconds)', value) ? [...value] : fallback;
}

function headerNames(c: OptionChecker, path: string, value: readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  const ok = Array.isArray(value) && value.every((v) => typeof v === 'string' && /^[!#$%&'*+.^_`|~0-9a-zA-Z-]+$/.test(v));
  return c.expect(ok, path, 'a list of HTTP header names (RFC 9110 tokens)', value) ? value.map((v) => v.toLowerCase()) : [];
}

function redactedSet(c: OptionChecker, value: readonly string[] | undefined): ReadonlySet<string> {
  return new Set([...DEFAULT_REDACTED_HEADERS, ...headerNames(c, 'redactHeaders', value)]);
}

function checkLogger(c: OptionChecker, logger: Logger | undefined): Logger {
  if (logger === undefined) return silentLogger;
  const ok = (['debug', 'info', 'warn', 'error'] as const).every((m) => hasMethod(logger, m));
  return c.expect(ok, 'logger', 'a Logger (debug, info, warn, error)', logger) ? logger : silentLogger;
}

function isRegistry(value: unknown): value is Registry {
  return hasMethod(value, 'registerMetric') && hasMethod(value, 'getSingleMetric') && hasMethod(value, 'removeSingleMetric');
}

function hasMethod(value: unknown, name: string): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[name] === 'function';
}

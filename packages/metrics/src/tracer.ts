import { GEO_CHANNELS, H2_CHANNELS, HTTPS_POOL_CHANNELS, REQUEST_CHANNELS, RESILIENCE_CHANNELS } from '@berth/core-types';
import type {
  ConnectionCreatedMessage,
  GeoFailoverMessage,
  GeoHedgeMessage,
  H2RetryMessage,
  H2SessionCreatedMessage,
  RequestEndMessage,
  RequestStartMessage,
  RetryMessage,
  TlsHandshakeInfo,
} from '@berth/core-types';
import { context, defaultTextMapSetter, INVALID_SPAN_CONTEXT, isSpanContextValid, propagation, ProxyTracerProvider, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span, Tracer, TracerProvider } from '@opentelemetry/api';
import { resolveTraceOptions } from './options.js';
import type { ResolvedTraceOptions, TraceRequestsOptions } from './options.js';
import { redactQuery, REDACTED } from './redact.js';
import { subscribeAll } from './subscriptions.js';
import type { ChannelHandler } from './subscriptions.js';
import { injectTraceContext } from './trace-context.js';

/** What {@link traceRequests} returns. */
export interface RequestTracer {
  /** Unsubscribes from every channel. Spans of attempts still in flight are ended at once, marked `berth.tracing_stopped`. Idempotent. */
  stop(): void;
}

/** The instrumentation scope name spans are created under. */
export const TRACER_NAME = '@berth/metrics';

// HTTP methods OTel's semantic conventions know (http.request.method); others are reported as `_OTHER`.
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', 'QUERY']);
// Connections whose TLS facts wait for the request that opened them; bounded FIFO.
const MAX_PENDING_TLS = 1024;
const MAX_ORIGINS = 256;
// Attempts whose end never came (a publisher bug) must not pin spans forever: past this many in
// flight, the oldest is ended and marked `berth.orphaned`.
const MAX_IN_FLIGHT = 10_000;

interface OpenAttempt {
  readonly span: Span;
  /** Wall-clock start of the span, in milliseconds. */
  readonly at: number;
}

interface OriginParts {
  readonly address: string;
  readonly port: number;
}

/**
 * Makes one CLIENT span per request attempt from `berth:request:start`/`end`, following the
 * OpenTelemetry HTTP client semantic conventions (`http.request.method`, `server.address`,
 * `server.port`, `url.full` with query values redacted, `http.response.status_code`,
 * `network.protocol.version`, `error.type`, `http.request.resend_count`), and injects the trace
 * context (W3C `traceparent`/`tracestate`) into the outgoing headers, which the transport sends
 * after the start event returns.
 *
 * Span events: `berth.acquired` (wait for a connection), `berth.connected` (new connection) and
 * `berth.tls_handshake` on the attempt span; `berth.retry`, `berth.failover`, `berth.hedge` and
 * `berth.h2_retry` on the span active where those events are published (the caller's span
 * around the logical request), since they carry no request id to pair them with an attempt.
 *
 * With no SDK registered the global tracer is a no-op: no span is started at all (it could only be
 * non-recording, so attributes, events and times would be dropped unread), and a parent context
 * received from upstream is still propagated.
 *
 * @throws ConfigError `ERR_BERTH_CONFIG` for invalid options.
 */
export function traceRequests(options?: TraceRequestsOptions): RequestTracer {
  const resolved = resolveTraceOptions(options);
  const provider = resolved.tracerProvider ?? trace.getTracerProvider();
  const attempts = new AttemptSpans(provider, resolved);
  const unsubscribe = subscribeAll(attempts.handlers(), resolved.logger, 'tracing');
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      attempts.endAll();
    },
  };
}

// Span times on one clock: the process's monotonic clock anchored at its start, with sub-millisecond
// precision as the OTel SDK's own anchored clock (Date.now() has 1 ms). timeOrigin is read once: the getter is not free.
const TIME_ORIGIN = performance.timeOrigin;
const wallNow = (): number => TIME_ORIGIN + performance.now();

// The API's no-op provider (what a ProxyTracerProvider with no SDK behind it delegates to): not
// exported by name, but a fresh proxy hands out the same singleton.
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether `provider` makes only non-recording spans right now. Checked per attempt, not once: an
 * SDK registered after traceRequests() sets the global proxy's delegate, and spans record from then on.
 */
function isNoopProvider(provider: TracerProvider): boolean {
  return provider instanceof ProxyTracerProvider ? provider.getDelegate() === NOOP_PROVIDER : provider === NOOP_PROVIDER;
}

class AttemptSpans {
  readonly #provider: TracerProvider;
  readonly #tracer: Tracer;
  readonly #options: ResolvedTraceOptions;
  readonly #spans = new Map<RequestStartMessage, OpenAttempt>();
  readonly #tls = new Map<string, TlsHandshakeInfo>();
  readonly #origins = new Map<string, OriginParts>();

  constructor(provider: TracerProvider, options: ResolvedTraceOptions) {
    this.#provider = provider;
    this.#tracer = provider.getTracer(TRACER_NAME);
    this.#options = options;
  }

  handlers(): Map<string, ChannelHandler> {
    return new Map<string, ChannelHandler>([
      [REQUEST_CHANNELS.start, (m) => this.#start(m as RequestStartMessage)],
      [REQUEST_CHANNELS.end, (m) => this.#end(m as RequestEndMessage)],
      [HTTPS_POOL_CHANNELS.connectionCreated, (m) => this.#connection((m as ConnectionCreatedMessage).connection.id, (m as ConnectionCreatedMessage).connection.tls)],
      [H2_CHANNELS.sessionCreated, (m) => this.#connection((m as H2SessionCreatedMessage).sessionId, (m as H2SessionCreatedMessage).tls)],
      [RESILIENCE_CHANNELS.retry, (m) => this.#retry(m as RetryMessage)],
      [GEO_CHANNELS.failover, (m) => this.#failover(m as GeoFailoverMessage)],
      [GEO_CHANNELS.hedge, (m) => this.#hedge(m as GeoHedgeMessage)],
      [H2_CHANNELS.retry, (m) => this.#h2Retry(m as H2RetryMessage)],
    ]);
  }

  endAll(): void {
    const now = wallNow();
    for (const { span } of this.#spans.values()) {
      span.setAttribute('berth.tracing_stopped', true);
      span.end(now);
    }
    this.#spans.clear();
    this.#tls.clear();
  }

  #start(e: RequestStartMessage): void {
    const parent = context.active();
    if (isNoopProvider(this.#provider)) {
      this.#propagateOnly(parent, e);
      return;
    }
    const upper = e.method.toUpperCase();
    const method = KNOWN_METHODS.has(upper) ? upper : '_OTHER';
    const origin = this.#origin(e.origin);
    const attributes: Attributes = {
      'http.request.method': method,
      'server.address': origin.address,
      'server.port': origin.port,
      'url.full': e.origin + (this.#options.redactQuery ? redactQuery(e.path) : e.path),
      'berth.component.kind': e.component.kind,
      'berth.component.name': e.component.name,
    };
    if (method !== e.method) attributes['http.request.method_original'] = e.method;
    if (e.attempt > 1) attributes['http.request.resend_count'] = e.attempt - 1;
    if (e.component.region !== undefined) attributes['berth.region'] = e.component.region;
    for (const name of this.#options.captureRequestHeaders) {
      const value = headerValue(e.headers, name);
      if (value !== undefined) attributes[`http.request.header.${name}`] = this.#options.redacted.has(name) ? [REDACTED] : value;
    }
    // Semconv span name: the method alone (low cardinality), `HTTP` when it is not a known one.
    const at = wallNow();
    const span = this.#tracer.startSpan(method === '_OTHER' ? 'HTTP' : method, { kind: SpanKind.CLIENT, attributes, startTime: at }, parent);
    const propagator = this.#options.propagator ?? (propagation.fields().length > 0 ? propagation : undefined);
    if (propagator !== undefined) propagator.inject(trace.setSpan(parent, span), e.headers, defaultTextMapSetter);
    else injectTraceContext(span.spanContext(), e.headers);
    if (this.#spans.size >= MAX_IN_FLIGHT) this.#orphanOldest();
    this.#spans.set(e, { span, at });
  }

  /**
   * No SDK: the span would be non-recording, carrying the parent's span context when there is a
   * valid one (the API's NoopTracer), so its attributes, times and end would be dropped unread.
   * Only propagation is left to do: the OTel spec has a non-recording span propagate its context
   * (Tracing API, "Behavior of the API in the absence of an installed SDK"); with no valid parent
   * there is nothing to inject unless a propagator (e.g. baggage) has its own fields.
   */
  #propagateOnly(parent: Context, e: RequestStartMessage): void {
    const propagator = this.#options.propagator ?? (propagation.fields().length > 0 ? propagation : undefined);
    const spanContext = trace.getSpanContext(parent);
    const valid = spanContext !== undefined && isSpanContextValid(spanContext);
    if (propagator !== undefined) {
      // What the propagator would have seen on the NoopTracer's span: the parent's context, or the invalid one.
      propagator.inject(valid ? parent : trace.setSpan(parent, trace.wrapSpanContext(INVALID_SPAN_CONTEXT)), e.headers, defaultTextMapSetter);
    } else if (valid) {
      injectTraceContext(spanContext, e.headers);
    }
  }

  #orphanOldest(): void {
    const oldest = this.#spans.entries().next();
    if (oldest.done === true) return;
    const [start, { span }] = oldest.value;
    this.#spans.delete(start);
    span.setAttribute('berth.orphaned', true);
    span.end();
  }

  #end(e: RequestEndMessage): void {
    const open = this.#spans.get(e.start);
    if (open === undefined) return;
    this.#spans.delete(e.start);
    const { span } = open;
    const end = wallNow();
    const tls = e.connectionId === undefined ? undefined : this.#tls.get(e.connectionId);
    if (tls !== undefined && e.connectionId !== undefined) this.#tls.delete(e.connectionId);
    if (!span.isRecording()) {
      span.end(end);
      return;
    }
    const { timings } = e;
    // Phases laid out backwards from the response head; the pools publish the start after the
    // wait for a connection, so earlier phases are pinned to the span start, never before it.
    const connectedAt = Math.max(open.at, end - timings.ttfbMs);
    const acquiredAt = Math.max(open.at, connectedAt - (timings.connectMs ?? 0));
    span.addEvent('berth.acquired', { 'berth.queued_ms': timings.queuedMs }, acquiredAt);
    if (timings.connectMs !== undefined) {
      span.addEvent('berth.connected', { 'berth.connect_ms': timings.connectMs }, connectedAt);
      if (tls !== undefined) {
        span.addEvent(
          'berth.tls_handshake',
          {
            'tls.protocol.version': tls.version.replace(/^TLSv/, ''),
            'tls.cipher': tls.cipher,
            'tls.resumed': tls.resumed,
            ...(tls.alpn === false ? {} : { 'tls.next_protocol': tls.alpn }),
            'berth.handshake_ms': tls.handshakeMs,
          },
          connectedAt,
        );
      }
    }
    span.setAttributes({
      'network.protocol.name': 'http',
      'network.protocol.version': e.protocol === 'h2' ? '2' : '1.1',
      'berth.connection.reused': e.reused,
      'berth.ttfb_ms': timings.ttfbMs,
    });
    if (e.connectionId !== undefined) span.setAttribute('berth.connection.id', e.connectionId);
    if (e.status !== undefined) span.setAttribute('http.response.status_code', e.status);
    // Semconv: a CLIENT span is an error on a transport failure or any status >= 400.
    if (e.error !== undefined) {
      span.setAttribute('error.type', e.error.code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.error.message });
    } else if (e.status !== undefined && e.status >= 400) {
      span.setAttribute('error.type', String(e.status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end(end);
  }

  #connection(id: string, tls: TlsHandshakeInfo | undefined): void {
    if (tls === undefined) return;
    if (this.#tls.size >= MAX_PENDING_TLS) {
      const oldest = this.#tls.keys().next();
      if (oldest.done !== true) this.#tls.delete(oldest.value);
    }
    this.#tls.set(id, tls);
  }

  #retry(e: RetryMessage): void {
    const attributes: Attributes = { 'berth.attempt': e.attempt, 'berth.delay_ms': e.delayMs };
    if (e.error !== undefined) attributes['error.type'] = e.error.code;
    else if (e.status !== undefined) attributes['error.type'] = String(e.status);
    activeSpan()?.addEvent('berth.retry', attributes);
  }

  #failover(e: GeoFailoverMessage): void {
    const attributes: Attributes = { 'berth.from_region': e.from, 'berth.to_region': e.to, 'error.type': e.error.code };
    if (e.status !== undefined) attributes['http.response.status_code'] = e.status;
    if (e.attempt !== undefined) attributes['berth.attempt'] = e.attempt;
    activeSpan()?.addEvent('berth.failover', attributes);
  }

  #hedge(e: GeoHedgeMessage): void {
    const attributes: Attributes = { 'berth.primary_region': e.primary, 'berth.secondary_region': e.secondary };
    if (e.winner !== undefined) attributes['berth.winner'] = e.winner;
    activeSpan()?.addEvent('berth.hedge', attributes);
  }

  #h2Retry(e: H2RetryMessage): void {
    activeSpan()?.addEvent('berth.h2_retry', { 'berth.reason': e.reason, 'berth.urgency': e.urgency });
  }

  #origin(origin: string): OriginParts {
    let parts = this.#origins.get(origin);
    if (parts === undefined) {
      const url = new URL(origin);
      const port = url.port === '' ? (url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : 80) : Number(url.port);
      // URL keeps IPv6 literals bracketed; server.address wants the bare address.
      parts = { address: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
      if (this.#origins.size < MAX_ORIGINS) this.#origins.set(origin, parts);
    }
    return parts;
  }
}

function activeSpan(): Span | undefined {
  const span = trace.getSpan(context.active());
  return span?.isRecording() === true ? span : undefined;
}

function headerValue(headers: Readonly<Record<string, string | string[]>>, name: string): string[] | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return typeof value === 'string' ? [value] : [...value];
  }
  return undefined;
}

import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import {
  ALL_CHANNELS,
  GEO_CHANNELS,
  H2_CHANNELS,
  HTTPS_POOL_CHANNELS,
  REQUEST_CHANNELS,
  RESILIENCE_CHANNELS,
} from '@berth/core-types';
import type {
  ComponentIdentity,
  ConnectionCreatedMessage,
  GeoFailoverMessage,
  GeoHedgeMessage,
  H2RetryMessage,
  H2SessionCreatedMessage,
  RequestEndMessage,
  RequestStartMessage,
  RequestTimings,
  RetryMessage,
} from '@berth/core-types';
import { context, createTraceState, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import type { Context, ContextManager, TextMapPropagator, TracerProvider } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { traceRequests } from './tracer.js';
import type { RequestTracer } from './tracer.js';

const pool: ComponentIdentity = { kind: 'https-pool', name: 'api', origin: 'https://api.example.com', region: 'eu' };

/** A context manager over AsyncLocalStorage, as the Node SDK installs (kept here: no SDK at runtime). */
class AlsContextManager implements ContextManager {
  readonly #als = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.#als.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.#als.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#als.disable();
    return this;
  }
}

let tracing: RequestTracer | undefined;
afterEach(() => {
  tracing?.stop();
  tracing = undefined;
  context.disable();
  propagation.disable();
  trace.disable();
});

function setup(options: Parameters<typeof traceRequests>[0] = {}): { exporter: InMemorySpanExporter; provider: BasicTracerProvider } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  tracing = traceRequests({ tracerProvider: provider, ...options });
  return { exporter, provider };
}

let nextId = 1;
function startMessage(overrides: Partial<RequestStartMessage> = {}): RequestStartMessage {
  return {
    component: pool,
    requestId: nextId++,
    method: 'GET',
    origin: 'https://api.example.com',
    path: '/v1/models?api_key=sk-secret&limit=5',
    headers: { authorization: 'Bearer sk-secret', 'x-request-id': 'r-1' },
    attempt: 1,
    startedAt: 0,
    ...overrides,
  };
}

function endMessage(start: RequestStartMessage, overrides: Partial<RequestEndMessage> = {}): RequestEndMessage {
  const timings: RequestTimings = { queuedMs: 2, connectMs: 5, ttfbMs: 10, totalMs: 17 };
  return { component: start.component, requestId: start.requestId, start, status: 200, protocol: 'h2', reused: false, connectionId: 'h2-1', timings, ...overrides };
}

const publish = (channel: string, message: object): void => diagnosticsChannel.channel(channel).publish(message);
const only = (exporter: InMemorySpanExporter): ReadableSpan => {
  const spans = exporter.getFinishedSpans();
  expect(spans).toHaveLength(1);
  return spans[0]!;
};

/** A context whose active span is a sampled remote parent (as extracted from an inbound `traceparent`). */
function remoteParent(): ReturnType<typeof trace.setSpanContext> {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
}

describe('traceRequests', () => {
  it('makes a CLIENT span per attempt with the HTTP client semantic conventions and the query redacted', () => {
    const { exporter } = setup();
    const start = startMessage();
    publish(REQUEST_CHANNELS.start, start);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    publish(REQUEST_CHANNELS.end, endMessage(start));

    const span = only(exporter);
    expect(span.name).toBe('GET');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.instrumentationScope.name).toBe('@berth/metrics');
    expect(span.attributes).toMatchObject({
      'http.request.method': 'GET',
      'server.address': 'api.example.com',
      'server.port': 443,
      'url.full': 'https://api.example.com/v1/models?api_key=REDACTED&limit=REDACTED',
      'http.response.status_code': 200,
      'network.protocol.name': 'http',
      'network.protocol.version': '2',
      'berth.component.kind': 'https-pool',
      'berth.region': 'eu',
      'berth.connection.reused': false,
      'berth.connection.id': 'h2-1',
    });
    expect(span.attributes['error.type']).toBeUndefined();
    expect(span.attributes['http.request.resend_count']).toBeUndefined();
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(JSON.stringify(span.attributes)).not.toContain('sk-secret');
    expect(span.events.map((e) => e.name)).toEqual(['berth.acquired', 'berth.connected']);
    expect(span.events[0]?.attributes).toEqual({ 'berth.queued_ms': 2 });
    expect(span.events[1]?.attributes).toEqual({ 'berth.connect_ms': 5 });
    // The timings reach back before the start event (the wait came first): pinned to the span start.
    const ms = ([s, ns]: [number, number]): number => s * 1e3 + ns / 1e6;
    for (const event of span.events) expect(ms(event.time)).toBeGreaterThanOrEqual(ms(span.startTime));
    expect(ms(span.events[1]!.time)).toBeLessThanOrEqual(ms(span.endTime));
  });

  it('normalizes a lower-case method and keeps the original', () => {
    const { exporter } = setup();
    const start = startMessage({ method: 'post' });
    publish(REQUEST_CHANNELS.start, start);
    publish(REQUEST_CHANNELS.end, endMessage(start));
    const span = only(exporter);
    expect(span.name).toBe('POST');
    expect(span.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.request.method_original': 'post' });
  });

  it('injects a W3C traceparent naming the attempt span into the outgoing headers', () => {
    const { exporter } = setup();
    const start = startMessage({ headers: { Traceparent: '00-stale', accept: 'application/json' } });
    publish(REQUEST_CHANNELS.start, start);
    publish(REQUEST_CHANNELS.end, endMessage(start));
    const { traceId, spanId } = only(exporter).spanContext();
    expect(start.headers).toEqual({ accept: 'application/json', traceparent: `00-${traceId}-${spanId}-01` });
  });

  it('carries the parent trace and its tracestate, and hangs retries and failovers on the caller span', () => {
    context.setGlobalContextManager(new AlsContextManager());
    const { exporter, provider } = setup();
    const tracer = provider.getTracer('app');
    const parent = tracer.startSpan('call model');
    const parentContext = trace.setSpan(context.active(), parent);
    const parentWithState = trace.setSpanContext(parentContext, { ...parent.spanContext(), traceState: createTraceState('vendor=abc') });
    const start = startMessage();
    context.with(parentContext, () => {
      publish(RESILIENCE_CHANNELS.retry, { component: pool, key: 'eu', attempt: 2, delayMs: 120, status: 503 } satisfies RetryMessage);
      publish(RESILIENCE_CHANNELS.retry, { component: pool, key: 'eu', attempt: 3, delayMs: 240, error: { code: 'ERR_BERTH_UPSTREAM_RESET', message: 'reset' } } satisfies RetryMessage);
      publish(GEO_CHANNELS.failover, { component: pool, from: 'eu', to: 'us', error: { code: 'ERR_BERTH_CONNECT_TIMEOUT', message: 't' } } satisfies GeoFailoverMessage);
      publish(GEO_CHANNELS.failover, { component: pool, from: 'us', to: 'ap', error: { code: 'ERR_BERTH_REGION_UNAVAILABLE', message: '503' }, status: 503, attempt: 2 } satisfies GeoFailoverMessage);
      publish(GEO_CHANNELS.hedge, { component: pool, primary: 'us', secondary: 'eu', winner: 'primary' } satisfies GeoHedgeMessage);
      publish(H2_CHANNELS.retry, { component: pool, reason: 'refused-stream', urgency: 1 } satisfies H2RetryMessage);
    });
    context.with(parentWithState, () => publish(REQUEST_CHANNELS.start, start));
    publish(REQUEST_CHANNELS.end, endMessage(start));
    parent.end();

    const [attempt, caller] = exporter.getFinishedSpans();
    expect(attempt?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(attempt?.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(start.headers['tracestate']).toBe('vendor=abc');
    expect(caller?.events.map((e) => [e.name, e.attributes])).toEqual([
      ['berth.retry', { 'berth.attempt': 2, 'berth.delay_ms': 120, 'error.type': '503' }],
      ['berth.retry', { 'berth.attempt': 3, 'berth.delay_ms': 240, 'error.type': 'ERR_BERTH_UPSTREAM_RESET' }],
      ['berth.failover', { 'berth.from_region': 'eu', 'berth.to_region': 'us', 'error.type': 'ERR_BERTH_CONNECT_TIMEOUT' }],
      ['berth.failover', { 'berth.from_region': 'us', 'berth.to_region': 'ap', 'error.type': 'ERR_BERTH_REGION_UNAVAILABLE', 'http.response.status_code': 503, 'berth.attempt': 2 }],
      ['berth.hedge', { 'berth.primary_region': 'us', 'berth.secondary_region': 'eu', 'berth.winner': 'primary' }],
      ['berth.h2_retry', { 'berth.reason': 'refused-stream', 'berth.urgency': 1 }],
    ]);
  });

  it('parents a queued attempt on its own caller when the publisher restores the caller context (publisher contract)', () => {
    context.setGlobalContextManager(new AlsContextManager());
    const { exporter, provider } = setup();
    const tracer = provider.getTracer('app');
    const callerA = tracer.startSpan('caller A');
    const callerB = tracer.startSpan('caller B');
    // B's request is queued: the pool captures B's async context when it enqueues...
    const queuedB = context.with(trace.setSpan(ROOT_CONTEXT, callerB), () => new AsyncResource('berth.request'));
    const naive = startMessage();
    const contracted = startMessage();
    // ...and starts it later from A's completion, where A's context is active.
    context.with(trace.setSpan(ROOT_CONTEXT, callerA), () => {
      publish(REQUEST_CHANNELS.start, naive);
      queuedB.runInAsyncScope(() => publish(REQUEST_CHANNELS.start, contracted));
    });
    publish(REQUEST_CHANNELS.end, endMessage(naive));
    publish(REQUEST_CHANNELS.end, endMessage(contracted));
    const [wrong, right] = exporter.getFinishedSpans();
    expect(wrong?.parentSpanContext?.spanId).toBe(callerA.spanContext().spanId);
    expect(right?.parentSpanContext?.spanId).toBe(callerB.spanContext().spanId);
    callerA.end();
    callerB.end();
  });

  it('drops retry and failover events when no span is active (nothing to attach them to)', () => {
    const { exporter } = setup();
    publish(RESILIENCE_CHANNELS.retry, { component: pool, key: 'eu', attempt: 2, delayMs: 1 } satisfies RetryMessage);
    publish(GEO_CHANNELS.hedge, { component: pool, primary: 'us', secondary: 'eu' } satisfies GeoHedgeMessage);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('marks transport failures and 4xx/5xx answers as errors with error.type', () => {
    const { exporter } = setup();
    const failed = startMessage({ attempt: 2 });
    publish(REQUEST_CHANNELS.start, failed);
    const { status: _status, connectionId: _id, ...rest } = endMessage(failed, { error: { code: 'ERR_BERTH_UPSTREAM_RESET', message: 'socket hang up' } });
    publish(REQUEST_CHANNELS.end, rest);
    const unavailable = startMessage();
    publish(REQUEST_CHANNELS.start, unavailable);
    publish(REQUEST_CHANNELS.end, endMessage(unavailable, { status: 503, protocol: 'http/1.1' }));

    const [first, second] = exporter.getFinishedSpans();
    expect(first?.attributes['error.type']).toBe('ERR_BERTH_UPSTREAM_RESET');
    expect(first?.attributes['http.request.resend_count']).toBe(1);
    expect(first?.attributes['http.response.status_code']).toBeUndefined();
    expect(first?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'socket hang up' });
    expect(second?.attributes['error.type']).toBe('503');
    expect(second?.attributes['network.protocol.version']).toBe('1.1');
    expect(second?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('adds a TLS handshake event from the connection the attempt opened', () => {
    const { exporter } = setup();
    const tls = { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', alpn: 'h2' as const, resumed: true, handshakeMs: 1.4 };
    publish(H2_CHANNELS.sessionCreated, { component: pool, sessionId: 'h2-1', maxConcurrentStreams: 100, tls } satisfies H2SessionCreatedMessage);
    publish(HTTPS_POOL_CHANNELS.connectionCreated, {
      component: pool,
      connection: { id: 'h1-9', protocol: 'http/1.1', createdAt: 0, lastUsedAt: 0, requestCount: 0, errorCount: 0, state: 'idle', tls: { ...tls, alpn: false } },
    } satisfies ConnectionCreatedMessage);
    publish(HTTPS_POOL_CHANNELS.connectionCreated, {
      component: pool,
      connection: { id: 'plain-1', protocol: 'http/1.1', createdAt: 0, lastUsedAt: 0, requestCount: 0, errorCount: 0, state: 'idle' },
    } satisfies ConnectionCreatedMessage);
    const first = startMessage();
    publish(REQUEST_CHANNELS.start, first);
    publish(REQUEST_CHANNELS.end, endMessage(first));
    const second = startMessage();
    publish(REQUEST_CHANNELS.start, second);
    publish(REQUEST_CHANNELS.end, endMessage(second, { connectionId: 'h1-9', reused: false }));
    const reused = startMessage();
    publish(REQUEST_CHANNELS.start, reused);
    publish(REQUEST_CHANNELS.end, endMessage(reused, { reused: true, timings: { queuedMs: 0, ttfbMs: 3, totalMs: 3 } }));

    const [a, b, c] = exporter.getFinishedSpans();
    const handshake = a?.events.find((e) => e.name === 'berth.tls_handshake');
    expect(handshake?.attributes).toEqual({
      'tls.protocol.version': '1.3',
      'tls.cipher': 'TLS_AES_256_GCM_SHA384',
      'tls.resumed': true,
      'tls.next_protocol': 'h2',
      'berth.handshake_ms': 1.4,
    });
    expect(b?.events.find((e) => e.name === 'berth.tls_handshake')?.attributes?.['tls.next_protocol']).toBeUndefined();
    // A reused connection opened nothing: only the acquire event.
    expect(c?.events.map((e) => e.name)).toEqual(['berth.acquired']);
  });

  it('keeps TLS facts of at most 1,024 unused connections, forgetting the oldest first', () => {
    const { exporter } = setup();
    const tls = { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', alpn: 'h2' as const, resumed: false, handshakeMs: 2 };
    for (let i = 0; i <= 1024; i += 1) {
      publish(H2_CHANNELS.sessionCreated, { component: pool, sessionId: `s-${i}`, maxConcurrentStreams: 100, tls } satisfies H2SessionCreatedMessage);
    }
    for (const sessionId of ['s-0', 's-1']) {
      const start = startMessage();
      publish(REQUEST_CHANNELS.start, start);
      publish(REQUEST_CHANNELS.end, endMessage(start, { connectionId: sessionId }));
    }
    const [evicted, kept] = exporter.getFinishedSpans();
    expect(evicted?.events.map((e) => e.name)).not.toContain('berth.tls_handshake');
    expect(kept?.events.map((e) => e.name)).toContain('berth.tls_handshake');
  });

  it('reports unknown methods as _OTHER and names the span HTTP', () => {
    const { exporter } = setup();
    const start = startMessage({ method: 'PURGE', origin: 'http://[::1]:8080', path: '/cache' });
    publish(REQUEST_CHANNELS.start, start);
    publish(REQUEST_CHANNELS.end, endMessage(start));
    const span = only(exporter);
    expect(span.name).toBe('HTTP');
    expect(span.attributes).toMatchObject({
      'http.request.method': '_OTHER',
      'http.request.method_original': 'PURGE',
      'server.address': '::1',
      'server.port': 8080,
      'url.full': 'http://[::1]:8080/cache',
    });
  });

  it('keeps the query when told to, and records chosen request headers with secrets redacted', () => {
    const { exporter } = setup({ redactQuery: false, captureRequestHeaders: ['X-Request-Id', 'authorization', 'x-tenant', 'absent'], redactHeaders: ['x-tenant'] });
    const start = startMessage({ headers: { Authorization: 'Bearer sk-secret', 'x-request-id': 'r-1', 'X-Tenant': ['t1', 't2'] } });
    publish(REQUEST_CHANNELS.start, start);
    publish(REQUEST_CHANNELS.end, endMessage(start));
    const span = only(exporter);
    expect(span.attributes['url.full']).toBe('https://api.example.com/v1/models?api_key=sk-secret&limit=5');
    expect(span.attributes['http.request.header.x-request-id']).toEqual(['r-1']);
    expect(span.attributes['http.request.header.authorization']).toEqual(['REDACTED']);
    expect(span.attributes['http.request.header.x-tenant']).toEqual(['REDACTED']);
    expect(span.attributes['http.request.header.absent']).toBeUndefined();
  });

  it('uses the global propagator when one is registered, or the one given', () => {
    const custom: TextMapPropagator = {
      inject: (ctx, carrier, setter) => setter.set(carrier, 'x-trace', trace.getSpanContext(ctx)?.spanId ?? 'none'),
      extract: (ctx) => ctx,
      fields: () => ['x-trace'],
    };
    propagation.setGlobalPropagator(custom);
    const { exporter } = setup();
    const start = startMessage({ headers: {} });
    publish(REQUEST_CHANNELS.start, start);
    publish(REQUEST_CHANNELS.end, endMessage(start));
    expect(start.headers).toEqual({ 'x-trace': only(exporter).spanContext().spanId });
    tracing?.stop();
    propagation.disable();

    tracing = traceRequests({ tracerProvider: new BasicTracerProvider(), propagator: custom });
    const again = startMessage({ headers: {} });
    publish(REQUEST_CHANNELS.start, again);
    expect(Object.keys(again.headers)).toEqual(['x-trace']);
  });

  it('with no SDK registered injects nothing of its own, yet propagates a trace received from upstream', () => {
    context.setGlobalContextManager(new AlsContextManager());
    tracing = traceRequests();
    const lone = startMessage({ headers: {} });
    publish(REQUEST_CHANNELS.start, lone);
    publish(REQUEST_CHANNELS.end, endMessage(lone));
    expect(lone.headers).toEqual({});

    const upstream = remoteParent();
    const child = startMessage({ headers: {} });
    context.with(upstream, () => publish(REQUEST_CHANNELS.start, child));
    publish(REQUEST_CHANNELS.end, endMessage(child));
    expect(child.headers).toEqual({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
  });

  it('with no SDK registered still hands the upstream context to a propagator, and leaves no span behind for an SDK registered later', () => {
    context.setGlobalContextManager(new AlsContextManager());
    const custom: TextMapPropagator = {
      inject: (ctx, carrier, setter) => setter.set(carrier, 'x-trace', trace.getSpanContext(ctx)?.spanId ?? 'none'),
      extract: (ctx) => ctx,
      fields: () => ['x-trace'],
    };
    tracing = traceRequests({ propagator: custom });
    const upstream = remoteParent();
    const child = startMessage({ headers: {} });
    context.with(upstream, () => publish(REQUEST_CHANNELS.start, child));
    const lone = startMessage({ headers: {} });
    publish(REQUEST_CHANNELS.start, lone);
    expect(child.headers).toEqual({ 'x-trace': 'b7ad6b7169203331' });
    expect(lone.headers).toEqual({ 'x-trace': '0000000000000000' });

    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    publish(REQUEST_CHANNELS.end, endMessage(child));
    tracing.stop();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('follows a global provider registered after tracing started', () => {
    tracing = traceRequests();
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    const start = startMessage();
    publish(REQUEST_CHANNELS.start, start);
    publish(REQUEST_CHANNELS.end, endMessage(start));
    expect(only(exporter).name).toBe('GET');
  });

  it('ignores an end whose start it never saw', () => {
    const { exporter } = setup();
    publish(REQUEST_CHANNELS.end, endMessage(startMessage()));
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('stop() unsubscribes every channel and ends attempts still in flight', () => {
    const { exporter } = setup();
    const start = startMessage();
    publish(REQUEST_CHANNELS.start, start);
    tracing?.stop();
    tracing?.stop();
    expect(only(exporter).attributes['berth.tracing_stopped']).toBe(true);
    for (const name of ALL_CHANNELS) expect(diagnosticsChannel.channel(name).hasSubscribers, name).toBe(false);
    publish(REQUEST_CHANNELS.end, endMessage(start));
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });

  it('ends the oldest attempt as orphaned once 10,000 are in flight without an end', () => {
    const { exporter: exp } = setup();
    const first = startMessage();
    publish(REQUEST_CHANNELS.start, first);
    for (let i = 1; i < 10_000; i += 1) publish(REQUEST_CHANNELS.start, startMessage());
    expect(exp.getFinishedSpans()).toHaveLength(0);
    publish(REQUEST_CHANNELS.start, startMessage());
    expect(exp.getFinishedSpans()).toHaveLength(1);
    expect(exp.getFinishedSpans()[0]?.attributes['berth.orphaned']).toBe(true);
    publish(REQUEST_CHANNELS.end, endMessage(first));
    expect(exp.getFinishedSpans()).toHaveLength(1);
  });

  it('reports every invalid option at once', () => {
    expect(() =>
      traceRequests({
        tracerProvider: {} as TracerProvider,
        propagator: {} as TextMapPropagator,
        redactQuery: 'yes' as unknown as boolean,
        captureRequestHeaders: ['bad header'],
        redactHeaders: [''],
        logger: { info: () => {} } as never,
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_BERTH_CONFIG',
        problems: ['tracerProvider', 'propagator', 'redactQuery', 'captureRequestHeaders', 'redactHeaders', 'logger'].map((path): unknown =>
          expect.objectContaining({ path }),
        ),
      }),
    );
  });
});

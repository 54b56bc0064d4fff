import diagnosticsChannel from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { REQUEST_CHANNELS, isBerthError } from '@berth/core-types';
import type { ComponentIdentity, RequestEndMessage, RequestOptions, RequestStartMessage, ResponseData, Transport } from '@berth/core-types';
import { createTestTransport, startHttpServer, testPki } from '@berth/testkit';
import type { TestServer } from '@berth/testkit';
import { SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { collectMetrics } from './collector.js';
import type { MetricsCollector } from './collector.js';
import { traceRequests } from './tracer.js';
import type { RequestTracer } from './tracer.js';

const start = diagnosticsChannel.channel(REQUEST_CHANNELS.start);
const end = diagnosticsChannel.channel(REQUEST_CHANNELS.end);
let nextRequestId = 1;

/**
 * Publishes `berth:request:start`/`end` around a real transport exactly as the leaf pools do:
 * the start message's `headers` object is the one that goes on the wire, after subscribers ran.
 * (The pools cannot be imported here: DESIGN.md's dependency rule.)
 */
function publishingTransport(inner: Transport, component: ComponentIdentity, origin: string): Transport {
  return {
    async request(opts: RequestOptions): Promise<ResponseData> {
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k] = typeof v === 'string' ? v : [...v];
      const startedAt = performance.now();
      const message: RequestStartMessage = {
        component, requestId: nextRequestId++, method: opts.method ?? 'GET', origin, path: opts.path, headers, attempt: 1, startedAt,
      };
      if (start.hasSubscribers) start.publish(message);
      try {
        const response = await inner.request({ ...opts, headers });
        if (end.hasSubscribers) {
          end.publish({
            component, requestId: message.requestId, start: message, status: response.status, protocol: response.meta.protocol,
            reused: response.meta.reused, connectionId: response.meta.connectionId, timings: response.meta.timings,
          } satisfies RequestEndMessage);
        }
        return response;
      } catch (error) {
        if (end.hasSubscribers && isBerthError(error)) {
          const totalMs = performance.now() - startedAt;
          end.publish({
            component, requestId: message.requestId, start: message, protocol: 'http/1.1', reused: false,
            timings: { queuedMs: 0, ttfbMs: totalMs, totalMs }, error: { code: error.code, message: error.message },
          } satisfies RequestEndMessage);
        }
        throw error;
      }
    },
    stats: () => inner.stats(),
    close: () => inner.close(),
  };
}

let server: TestServer | undefined;
let transport: Transport | undefined;
let tracing: RequestTracer | undefined;
let collector: MetricsCollector | undefined;
afterEach(async () => {
  tracing?.stop();
  collector?.stop();
  await transport?.close();
  await server?.close();
  tracing = undefined;
  collector = undefined;
  transport = undefined;
  server = undefined;
});

async function setup(): Promise<{ exporter: InMemorySpanExporter; registry: Registry; server: TestServer; transport: Transport; component: ComponentIdentity }> {
  server = await startHttpServer({ protocol: 'https' });
  const component: ComponentIdentity = { kind: 'https-pool', name: 'e2e', origin: server.origin, region: 'local' };
  const inner = createTestTransport({ origin: server.origin, ca: (await testPki()).ca.cert });
  transport = publishingTransport(inner, component, server.origin);
  const exporter = new InMemorySpanExporter();
  tracing = traceRequests({ tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }) });
  const registry = new Registry();
  collector = collectMetrics({ registry });
  return { exporter, registry, server, transport, component };
}

describe('metrics and tracing over a real HTTPS request', () => {
  it('delivers the traceparent of each attempt span to the server and counts reuse, without leaking secrets', async () => {
    const { exporter, registry, server: s, transport: t } = await setup();
    for (let i = 0; i < 2; i += 1) {
      const response = await t.request({ path: `/items/${i}?sig=top-secret`, headers: { authorization: 'Bearer sk-live-123' } });
      await response.text();
      // Let the agent take the socket back before the next request (node:http frees it after the response ends).
      await new Promise((resolve) => setImmediate(resolve));
    }
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(2);
    for (const [i, span] of spans.entries()) {
      const { traceId, spanId } = span.spanContext();
      expect(s.requests[i]?.headers['traceparent']).toBe(`00-${traceId}-${spanId}-01`);
      expect(s.requests[i]?.headers['authorization']).toBe('Bearer sk-live-123');
      expect(span.attributes['url.full']).toBe(`${s.origin}/items/${i}?sig=REDACTED`);
      expect(span.attributes['server.port']).toBe(s.port);
      expect(span.attributes['http.response.status_code']).toBe(200);
    }
    expect(spans[1]?.attributes['berth.connection.reused']).toBe(true);

    const text = await registry.metrics();
    const id = `kind="https-pool",name="e2e",origin="${s.origin}",region="local"`;
    expect(text).toContain(`berth_requests_total{${id},status_class="2xx",protocol="http/1.1",reused="false"} 1`);
    expect(text).toContain(`berth_requests_total{${id},status_class="2xx",protocol="http/1.1",reused="true"} 1`);
    expect(text).toContain(`berth_request_duration_seconds_count{${id},protocol="http/1.1"} 2`);
    // Metrics link to traces: the last request of a bucket is its OpenMetrics exemplar.
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
    const { traceId, spanId } = spans[1]!.spanContext();
    const exemplarLine = (await registry.metrics()).split('\n').find((line) => line.includes(`# {trace_id="${traceId}",span_id="${spanId}"}`));
    expect(exemplarLine).toMatch(/^berth_request_duration_seconds_bucket\{le="[^"]+",kind="https-pool",name="e2e",/);
    for (const secret of ['sk-live-123', 'top-secret', '/items/']) {
      expect(text).not.toContain(secret);
      expect(JSON.stringify(spans.map((sp) => sp.attributes))).not.toContain(secret === '/items/' ? 'sig=top' : secret);
    }
  });

  it('ends the span as an error and counts the failure when the server resets before answering', async () => {
    const { exporter, registry, server: s, transport: t } = await setup();
    s.behave({ resetBeforeResponse: true });
    await expect(t.request({ path: '/boom' })).rejects.toMatchObject({ code: 'ERR_BERTH_UPSTREAM_RESET' });
    const [span] = exporter.getFinishedSpans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['error.type']).toBe('ERR_BERTH_UPSTREAM_RESET');
    expect(await registry.metrics()).toContain('code="ERR_BERTH_UPSTREAM_RESET"} 1');
  });
});

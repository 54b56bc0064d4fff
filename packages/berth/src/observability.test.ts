import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ALL_CHANNELS } from '@berth/core-types';
import { subscribe, unsubscribe, channel } from 'node:diagnostics_channel';
import { startHttpServer, testPki } from '@berth/testkit';
import type { TestServer } from '@berth/testkit';
import { createBerth } from './index.js';
import type { Berth } from './index.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(protocol: 'https' | 'h2'): Promise<{ server: TestServer; berth: Berth; registry: Registry; exporter: InMemorySpanExporter }> {
  const server = await startHttpServer({ protocol });
  cleanups.push(() => server.close());
  const registry = new Registry();
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const berth = createBerth({
    origin: server.origin,
    tls: { ca: (await testPki()).ca.cert, useSystemRoots: false },
    protocol: protocol === 'h2' ? 'h2' : 'h1',
    pool: { maxConnections: 1, minIdle: 0 },
    scaling: false,
    metrics: { registry },
    tracing: { tracerProvider: provider },
  });
  cleanups.push(() => berth.close());
  return { server, berth, registry, exporter };
}

describe.each(['https', 'h2'] as const)('metrics and tracing through the real %s transport', (protocol) => {
  it('sends the span of each attempt as traceparent and counts connections and reuse', async () => {
    const { server, berth, registry, exporter } = await setup(protocol);
    for (let i = 0; i < 2; i++) await (await berth.request({ path: `/r${i}?secret=1` })).dump();
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(2);
    for (const [i, span] of spans.entries()) {
      const { traceId, spanId } = span.spanContext();
      expect(server.requests[i]?.headers['traceparent']).toBe(`00-${traceId}-${spanId}-01`);
      expect(span.attributes['http.response.status_code']).toBe(200);
      expect(String(span.attributes['url.full'])).not.toContain('secret=1');
    }
    const text = await registry.metrics();
    expect(text).toMatch(/berth_requests_total\{[^}]*reused="true"[^}]*\} 1/);
    expect(text).toMatch(/berth_requests_total\{[^}]*reused="false"[^}]*\} 1/);
    if (protocol === 'https') expect(text).toMatch(/berth_connections_created_total\{[^}]*\} 1/);
    expect(text).toMatch(/berth_tls_handshake_seconds_count\{[^}]*\} [1-9]/);
  });
});

describe('close()', () => {
  it('leaves no diagnostics-channel subscriber behind', async () => {
    const { berth } = await setup('https');
    await (await berth.request({ path: '/' })).dump();
    // A subscriber of our own shows the check can fail.
    const probe = () => {};
    subscribe(ALL_CHANNELS[0]!, probe);
    expect(channel(ALL_CHANNELS[0]!).hasSubscribers).toBe(true);
    unsubscribe(ALL_CHANNELS[0]!, probe);
    await berth.close();
    for (const name of ALL_CHANNELS) expect([name, channel(name).hasSubscribers]).toEqual([name, false]);
  });
});

describe('several clients in one process', () => {
  it('share one collector per registry and one tracer per provider, released by the last close', async () => {
    const server = await startHttpServer({ protocol: 'https' });
    cleanups.push(() => server.close());
    const registry = new Registry();
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const ca = (await testPki()).ca.cert;
    const make = (name: string) =>
      createBerth({
        name,
        origin: server.origin,
        protocol: 'h1',
        tls: { ca, useSystemRoots: false },
        pool: { minIdle: 0 },
        scaling: false,
        metrics: { registry },
        tracing: { tracerProvider: provider },
      });
    const a = make('a');
    const b = make('b');
    await (await a.request({ path: '/' })).dump();
    await (await b.request({ path: '/' })).dump();
    // One span per request, not one per client.
    expect(exporter.getFinishedSpans()).toHaveLength(2);
    await a.close();
    await (await b.request({ path: '/' })).dump();
    expect(exporter.getFinishedSpans()).toHaveLength(3);
    const text = await registry.metrics();
    expect(text).toMatch(/berth_requests_total\{[^}]*name="a\/default"[^}]*reused="false"\} 1/);
    expect(text).toMatch(/berth_requests_total\{[^}]*name="b\/default"[^}]*reused="true"\} 1/);
    await b.close();
    for (const name of ALL_CHANNELS) expect([name, channel(name).hasSubscribers]).toEqual([name, false]);
  });
});

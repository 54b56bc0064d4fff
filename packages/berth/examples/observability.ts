import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { createBerth } from 'berth';

/** Prometheus metrics and OpenTelemetry spans; W3C `traceparent` goes out on every request. */
export async function observability(origin: string, ca: string) {
  const registry = new Registry(); // or prom-client's default register
  const exporter = new InMemorySpanExporter(); // your app's exporter (OTLP …) in production
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const berth = createBerth({
    origin,
    tls: { ca, useSystemRoots: false },
    metrics: { registry },
    tracing: { tracerProvider },
  });
  try {
    await (await berth.request({ path: '/v1/chat?user=secret' })).dump();
    const exposition = await registry.metrics(); // serve this at /metrics
    return { exposition, spans: exporter.getFinishedSpans() };
  } finally {
    await berth.close();
  }
}

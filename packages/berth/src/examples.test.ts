import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy, startHttpServer, startWsServer, testPki } from '@berth/testkit';
import { observability } from '../examples/observability.js';
import { regionsFailover } from '../examples/regions-failover.js';
import { singleOrigin } from '../examples/single-origin.js';
import { websocketChannels } from '../examples/websocket-channels.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
async function closing<T extends { close(): Promise<unknown> }>(thing: Promise<T>): Promise<T> {
  const t = await thing;
  cleanups.push(() => t.close());
  return t;
}

describe('README examples', () => {
  it('quotes every example file verbatim, so the README cannot drift from what the tests run', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const name of ['single-origin', 'regions-failover', 'websocket-channels', 'observability']) {
      const source = readFileSync(new URL(`../examples/${name}.ts`, import.meta.url), 'utf8').trim();
      expect(readme.includes(source), `README.md must contain examples/${name}.ts verbatim`).toBe(true);
    }
  });

  it('single origin', async () => {
    const server = await closing(startHttpServer({ protocol: 'h2', behaviour: { body: '{"data":[]}' } }));
    const line = await singleOrigin(server.origin, (await testPki()).ca.cert);
    expect(line).toMatch(/^200 over h2, reused=(true|false): \{"data":\[\]\}$/);
  });

  it('three regions with failover', async () => {
    const servers = await Promise.all([0, 1, 2].map(() => closing(startHttpServer({ protocol: 'https' }))));
    const proxies = await Promise.all(
      servers.map((s, i) => closing(startFaultProxy({ host: s.host, port: s.port }, { latencyMs: [2, 30, 60][i] ?? 0 }))),
    );
    const [eu, us, ap] = proxies.map((p) => `https://127.0.0.1:${p.port}`) as [string, string, string];
    const result = await regionsFailover({ eu, us, ap }, (await testPki()).ca.cert, async () => {
      await proxies[0]!.set({ mode: 'reset' });
      proxies[0]!.cutAll();
    });
    expect(result.served.slice(0, 10).filter((r) => r === 'eu').length).toBeGreaterThan(5);
    expect(result.served.slice(10)).not.toContain('eu');
    expect(result.served).toHaveLength(20);
  });

  it('WebSocket channels', async () => {
    const ws = await closing(startWsServer());
    const first = await websocketChannels(`https://127.0.0.1:${ws.port}`, (await testPki()).ca.cert);
    expect(first).toContain('BTC-USD');
  });

  it('Prometheus and OpenTelemetry', async () => {
    const server = await closing(startHttpServer({ protocol: 'https' }));
    const { exposition, spans } = await observability(server.origin, (await testPki()).ca.cert);
    expect(exposition).toMatch(/berth_requests_total\{[^}]*\} 1/);
    expect(spans).toHaveLength(1);
    const { traceId, spanId } = spans[0]!.spanContext();
    expect(server.requests[0]?.headers['traceparent']).toBe(`00-${traceId}-${spanId}-01`);
    expect(String(spans[0]!.attributes['url.full'])).not.toContain('secret');
  });
});

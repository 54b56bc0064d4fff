import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, testPki } from '@berth/testkit';
import type { TestPki, TestServer } from '@berth/testkit';
import { startGateway } from './gateway.js';
import type { Gateway } from './gateway.js';
import type { GatewayConfig } from './options.js';

let pki: TestPki;
const opened: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  pki = await testPki();
});

afterEach(async () => {
  while (opened.length > 0) await opened.pop()?.close();
});

async function server(options: Parameters<typeof startHttpServer>[0] = {}): Promise<TestServer> {
  const s = await startHttpServer({ protocol: 'https', ...options });
  opened.push(s);
  return s;
}

async function gateway(config: Omit<GatewayConfig, 'port'> & { port?: number }, env: Record<string, string> = {}): Promise<Gateway> {
  const g = await startGateway({ port: 0, ...config }, { env });
  // Closed before the servers (afterEach pops in reverse order).
  opened.push(g);
  return g;
}

function upstream(origin: string, extra: Record<string, unknown> = {}) {
  return { origin, tls: { ca: pki.ca.cert, useSystemRoots: false }, ...extra };
}

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One request on a fresh connection (agent: false), so nothing is left open after it. */
function call(base: string, path: string, options: http.RequestOptions & { body?: string | Readable } = {}): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path, agent: false, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const body = options.body;
    if (body instanceof Readable) body.pipe(req);
    else req.end(body);
  });
}

/** Writes raw bytes and reads the whole reply (the gateway closes after refusals). */
function raw(base: string, text: string): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => socket.write(text));
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (reply += c));
    socket.on('end', () => {
      socket.destroy();
      resolve(reply);
    });
    socket.on('error', reject);
  });
}

function errorCode(reply: Reply): string {
  return (JSON.parse(reply.body) as { error: { code: string } }).error.code;
}

describe('gateway forwarding', () => {
  it('forwards /<upstream>/<path> with its query to the upstream and strips hop-by-hop headers both ways', async () => {
    const origin = await server({
      behaviour: { echo: true, headers: { 'keep-alive': 'timeout=77', 'x-upstream': 'yes' } },
    });
    const g = await gateway({ upstreams: { api: upstream(origin.origin) } });
    const reply = await call(g.url, '/api/v1/items?limit=2', {
      headers: { 'x-trace': 'abc', 'proxy-authorization': 'secret', connection: 'x-drop-me', 'x-drop-me': '1', te: 'trailers', expect: '100-continue' },
    });
    expect(reply.status).toBe(200);
    const echoed = JSON.parse(reply.body) as { path: string; headers: Record<string, string> };
    expect(echoed.path).toBe('/v1/items?limit=2');
    expect(echoed.headers['x-trace']).toBe('abc');
    expect(echoed.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(echoed.headers).not.toHaveProperty('proxy-authorization');
    expect(echoed.headers).not.toHaveProperty('x-drop-me');
    expect(echoed.headers).not.toHaveProperty('expect');
    expect(echoed.headers['host']).not.toContain(g.url.split('//')[1]);
    expect(reply.headers['x-upstream']).toBe('yes');
    expect(reply.headers['x-berth-region']).toBe('default');
    // Node adds its own keep-alive for the client connection; the upstream's value is gone.
    expect(reply.headers['keep-alive']).not.toBe('timeout=77');
  });

  it('forwards "/<upstream>" and "/<upstream>?q" to the upstream root', async () => {
    const origin = await server({ behaviour: { echo: true } });
    const g = await gateway({ upstreams: { api: upstream(origin.origin) } });
    const bare = JSON.parse((await call(g.url, '/api')).body) as { path: string };
    const query = JSON.parse((await call(g.url, '/api?x=1')).body) as { path: string };
    const doubled = JSON.parse((await call(g.url, '/api//etc')).body) as { path: string };
    expect([bare.path, query.path, doubled.path]).toEqual(['/', '/?x=1', '/etc']);
  });

  it('streams a request body upstream and a large response body back', async () => {
    const origin = await server({ behaviour: (req) => (req.method === 'POST' ? { echo: true } : { bodyBytes: 2_000_000, chunkBytes: 65_536 }) });
    const g = await gateway({ upstreams: { api: upstream(origin.origin) } });
    const chunks = Readable.from(['part-1;', 'part-2;', 'part-3']);
    const posted = await call(g.url, '/api/upload', { method: 'POST', body: chunks, headers: { 'transfer-encoding': 'chunked' } });
    expect(posted.status).toBe(200);
    expect((JSON.parse(posted.body) as { body: string }).body).toBe('part-1;part-2;part-3');
    const big = await call(g.url, '/api/big');
    expect(big.status).toBe(200);
    expect(big.body.length).toBe(2_000_000);
  });

  it('maps an unreachable upstream to 502 with the Berth error code in a JSON body', async () => {
    const closed = await server();
    const origin = closed.origin;
    await closed.close();
    opened.pop();
    const g = await gateway({ upstreams: { api: upstream(origin, { protocol: 'h1', resilience: false }) } });
    const reply = await call(g.url, '/api/x');
    expect(reply.status).toBe(502);
    expect(reply.headers['content-type']).toContain('application/json');
    expect(errorCode(reply)).toBe('ERR_BERTH_CONNECT_REFUSED');
  });

  it('answers 504 with ERR_BERTH_TIMEOUT when the upstream is slower than limits.requestTimeoutMs', async () => {
    const origin = await server({ behaviour: { delayMs: 600 } });
    const g = await gateway({
      limits: { requestTimeoutMs: 200 },
      upstreams: { api: upstream(origin.origin, { protocol: 'h1', resilience: false }) },
    });
    const reply = await call(g.url, '/api/slow');
    expect(reply.status).toBe(504);
    expect(errorCode(reply)).toMatch(/TIMEOUT/);
  });
});

describe('gateway refusals', () => {
  it('refuses an unknown upstream with 404 and names the configured ones', async () => {
    const origin = await server();
    const g = await gateway({ upstreams: { api: upstream(origin.origin) } });
    const reply = await call(g.url, '/nope/x');
    expect(reply.status).toBe(404);
    expect(errorCode(reply)).toBe('ERR_BERTH_INVALID_REQUEST');
    expect(reply.body).toContain('api');
    expect(origin.requests).toHaveLength(0);
  });

  it('refuses an absolute-form request target: never an open proxy', async () => {
    const origin = await server();
    const g = await gateway({ upstreams: { api: upstream(origin.origin) } });
    const reply = await raw(g.url, `GET ${origin.origin}/secret HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n`);
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(reply).toContain('ERR_BERTH_INVALID_REQUEST');
    expect(origin.requests).toHaveLength(0);
  });

  it('refuses CONNECT with 405', async () => {
    const origin = await server();
    const g = await gateway({ upstreams: { api: upstream(origin.origin) } });
    const reply = await raw(g.url, `CONNECT ${origin.host}:${origin.port} HTTP/1.1\r\nHost: ${origin.host}:${origin.port}\r\n\r\n`);
    expect(reply).toMatch(/^HTTP\/1\.1 405/);
    expect(reply).toContain('ERR_BERTH_INVALID_REQUEST');
    expect(origin.requests).toHaveLength(0);
  });

  it('refuses a declared oversized body with 413 before contacting the upstream', async () => {
    const origin = await server();
    const g = await gateway({ limits: { maxBodyBytes: 10 }, upstreams: { api: upstream(origin.origin) } });
    const reply = await call(g.url, '/api/x', { method: 'POST', body: 'x'.repeat(11) });
    expect(reply.status).toBe(413);
    expect(errorCode(reply)).toBe('ERR_BERTH_BODY_TOO_LARGE');
    expect(origin.requests).toHaveLength(0);
  });

  it('refuses a chunked body that grows past the limit with 413', async () => {
    const origin = await server({ behaviour: { echo: true } });
    const g = await gateway({ limits: { maxBodyBytes: 1000 }, upstreams: { api: upstream(origin.origin, { protocol: 'h1' }) } });
    const body = Readable.from(Array.from({ length: 20 }, () => 'y'.repeat(100)));
    const reply = await call(g.url, '/api/x', { method: 'POST', body, headers: { 'transfer-encoding': 'chunked' } });
    expect(reply.status).toBe(413);
    expect(errorCode(reply)).toBe('ERR_BERTH_BODY_TOO_LARGE');
  });

  it('refuses too many header fields with 431', async () => {
    const origin = await server();
    const g = await gateway({ limits: { maxHeaderCount: 5 }, upstreams: { api: upstream(origin.origin) } });
    const headers = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`x-h${i}`, 'v']));
    const reply = await call(g.url, '/api/x', { headers });
    expect(reply.status).toBe(431);
    expect(errorCode(reply)).toBe('ERR_BERTH_INVALID_REQUEST');
  });

  it('refuses a request head larger than limits.maxHeaderBytes with 431', async () => {
    const origin = await server();
    const g = await gateway({ limits: { maxHeaderBytes: 2048 }, upstreams: { api: upstream(origin.origin) } });
    const reply = await raw(g.url, `GET /api/x HTTP/1.1\r\nHost: a\r\nx-big: ${'z'.repeat(4000)}\r\n\r\n`);
    expect(reply).toMatch(/^HTTP\/1\.1 431/);
    expect(reply).toContain('ERR_BERTH_INVALID_REQUEST');
  });

  it('refuses a client over its concurrency limit with 429', async () => {
    const origin = await server({ behaviour: { delayMs: 300 } });
    const g = await gateway({ limits: { maxConcurrentPerClient: 1 }, upstreams: { api: upstream(origin.origin) } });
    const [first, second] = await Promise.all([
      call(g.url, '/api/slow'),
      new Promise<void>((resolve) => setTimeout(resolve, 100)).then(() => call(g.url, '/api/slow')),
    ]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(429);
    expect(errorCode(second)).toBe('ERR_BERTH_QUEUE_FULL');
  });
});

describe('gateway endpoints', () => {
  it('serves /healthz, /readyz once warm, /stats and /metrics', async () => {
    const origin = await server();
    const g = await gateway({ upstreams: { api: upstream(origin.origin) } });
    expect((await call(g.url, '/healthz')).status).toBe(200);
    await g.client('api')?.ready();
    // ready() resolved for the gateway's own warm-up too (same single-flight warm-up).
    await new Promise((resolve) => setImmediate(resolve));
    const ready = await call(g.url, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: true, upstreams: { api: { warm: true, healthyRegions: 1 } } });
    await call(g.url, '/api/x');
    const stats = JSON.parse((await call(g.url, '/stats')).body) as { gateway: { responses: Record<string, number> }; upstreams: Record<string, { router: { requests: number } }> };
    expect(stats.gateway.responses['200']).toBeGreaterThanOrEqual(3);
    expect(stats.upstreams['api']?.router.requests).toBeGreaterThanOrEqual(1);
    const metrics = await call(g.url, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('berth_requests_total');
    expect(metrics.body).toMatch(/berth_gateway_responses_total\{status="200"\} \d+/);
  });

  it('reports not ready (503) while no region of an upstream can be reached', async () => {
    const closed = await server();
    const origin = closed.origin;
    await closed.close();
    opened.pop();
    const g = await gateway({ metrics: false, upstreams: { api: upstream(origin) } });
    await expect(g.client('api')?.ready()).rejects.toThrow();
    const ready = await call(g.url, '/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: false });
    expect((await call(g.url, '/metrics')).status).toBe(404);
  });

  it('drains in-flight requests on close and refuses new ones meanwhile', async () => {
    const origin = await server({ behaviour: { delayMs: 300 } });
    const g = await startGateway({ port: 0, upstreams: { api: upstream(origin.origin) } });
    const inFlight = call(g.url, '/api/slow');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = g.close();
    const reply = await inFlight;
    await closing;
    expect(reply.status).toBe(200);
    await expect(call(g.url, '/api/x')).rejects.toThrow();
  });
});

import http2 from 'node:http2';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer } from './http-server.js';
import type { TestServer } from './http-server.js';
import { testPki } from './pki.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: Parameters<typeof startHttpServer>[0] = {}): Promise<TestServer> {
  const s = await startHttpServer(options);
  servers.push(s);
  return s;
}

async function get(
  s: TestServer,
  path = '/',
  headers: Record<string, string> = {},
  agent: https.Agent | false = false,
): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  const { ca } = await testPki();
  return new Promise((resolve, reject) => {
    const req = https.request({ host: s.host, port: s.port, path, ca: ca.cert, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('startHttpServer (https)', () => {
  it('answers with the scripted status, headers and body, and records the request', async () => {
    const s = await server({ behaviour: { status: 201, headers: { 'x-test': 'yes' }, body: 'hello' } });
    const res = await get(s, '/a?b=1', { 'x-client': '1' });
    expect(res).toMatchObject({ status: 201, body: 'hello' });
    expect(res.headers['x-test']).toBe('yes');
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]).toMatchObject({ method: 'GET', path: '/a?b=1', protocol: 'http/1.1', connection: 0 });
    expect(s.requests[0]?.headers['x-client']).toBe('1');
  });

  it('routes per path and per request header, over the default', async () => {
    const s = await server({ behaviour: { body: 'default' } });
    s.route('/r', { body: 'routed' });
    expect((await get(s, '/x')).body).toBe('default');
    expect((await get(s, '/r?q')).body).toBe('routed');
    expect((await get(s, '/r', { 'x-berth-behaviour': JSON.stringify({ status: 503 }) })).status).toBe(503);
  });

  it('sends generated bodies of the asked size in slow chunks', async () => {
    const s = await server({ behaviour: { bodyBytes: 3000, chunkBytes: 1000, chunkIntervalMs: 30 } });
    const started = Date.now();
    const res = await get(s);
    expect(res.body).toHaveLength(3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(60);
    expect(res.headers['transfer-encoding']).toBe('chunked');
  });

  it('resets mid-body, so the client sees an aborted response', async () => {
    const s = await server({ behaviour: { bodyBytes: 10_000, resetMidBody: true } });
    await expect(get(s)).rejects.toThrow(/aborted|ECONNRESET|socket hang up/);
  });

  it('resets before any response byte', async () => {
    const s = await server({ behaviour: { resetBeforeResponse: true } });
    await expect(get(s)).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it('says Connection: close and closes, or closes silently after the response', async () => {
    const s = await server({ behaviour: { connectionClose: true } });
    const agent = new https.Agent({ keepAlive: true });
    try {
      const res = await get(s, '/', {}, agent);
      expect(res.headers.connection).toBe('close');
      await s.waitForConnections((n) => n === 0);
      s.behave({ closeAfterResponse: true });
      await get(s, '/', {}, agent);
      await s.waitForConnections((n) => n === 0);
      expect(s.totalConnections()).toBe(2);
    } finally {
      agent.destroy();
    }
  });

  it('closes idle keep-alive sockets after keepAliveTimeoutMs and counts connections', async () => {
    const s = await server({ keepAliveTimeoutMs: 50 });
    const agent = new https.Agent({ keepAlive: true });
    try {
      await get(s, '/', {}, agent);
      expect(s.connectionCount()).toBe(1);
      await s.waitForConnections((n) => n === 0, 1000);
    } finally {
      agent.destroy();
    }
  });

  it('records the SNI a client sends, and none for an IP literal', async () => {
    const s = await server();
    const { ca } = await testPki();
    for (const servername of ['localhost', undefined]) {
      await new Promise<void>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: s.port, ca: ca.cert, ...(servername ? { servername } : {}) }, () => {
          socket.end();
          resolve();
        });
        socket.on('error', reject);
      });
    }
    // The server sees the handshake finish a moment after the client does (TLS 1.3).
    await expect.poll(() => s.sniSeen.length).toBe(2);
    expect(s.sniSeen).toEqual(['localhost', false]);
  });

  it('requires a client certificate when asked (mTLS)', async () => {
    const pki = await testPki();
    const s = await server({ tls: { requireClientCertCa: pki.ca.cert } });
    await expect(get(s)).rejects.toThrow();
    const ok = await new Promise<number>((resolve, reject) => {
      const req = https.request(
        { host: s.host, port: s.port, ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, agent: false },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(ok).toBe(200);
  });

  it('drops every connection at once', async () => {
    const s = await server({ behaviour: { delayMs: 5000 } });
    const pending = get(s);
    await s.waitForConnections((n) => n === 1);
    s.dropConnections();
    await expect(pending).rejects.toThrow();
  });
});

describe('startHttpServer (h2)', () => {
  async function h2Client(s: TestServer) {
    const { ca } = await testPki();
    const session = http2.connect(s.origin, { ca: ca.cert });
    session.on('error', () => {});
    return session;
  }
  function request(session: http2.ClientHttp2Session, path = '/', headers: Record<string, string> = {}) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const stream = session.request({ ':path': path, ...headers });
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', reject);
      stream.on('close', () => {
        if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
          reject(new Error(`stream reset with code ${stream.rstCode}`));
        } else resolve({ status, body: Buffer.concat(chunks).toString() });
      });
      stream.end();
    });
  }

  it('serves HTTP/2 over TLS with ALPN h2 and records streams', async () => {
    const s = await server({ protocol: 'h2', behaviour: { body: 'two' } });
    const session = await h2Client(s);
    try {
      expect(await request(session, '/x')).toEqual({ status: 200, body: 'two' });
      expect((session.socket as tls.TLSSocket).alpnProtocol).toBe('h2');
      expect(s.requests[0]).toMatchObject({ protocol: 'h2', path: '/x', method: 'GET' });
    } finally {
      session.close();
    }
  });

  it('enforces maxConcurrentStreams and reports the peak per session', async () => {
    const s = await server({ protocol: 'h2', maxConcurrentStreams: 3, behaviour: { delayMs: 30 } });
    const session = await h2Client(s);
    try {
      await new Promise((resolve) => session.once('remoteSettings', resolve));
      expect(session.remoteSettings.maxConcurrentStreams).toBe(3);
      // node:http2 queues over-limit streams inside nghttp2; the server never sees more than 3.
      await Promise.all(Array.from({ length: 9 }, () => request(session)));
      expect(s.peakStreamsPerSession()).toBe(3);
    } finally {
      session.close();
    }
  });

  it('refuses streams with REFUSED_STREAM', async () => {
    const s = await server({ protocol: 'h2', behaviour: { refuseStream: true } });
    const session = await h2Client(s);
    try {
      await expect(request(session)).rejects.toThrow(
        new RegExp(`(NGHTTP2_REFUSED_STREAM|code ${http2.constants.NGHTTP2_REFUSED_STREAM})`),
      );
    } finally {
      session.close();
    }
  });

  it('sends GOAWAY on demand and after a scripted response', async () => {
    const s = await server({ protocol: 'h2' });
    const session = await h2Client(s);
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)));
    await request(session);
    s.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    expect(await goaway).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    session.close();

    const second = await h2Client(s);
    const goaway2 = new Promise<number>((resolve) => second.once('goaway', (code: number) => resolve(code)));
    await request(second, '/', { 'x-berth-behaviour': JSON.stringify({ goawayAfter: true }) });
    expect(await goaway2).toBe(http2.constants.NGHTTP2_NO_ERROR);
    second.close();
  });

  it('resets a stream mid-body', async () => {
    const s = await server({ protocol: 'h2', behaviour: { bodyBytes: 50_000, resetMidBody: true } });
    const session = await h2Client(s);
    try {
      await expect(request(session)).rejects.toThrow(
        new RegExp(`(NGHTTP2_INTERNAL_ERROR|code ${http2.constants.NGHTTP2_INTERNAL_ERROR})`),
      );
    } finally {
      session.close();
    }
  });

  it('serves h2c and can speak HTTP/1.1 beside h2', async () => {
    const c = await server({ protocol: 'h2c' });
    const session = http2.connect(c.origin);
    try {
      expect((await request(session)).body).toBe('ok');
    } finally {
      session.close();
    }
    const both = await server({ protocol: 'h2', allowHttp1: true });
    const res = await get(both);
    expect(res.body).toBe('ok');
    expect(both.requests[0]?.protocol).toBe('http/1.1');
  });
});

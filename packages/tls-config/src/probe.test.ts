import { once } from 'node:events';
import http2 from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { isBerthError } from '@berth/core-types';
import type { Clock } from '@berth/core-types';
import { startHttpServer, testPki } from '@berth/testkit';
import type { TestServer, TestServerOptions } from '@berth/testkit';
import { createTlsConfig } from './tls-config.js';
import type { TlsConfig } from './tls-config.js';
import type { TlsConfigOptions } from './options.js';

const servers: TestServer[] = [];
const configs: TlsConfig[] = [];
afterEach(async () => {
  for (const cfg of configs.splice(0)) cfg.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: TestServerOptions = {}): Promise<TestServer> {
  const s = await startHttpServer(options);
  servers.push(s);
  return s;
}

async function config(options: TlsConfigOptions = {}): Promise<TlsConfig> {
  const { ca } = await testPki();
  const cfg = createTlsConfig({ ca: ca.cert, ...options });
  configs.push(cfg);
  return cfg;
}

describe('probe', () => {
  it('reports ALPN h2, version, cipher, timing and the peer leaf of an HTTP/2 origin', async () => {
    const pki = await testPki();
    const s = await server({ protocol: 'h2' });
    const cfg = await config();
    const result = await cfg.probe(s.origin);
    expect(result).toMatchObject({
      origin: s.origin,
      alpn: 'h2',
      version: 'TLSv1.3',
      cipher: 'TLS_AES_256_GCM_SHA384',
      resumed: false,
      peer: { subject: 'localhost', issuer: 'Berth Test Root CA', spkiPin: pki.server.spkiPin },
    });
    expect(result.handshakeMs).toBeGreaterThan(0);
    expect(result.peer?.validTo).toBeGreaterThan(Date.now());
  });

  it('closes its connection at once when probeKeepMs is 0', async () => {
    const s = await server({ protocol: 'h2' });
    const cfg = await config({ probeKeepMs: 0 });
    await cfg.probe(s.origin);
    await s.waitForConnections((n) => n === 0);
  });

  it('reports http/1.1 for an HTTP/1.1-only origin', async () => {
    const s = await server();
    const cfg = await config();
    expect((await cfg.probe(s.origin)).alpn).toBe('http/1.1');
  });

  it('shares one dial between concurrent probes and caches the result', async () => {
    const s = await server({ protocol: 'h2' });
    const cfg = await config();
    const [a, b] = await Promise.all([cfg.probe(s.origin), cfg.probe(s.origin)]);
    expect(a).toBe(b);
    expect(await cfg.probe(s.origin)).toBe(a);
    expect(s.totalConnections()).toBe(1);
  });

  it('warms the session cache, so a fresh probe (and the pool after it) resumes', async () => {
    const pki = await testPki();
    const s = await server({ protocol: 'h2' });
    const cfg = await config();
    await cfg.probe(s.origin);
    const again = await cfg.probe(s.origin, { fresh: true });
    expect(again.resumed).toBe(true);
    expect(again.peer?.spkiPin).toBe(pki.server.spkiPin);
    expect(s.totalConnections()).toBe(2);
  });

  it('probes again once the cached result is older than probeCacheTtlMs', async () => {
    const s = await server();
    const cfg = await config({ probeCacheTtlMs: 0 });
    await cfg.probe(s.origin);
    await cfg.probe(s.origin);
    expect(s.totalConnections()).toBe(2);
  });

  it('uses the servername option for SNI and verification', async () => {
    const s = await server();
    const cfg = await config();
    const result = await cfg.probe(`https://127.0.0.1:${s.port}`, { servername: 'localhost', alpnProtocols: ['http/1.1'] });
    expect(result.alpn).toBe('http/1.1');
    expect(s.sniSeen).toEqual(['localhost']);
  });

  it('rejects with the classified error and does not cache failures', async () => {
    const pki = await testPki();
    const s = await server({ tls: { cert: pki.expired } });
    const cfg = await config();
    await expect(cfg.probe(s.origin)).rejects.toMatchObject({ code: 'ERR_BERTH_TLS_EXPIRED' });
    await expect(cfg.probe(s.origin)).rejects.toMatchObject({ code: 'ERR_BERTH_TLS_EXPIRED' });
    expect(s.totalConnections()).toBe(2);
  });

  it('refuses an origin that is not https with ERR_BERTH_CONFIG', async () => {
    const cfg = await config();
    for (const origin of ['http://example.test', 'not a url']) {
      let error: unknown;
      try {
        await cfg.probe(origin);
      } catch (e) {
        error = e;
      }
      expect(isBerthError(error, 'ERR_BERTH_CONFIG')).toBe(true);
    }
  });

  it('does not wait for a ticket against a TLS 1.2 server', async () => {
    const s = await server({ tls: { maxVersion: 'TLSv1.2' } });
    const cfg = await config();
    expect((await cfg.probe(s.origin)).version).toBe('TLSv1.2');
    expect(cfg.stats().sessions.size).toBe(1);
  });
});

describe('probe hand-off', () => {
  it('hands the probe connection to the HTTP/2 session opened next, so the origin costs one handshake', async () => {
    const s = await server({ protocol: 'h2', behaviour: { body: 'first' } });
    const cfg = await config();
    await cfg.probe(s.origin);
    const session = http2.connect(s.origin, cfg.http2Options({ host: s.host, port: s.port }));
    session.on('error', () => {});
    try {
      const stream = session.request({ ':path': '/' });
      stream.setEncoding('utf8');
      let body = '';
      stream.on('data', (chunk: string) => (body += chunk));
      await once(stream, 'end');
      expect(body).toBe('first');
      expect(s.totalConnections()).toBe(1);
      expect(cfg.stats().handshakes).toBe(1);
    } finally {
      session.destroy();
    }
  });

  it('emits secureConnect again for a connect() caller, once; the next dial is a new connection', async () => {
    const s = await server();
    const cfg = await config();
    await cfg.probe(s.origin);
    const first = cfg.connect({ host: s.host, port: s.port });
    await once(first, 'secureConnect');
    expect(cfg.handshakeInfo(first)?.alpn).toBe('http/1.1');
    const second = cfg.connect({ host: s.host, port: s.port });
    await once(second, 'secureConnect');
    expect(second).not.toBe(first);
    expect(s.totalConnections()).toBe(2);
    first.destroy();
    second.destroy();
  });

  it('keeps the connection from a dial whose ALPN offer excludes the negotiated protocol', async () => {
    const s = await server({ protocol: 'h2', allowHttp1: true });
    const cfg = await config();
    expect((await cfg.probe(s.origin)).alpn).toBe('h2');
    const h1 = cfg.connect({ host: s.host, port: s.port, alpnProtocols: ['http/1.1'] });
    await once(h1, 'secureConnect');
    expect(s.totalConnections()).toBe(2);
    h1.destroy();
  });

  it('closes a kept connection nobody took after probeKeepMs', async () => {
    const s = await server();
    const timers = new Map<number, () => void>();
    let next = 0;
    const handle = (id: number) => ({ id, unref: () => 0, ref: () => 0, hasRef: () => true });
    const clock: Clock = {
      now: () => performance.now(),
      wallNow: () => Date.now(),
      setTimeout: (fn) => {
        timers.set(++next, fn);
        return handle(next);
      },
      clearTimeout: (h) => {
        if (h !== undefined) timers.delete((h as ReturnType<typeof handle>).id);
      },
      setInterval: () => handle(0),
      clearInterval: () => {},
    };
    const cfg = await config({ clock, probeKeepMs: 1000 });
    await cfg.probe(s.origin);
    expect(s.connectionCount()).toBe(1);
    expect(timers.size).toBe(1);
    for (const fire of timers.values()) fire();
    await s.waitForConnections((n) => n === 0);
  });

  it('close() closes kept connections', async () => {
    const s = await server();
    const cfg = await config();
    await cfg.probe(s.origin);
    cfg.close();
    await s.waitForConnections((n) => n === 0);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { isBerthError } from '@berth/core-types';
import { startHttpServer, testPki } from '@berth/testkit';
import type { TestServer, TestServerOptions } from '@berth/testkit';
import { createTlsConfig } from './tls-config.js';
import type { TlsConfig } from './tls-config.js';
import type { TlsConfigOptions } from './options.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: TestServerOptions = {}): Promise<TestServer> {
  const s = await startHttpServer(options);
  servers.push(s);
  return s;
}

async function config(options: TlsConfigOptions = {}): Promise<TlsConfig> {
  const { ca } = await testPki();
  return createTlsConfig({ ca: ca.cert, ...options });
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

import { once } from 'node:events';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isBerthError } from '@berth/core-types';
import type { BerthError, Clock, TimerHandle } from '@berth/core-types';
import { startFaultProxy, startHttpServer, testPki } from '@berth/testkit';
import type { FaultProxy, TestServer, TestServerOptions } from '@berth/testkit';
import { createTlsConfig } from './tls-config.js';
import type { TlsConfig } from './tls-config.js';
import type { TlsConfigOptions } from './options.js';

const servers: TestServer[] = [];
const proxies: FaultProxy[] = [];
const sockets: TLSSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(proxies.splice(0).map((p) => p.close()));
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

/** Dials and waits for the outcome; the socket is destroyed after the test. */
async function dial(
  cfg: TlsConfig,
  target: Parameters<TlsConfig['connect']>[0],
): Promise<{ socket: TLSSocket; error?: BerthError }> {
  const socket = cfg.connect(target);
  sockets.push(socket);
  try {
    await once(socket, 'secureConnect');
    return { socket };
  } catch (error) {
    return { socket, error: error as BerthError };
  }
}

/** A clock whose timers fire only when the test says so. */
function manualClock(): Clock & { fire(): number; pending(): number } {
  let now = 0;
  const timers = new Map<number, () => void>();
  let next = 1;
  const handle = (id: number): TimerHandle & { id: number } => ({ id, unref: () => 0, ref: () => 0, hasRef: () => true });
  return {
    now: () => now,
    wallNow: () => Date.now(),
    setTimeout(fn, ms) {
      const id = next++;
      timers.set(id, () => {
        now += ms;
        fn();
      });
      return handle(id);
    },
    clearTimeout(h) {
      if (h !== undefined) timers.delete((h as TimerHandle & { id: number }).id);
    },
    setInterval: () => handle(0),
    clearInterval: () => {},
    fire() {
      const all = [...timers.values()];
      timers.clear();
      for (const fn of all) fn();
      return all.length;
    },
    pending: () => timers.size,
  };
}

describe('defaults', () => {
  it('negotiates TLS 1.3 with an AEAD suite and ALPN h2 against an HTTP/2 server', async () => {
    const s = await server({ protocol: 'h2' });
    const cfg = await config();
    const { socket, error } = await dial(cfg, { host: s.host, port: s.port });
    expect(error).toBeUndefined();
    expect(cfg.handshakeInfo(socket)).toMatchObject({
      version: 'TLSv1.3',
      cipher: 'TLS_AES_256_GCM_SHA384',
      alpn: 'h2',
      resumed: false,
    });
    expect(cfg.handshakeInfo(socket)?.handshakeMs).toBeGreaterThan(0);
    expect(cfg.alpnProtocols).toEqual(['h2', 'http/1.1']);
    expect(cfg.handshakeTimeoutMs).toBe(10_000);
  });

  it('falls back to http/1.1 by ALPN against an HTTP/1.1-only server', async () => {
    const s = await server({ protocol: 'https' });
    const cfg = await config();
    const { socket } = await dial(cfg, { host: s.host, port: s.port });
    expect(cfg.handshakeInfo(socket)?.alpn).toBe('http/1.1');
  });

  it('offers only the protocols a target asks for', async () => {
    const s = await server({ protocol: 'h2', allowHttp1: true });
    const cfg = await config();
    const { socket } = await dial(cfg, { host: s.host, port: s.port, alpnProtocols: ['http/1.1'] });
    expect(cfg.handshakeInfo(socket)?.alpn).toBe('http/1.1');
  });

  it('negotiates an ECDHE AEAD suite when the server speaks TLS 1.2 only', async () => {
    const s = await server({ tls: { maxVersion: 'TLSv1.2' } });
    const cfg = await config();
    const { socket } = await dial(cfg, { host: s.host, port: s.port });
    const info = cfg.handshakeInfo(socket);
    expect(info?.version).toBe('TLSv1.2');
    expect(info?.cipher).toMatch(/^TLS_ECDHE_(RSA|ECDSA)_WITH_(AES_\d+_GCM|CHACHA20_POLY1305)/);
  });

  it('sends the host name as SNI', async () => {
    const s = await server();
    const cfg = await config();
    await dial(cfg, { host: 'localhost', port: s.port });
    // The server records SNI when it sees the client's Finished, just after the client is done.
    await vi.waitFor(() => expect(s.sniSeen).toEqual(['localhost']));
  });

  it('sends no SNI when dialling an IP literal (RFC 6066 §3) and still verifies the IP', async () => {
    const s = await server();
    const cfg = await config();
    const { error } = await dial(cfg, { host: '127.0.0.1', port: s.port });
    expect(error).toBeUndefined();
    // The server records SNI when it sees the client's Finished, just after the client is done.
    await vi.waitFor(() => expect(s.sniSeen).toEqual([false]));
  });

  it('sends and verifies the servername override when dialling an IP', async () => {
    const s = await server();
    const cfg = await config();
    const { error } = await dial(cfg, { host: '127.0.0.1', port: s.port, servername: 'localhost' });
    expect(error).toBeUndefined();
    // The server records SNI when it sees the client's Finished, just after the client is done.
    await vi.waitFor(() => expect(s.sniSeen).toEqual(['localhost']));
  });

  it('verifies an IP servername override against the certificate without sending it as SNI', async () => {
    const s = await server();
    const cfg = await config();
    const { error } = await dial(cfg, { host: 'localhost', port: s.port, servername: '127.0.0.1' });
    expect(error).toBeUndefined();
    await vi.waitFor(() => expect(s.sniSeen).toEqual([false]));
    const pki = await testPki();
    const wrong = await server({ tls: { cert: pki.wrongHost } });
    expect((await dial(cfg, { host: 'localhost', port: wrong.port, servername: '127.0.0.1' })).error?.code).toBe('ERR_BERTH_TLS_HOSTNAME');
  });

  it('turns Nagle off on every socket, as undici does', async () => {
    const s = await server();
    const cfg = await config();
    const { socket } = await dial(cfg, { host: s.host, port: s.port });
    // Node records the option on the socket it applied it to.
    expect((socket as unknown as Record<symbol, unknown>)[Object.getOwnPropertySymbols(socket).find((k) => k.description === 'kSetNoDelay')!]).toBe(true);
  });

  it('offers TLS 1.3 only when minVersion is TLSv1.3, and fails against a TLS 1.2 server', async () => {
    const s = await server({ tls: { maxVersion: 'TLSv1.2' } });
    const cfg = await config({ minVersion: 'TLSv1.3' });
    const { error } = await dial(cfg, { host: s.host, port: s.port });
    expect(error?.code).toBe('ERR_BERTH_TLS_HANDSHAKE');
    expect((error?.cause as { code?: string }).code).toMatch(/^ERR_SSL_/);
  });

  it('refuses a server that only speaks TLS 1.1', async () => {
    const s = await server({ tls: { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' } });
    const cfg = await config();
    const { error } = await dial(cfg, { host: s.host, port: s.port });
    expect(error?.code).toBe('ERR_BERTH_TLS_HANDSHAKE');
  });

  it('refuses a TLS 1.2 server that offers only a CBC suite without forward secrecy', async () => {
    const s = await server({ tls: { maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA' } });
    const cfg = await config();
    const { error } = await dial(cfg, { host: s.host, port: s.port });
    expect(error?.code).toBe('ERR_BERTH_TLS_HANDSHAKE');
  });
});

describe('verification failures', () => {
  it('fails an expired certificate with ERR_BERTH_TLS_EXPIRED and the OpenSSL error as cause', async () => {
    const pki = await testPki();
    const s = await server({ tls: { cert: pki.expired } });
    const cfg = await config();
    const { socket, error } = await dial(cfg, { host: s.host, port: s.port });
    expect(error?.code).toBe('ERR_BERTH_TLS_EXPIRED');
    expect((error?.cause as { code?: string }).code).toBe('CERT_HAS_EXPIRED');
    expect(error?.message).toContain(`${s.host}:${s.port}`);
    expect(socket.destroyed).toBe(true);
    expect(cfg.handshakeInfo(socket)).toBeUndefined();
    expect(cfg.stats().failures).toEqual({ ERR_BERTH_TLS_EXPIRED: 1 });
  });

  it('fails a certificate for another host with ERR_BERTH_TLS_HOSTNAME', async () => {
    const pki = await testPki();
    const s = await server({ tls: { cert: pki.wrongHost } });
    const cfg = await config();
    const { error } = await dial(cfg, { host: 'localhost', port: s.port });
    expect(error?.code).toBe('ERR_BERTH_TLS_HOSTNAME');
    expect((error?.cause as { code?: string }).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('fails a chain from an unknown CA with ERR_BERTH_TLS_UNTRUSTED', async () => {
    const pki = await testPki();
    const s = await server({ tls: { cert: pki.untrusted } });
    const cfg = await config();
    const { error } = await dial(cfg, { host: s.host, port: s.port });
    expect(error?.code).toBe('ERR_BERTH_TLS_UNTRUSTED');
  });

  it('does not trust the test CA through the system roots alone', async () => {
    const s = await server();
    const cfg = createTlsConfig();
    const { error } = await dial(cfg, { host: s.host, port: s.port });
    expect(error?.code).toBe('ERR_BERTH_TLS_UNTRUSTED');
  });

  it('trusts only the given CAs when useSystemRoots is false', async () => {
    const pki = await testPki();
    const s = await server();
    const cfg = createTlsConfig({ ca: pki.ca.cert, useSystemRoots: false });
    expect((await dial(cfg, { host: s.host, port: s.port })).error).toBeUndefined();
  });

  it('connects to a server with an untrusted certificate only in insecure mode, and warns', async () => {
    const pki = await testPki();
    const s = await server({ tls: { cert: pki.untrusted } });
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (m: string) => warnings.push(m) };
    const cfg = createTlsConfig({ insecure: true, logger });
    const { error } = await dial(cfg, { host: s.host, port: s.port });
    expect(error).toBeUndefined();
    createTlsConfig({ insecure: true, logger });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/insecure/);
  });

  it('lets a custom checkServerIdentity reject a peer with ERR_BERTH_TLS_UNTRUSTED', async () => {
    const s = await server();
    const seen: string[] = [];
    const cfg = await config({
      checkServerIdentity: (host, cert) => {
        seen.push(`${host}/${String(cert.subject.CN)}`);
        return new Error('not on the allow list');
      },
    });
    const { error } = await dial(cfg, { host: 'localhost', port: s.port });
    expect(seen).toEqual(['localhost/localhost']);
    expect(error?.code).toBe('ERR_BERTH_TLS_UNTRUSTED');
    expect(error?.message).toContain('not on the allow list');
    expect((error?.cause as Error).message).toBe('not on the allow list');
  });

  it('keeps a BerthError returned by a custom checkServerIdentity, and accepts when it returns nothing', async () => {
    const s = await server();
    const { BerthError } = await import('@berth/core-types');
    let reject = true;
    const cfg = await config({
      checkServerIdentity: () => (reject ? new BerthError('ERR_BERTH_TLS_HOSTNAME', 'custom') : undefined),
    });
    expect((await dial(cfg, { host: s.host, port: s.port })).error?.message).toBe('custom');
    reject = false;
    expect((await dial(cfg, { host: s.host, port: s.port })).error).toBeUndefined();
  });
});

describe('connect failures', () => {
  it('fails a refused port with ERR_BERTH_CONNECT_REFUSED', async () => {
    const free = net.createServer();
    free.listen(0, '127.0.0.1');
    await once(free, 'listening');
    const port = (free.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    const cfg = await config();
    const { error } = await dial(cfg, { host: '127.0.0.1', port });
    expect(error?.code).toBe('ERR_BERTH_CONNECT_REFUSED');
    expect(isBerthError(error)).toBe(true);
  });

  it('fails a name that does not resolve with ERR_BERTH_DNS', async () => {
    const cfg = await config();
    const { error } = await dial(cfg, { host: 'no-such-host.invalid', port: 443 });
    expect(error?.code).toBe('ERR_BERTH_DNS');
  });

  it('fails a reset during the handshake with ERR_BERTH_TLS_HANDSHAKE', async () => {
    // Resets the connection as soon as the ClientHello arrives.
    const peer = net.createServer((c) => c.once('data', () => c.resetAndDestroy()).on('error', () => {}));
    peer.listen(0, '127.0.0.1');
    await once(peer, 'listening');
    try {
      const cfg = await config();
      const { error } = await dial(cfg, { host: '127.0.0.1', port: (peer.address() as net.AddressInfo).port });
      expect(error?.code).toBe('ERR_BERTH_TLS_HANDSHAKE');
      expect((error?.cause as { code?: string }).code).toBe('ECONNRESET');
    } finally {
      await new Promise<void>((resolve) => peer.close(() => resolve()));
    }
  });

  it('fails a connection reset before the TCP handshake completed with a connect error', async () => {
    const s = await server();
    const proxy = await startFaultProxy({ host: s.host, port: s.port }, { mode: 'reset' });
    proxies.push(proxy);
    const cfg = await config();
    const { error } = await dial(cfg, { host: proxy.host, port: proxy.port, servername: 'localhost' });
    // Whether the kernel reports the reset as the connect's result or as the first read's is a race.
    expect(['ERR_BERTH_CONNECT_FAILED', 'ERR_BERTH_TLS_HANDSHAKE']).toContain(error?.code);
  });

  it('fails a handshake that never completes with ERR_BERTH_CONNECT_TIMEOUT at the deadline', async () => {
    const s = await server();
    const proxy = await startFaultProxy({ host: s.host, port: s.port }, { mode: 'blackhole' });
    proxies.push(proxy);
    const clock = manualClock();
    const cfg = await config({ clock, handshakeTimeoutMs: 5000 });
    const socket = cfg.connect({ host: proxy.host, port: proxy.port, servername: 'localhost' });
    sockets.push(socket);
    const failed = once(socket, 'error').then(([e]) => e as BerthError);
    await once(socket, 'connect');
    expect(clock.pending()).toBe(1);
    expect(clock.fire()).toBe(1);
    const error = await failed;
    expect(error.code).toBe('ERR_BERTH_CONNECT_TIMEOUT');
    expect(error.message).toMatch(/TLS handshake to 127\.0\.0\.1:\d+ did not complete within 5000 ms/);
    expect(error.details).toMatchObject({ phase: 'TLS handshake', timeoutMs: 5000 });
  });

  it('clears the deadline once the handshake completes', async () => {
    const s = await server();
    const clock = manualClock();
    const cfg = await config({ clock });
    await dial(cfg, { host: s.host, port: s.port });
    expect(clock.pending()).toBe(0);
  });
});

describe('stats', () => {
  it('counts handshakes and failures by code', async () => {
    const pki = await testPki();
    const good = await server();
    const bad = await server({ tls: { cert: pki.untrusted } });
    const cfg = await config();
    await dial(cfg, { host: good.host, port: good.port });
    await dial(cfg, { host: bad.host, port: bad.port });
    expect(cfg.stats()).toMatchObject({
      name: 'default',
      handshakes: 1,
      resumed: 0,
      resumptionRate: 0,
      failures: { ERR_BERTH_TLS_UNTRUSTED: 1 },
      reloads: 0,
    });
  });
});

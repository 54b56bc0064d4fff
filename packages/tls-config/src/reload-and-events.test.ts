import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TLS_CHANNELS } from '@berth/core-types';
import type { BerthError, Logger } from '@berth/core-types';
import { startHttpServer, testPki } from '@berth/testkit';
import type { TestServer, TestServerOptions } from '@berth/testkit';
import { createTlsConfig } from './tls-config.js';
import type { TlsConfig } from './tls-config.js';

const servers: TestServer[] = [];
const sockets: TLSSocket[] = [];
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-tls-'));
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function server(options: TestServerOptions = {}): Promise<TestServer> {
  const s = await startHttpServer(options);
  servers.push(s);
  return s;
}

async function dial(cfg: TlsConfig, s: TestServer): Promise<{ socket: TLSSocket; error?: BerthError }> {
  const socket = cfg.connect({ host: s.host, port: s.port });
  sockets.push(socket);
  try {
    await once(socket, 'secureConnect');
    return { socket };
  } catch (error) {
    return { socket, error: error as BerthError };
  }
}

function recordingLogger(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const log = (level: string) => (message: string) => lines.push({ level, message });
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** Collects the messages of one channel until the test ends. */
function listen(name: string): unknown[] {
  const messages: unknown[] = [];
  const onMessage = (m: unknown) => messages.push(m);
  subscribe(name, onMessage);
  afterEach(() => {
    unsubscribe(name, onMessage);
  });
  return messages;
}

describe('reload', () => {
  it('picks up a rotated CA file without dropping open connections', async () => {
    const pki = await testPki();
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, pki.ca.cert);
    const current = await server();
    const rotated = await server({ tls: { cert: pki.untrusted } });
    const cfg = createTlsConfig({ caFiles: [caFile], useSystemRoots: false });
    const open = await dial(cfg, current);
    expect(open.error).toBeUndefined();
    expect((await dial(cfg, rotated)).error?.code).toBe('ERR_BERTH_TLS_UNTRUSTED');

    const before = cfg.secureContext;
    writeFileSync(caFile, pki.otherCa.cert);
    await cfg.reload();
    expect(cfg.secureContext).not.toBe(before);
    expect((await dial(cfg, rotated)).error).toBeUndefined();
    expect((await dial(cfg, current)).error?.code).toBe('ERR_BERTH_TLS_UNTRUSTED');
    expect(open.socket.destroyed).toBe(false);
    expect(current.connectionCount()).toBeGreaterThanOrEqual(1);
    expect(cfg.stats().reloads).toBe(1);
  });

  it('drops cached sessions, which were verified under the old trust set', async () => {
    const pki = await testPki();
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, pki.ca.cert);
    const s = await server();
    const cfg = createTlsConfig({ caFiles: [caFile] });
    const first = await dial(cfg, s);
    await once(first.socket.resume(), 'session');
    expect(cfg.stats().sessions.size).toBe(1);
    await cfg.reload();
    expect(cfg.stats().sessions.size).toBe(0);
    expect((await dial(cfg, s)).socket.isSessionReused()).toBe(false);
  });

  it('re-reads client certificate files for mTLS', async () => {
    const pki = await testPki();
    const certFile = join(dir, 'client.pem');
    const keyFile = join(dir, 'client.key');
    writeFileSync(certFile, pki.client.cert);
    writeFileSync(keyFile, pki.client.key);
    const s = await server({ tls: { requireClientCertCa: pki.ca.cert } });
    const cfg = createTlsConfig({ ca: pki.ca.cert, clientCertificate: { certFile, keyFile } });
    expect((await dial(cfg, s)).error).toBeUndefined();
    await cfg.reload();
    expect((await dial(cfg, s)).error).toBeUndefined();
  });

  it('keeps the previous SecureContext and rejects with ERR_BERTH_CONFIG when the new files are bad', async () => {
    const pki = await testPki();
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, pki.ca.cert);
    const s = await server();
    const logger = recordingLogger();
    const reloads = listen(TLS_CHANNELS.reload);
    const cfg = createTlsConfig({ caFiles: [caFile], useSystemRoots: false, logger });
    const before = cfg.secureContext;
    writeFileSync(caFile, 'not a certificate');
    await expect(cfg.reload()).rejects.toMatchObject({ code: 'ERR_BERTH_CONFIG' });
    rmSync(caFile);
    await expect(cfg.reload()).rejects.toThrow(/caFiles\[0\]: expected a readable file/);
    expect(cfg.secureContext).toBe(before);
    expect((await dial(cfg, s)).error).toBeUndefined();
    expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(2);
    expect(reloads).toHaveLength(2);
    expect(reloads[0]).toMatchObject({ ok: false, error: { code: 'ERR_BERTH_CONFIG' }, component: { kind: 'tls-config', name: 'default' } });
  });
});

describe('events', () => {
  it('publishes each handshake with its facts and the dialled host', async () => {
    const handshakes = listen(TLS_CHANNELS.handshake);
    const pki = await testPki();
    const s = await server();
    const cfg = createTlsConfig({ ca: pki.ca.cert, name: 'api' });
    await dial(cfg, s);
    expect(handshakes).toEqual([
      expect.objectContaining({
        component: { kind: 'tls-config', name: 'api', origin: s.origin },
        host: s.host,
        port: s.port,
        version: 'TLSv1.3',
        resumed: false,
        alpn: 'http/1.1',
      }),
    ]);
  });

  it('publishes a failed handshake with its code', async () => {
    const failures = listen(TLS_CHANNELS.handshakeError);
    const pki = await testPki();
    const s = await server({ tls: { cert: pki.expired } });
    const cfg = createTlsConfig({ ca: pki.ca.cert });
    await dial(cfg, s);
    expect(failures).toEqual([expect.objectContaining({ host: s.host, port: s.port, error: expect.objectContaining({ code: 'ERR_BERTH_TLS_EXPIRED' }) })]);
  });

  it('publishes a successful reload', async () => {
    const reloads = listen(TLS_CHANNELS.reload);
    const pki = await testPki();
    const cfg = createTlsConfig({ ca: pki.ca.cert });
    await cfg.reload();
    expect(reloads).toEqual([{ component: { kind: 'tls-config', name: 'default' }, ok: true }]);
  });
});

describe('certificate expiry warnings', () => {
  it('warns once about a peer certificate that expires within expiryWarningDays', async () => {
    const expiring = listen(TLS_CHANNELS.certExpiring);
    const pki = await testPki();
    const s = await server();
    const logger = recordingLogger();
    // The test leaves are valid for 30 days.
    const cfg = createTlsConfig({ ca: pki.ca.cert, expiryWarningDays: 31, maxCachedSessions: 0, logger });
    await dial(cfg, s);
    await dial(cfg, s);
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/TLS peer certificate "localhost" expires in (29|30) day\(s\)/);
    expect(expiring).toEqual([expect.objectContaining({ which: 'peer', subject: 'localhost' })]);
  });

  it('does not warn about certificates further out than expiryWarningDays', async () => {
    const pki = await testPki();
    const s = await server();
    const logger = recordingLogger();
    const cfg = createTlsConfig({ ca: pki.ca.cert, logger, clientCertificate: { cert: pki.client.cert, key: pki.client.key } });
    await dial(cfg, s);
    expect(logger.lines).toEqual([]);
  });

  it('warns about the client certificate when the config is built', async () => {
    const expiring = listen(TLS_CHANNELS.certExpiring);
    const pki = await testPki();
    const logger = recordingLogger();
    createTlsConfig({ ca: pki.ca.cert, expiryWarningDays: 31, logger, clientCertificate: { cert: pki.client.cert, key: pki.client.key } });
    expect(logger.lines).toEqual([expect.objectContaining({ level: 'warn', message: expect.stringMatching(/TLS client certificate "berth-client" expires in/) })]);
    expect(expiring).toEqual([expect.objectContaining({ which: 'client', subject: 'berth-client' })]);
  });

  it('says "expired" about a certificate already past its date', async () => {
    const pki = await testPki();
    const logger = recordingLogger();
    // Only a server's leaf is expired in the test PKI; insecure mode lets the handshake finish.
    const s = await server({ tls: { cert: pki.expired } });
    const cfg = createTlsConfig({ insecure: true, logger });
    await dial(cfg, s);
    expect(logger.lines.map((l) => l.message)).toEqual([
      expect.stringMatching(/insecure/),
      expect.stringMatching(/TLS peer certificate "localhost" expired at /),
    ]);
  });
});

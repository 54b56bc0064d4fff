import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '@berth/core-types';
import { startHttpServer, testPki } from '@berth/testkit';
import type { TestServer, TestServerOptions } from '@berth/testkit';
import { createTlsConfig } from './tls-config.js';
import type { TlsConfig } from './tls-config.js';
import type { TlsConfigOptions } from './options.js';

const servers: TestServer[] = [];
const sockets: TLSSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const raw: tls.Server[] = [];
afterEach(async () => {
  await Promise.all(raw.splice(0).map((srv) => closeRaw(srv)));
});

/** A plain Node TLS server (testkit's cannot restart on a port or set its ticket lifetime). */
async function rawServer(port: number, sessionTimeout?: number): Promise<tls.Server> {
  const pki = await testPki();
  const srv = tls.createServer(
    { cert: pki.server.cert, key: pki.server.key, ...(sessionTimeout === undefined ? {} : { sessionTimeout }) },
    (c) => {
      c.on('error', () => {});
      c.resume();
    },
  );
  srv.listen(port, '127.0.0.1');
  await once(srv, 'listening');
  raw.push(srv);
  return srv;
}

function closeRaw(srv: tls.Server): Promise<void> {
  for (const socket of sockets.splice(0)) socket.destroy();
  const i = raw.indexOf(srv);
  if (i >= 0) raw.splice(i, 1);
  return new Promise<void>((resolve) => srv.close(() => resolve()));
}

async function server(options: TestServerOptions = {}): Promise<TestServer> {
  const s = await startHttpServer(options);
  servers.push(s);
  return s;
}

async function config(options: TlsConfigOptions = {}): Promise<TlsConfig> {
  const { ca } = await testPki();
  return createTlsConfig({ ca: ca.cert, ...options });
}

/** Dials, waits for the handshake and (unless `tickets` is 0) for the server's session ticket(s). */
async function connected(cfg: TlsConfig, s: TestServer, extra: { alpnProtocols?: string[]; tickets?: number } = {}): Promise<TLSSocket> {
  const socket = cfg.connect({ host: s.host, port: s.port, ...(extra.alpnProtocols ? { alpnProtocols: extra.alpnProtocols } : {}) });
  sockets.push(socket);
  const ticket = (extra.tickets ?? 1) > 0 ? once(socket, 'session') : undefined;
  socket.resume();
  await once(socket, 'secureConnect');
  // A full handshake ends with a new ticket; a resumed one may keep the old ticket.
  if (!socket.isSessionReused()) await ticket;
  return socket;
}

/** A clock the test moves by hand; timers are not used by the session cache. */
function steppedClock(): Clock & { advance(ms: number): void } {
  let now = 1000;
  const real = { unref: () => 0, ref: () => 0, hasRef: () => false };
  return {
    now: () => now,
    wallNow: () => Date.now(),
    setTimeout: () => real,
    clearTimeout: () => {},
    setInterval: () => real,
    clearInterval: () => {},
    advance(ms) {
      now += ms;
    },
  };
}

describe('session resumption', () => {
  it('resumes the TLS 1.3 session on the second connection (isSessionReused)', async () => {
    const s = await server();
    const cfg = await config();
    const first = await connected(cfg, s);
    expect(first.isSessionReused()).toBe(false);
    const second = await connected(cfg, s);
    expect(second.isSessionReused()).toBe(true);
    expect(cfg.handshakeInfo(second)?.resumed).toBe(true);
    expect(cfg.stats()).toMatchObject({ handshakes: 2, resumed: 1, resumptionRate: 0.5 });
    expect(cfg.stats().sessions).toMatchObject({ size: 1, hits: 1, misses: 1 });
  });

  it('resumes a TLS 1.2 session too', async () => {
    const s = await server({ tls: { maxVersion: 'TLSv1.2' } });
    const cfg = await config();
    await connected(cfg, s);
    const second = await connected(cfg, s);
    expect(second.isSessionReused()).toBe(true);
    expect(cfg.handshakeInfo(second)?.version).toBe('TLSv1.2');
  });

  it('keys sessions by ALPN offer, so an h1 dial does not resume an h2 session', async () => {
    const s = await server({ protocol: 'h2', allowHttp1: true });
    const cfg = await config();
    await connected(cfg, s, { alpnProtocols: ['h2'] });
    const h1 = await connected(cfg, s, { alpnProtocols: ['http/1.1'] });
    expect(h1.isSessionReused()).toBe(false);
    const h2 = await connected(cfg, s, { alpnProtocols: ['h2'] });
    expect(h2.isSessionReused()).toBe(true);
    expect(cfg.handshakeInfo(h2)?.alpn).toBe('h2');
  });

  it('never resumes when maxCachedSessions is 0', async () => {
    const s = await server();
    const cfg = await config({ maxCachedSessions: 0 });
    const first = cfg.connect({ host: s.host, port: s.port });
    sockets.push(first);
    await once(first, 'secureConnect');
    const second = await connected(cfg, s, { tickets: 0 });
    expect(second.isSessionReused()).toBe(false);
    expect(cfg.stats().sessions).toMatchObject({ size: 0, stored: 0 });
  });

  it('drops a session the server no longer accepts (restarted with new ticket keys) and stores the new one', async () => {
    const cfg = await config();
    const before = await rawServer(0);
    const port = (before.address() as AddressInfo).port;
    const target = { host: '127.0.0.1', port } as unknown as TestServer;
    await connected(cfg, target);
    await closeRaw(before);
    // Each Node TLS server draws fresh ticket keys, so the restarted one cannot decrypt the old ticket.
    await rawServer(port);
    const refused = await connected(cfg, target);
    expect(refused.isSessionReused()).toBe(false);
    expect(cfg.stats().sessions.rejected).toBe(1);
    const resumed = await connected(cfg, target);
    expect(resumed.isSessionReused()).toBe(true);
  });

  it('expires a session at the lifetime the server advertised', async () => {
    const srv = await rawServer(0, 60);
    const target = { host: '127.0.0.1', port: (srv.address() as AddressInfo).port } as unknown as TestServer;
    const clock = steppedClock();
    const cfg = await config({ clock });
    // Closed at once, so a second ticket cannot arrive after the clock moved.
    (await connected(cfg, target)).destroy();
    clock.advance(60_001);
    expect((await connected(cfg, target)).isSessionReused()).toBe(false);
  });

  it('still resumes a session just before its advertised lifetime ends', async () => {
    const srv = await rawServer(0, 60);
    const target = { host: '127.0.0.1', port: (srv.address() as AddressInfo).port } as unknown as TestServer;
    const clock = steppedClock();
    const cfg = await config({ clock });
    (await connected(cfg, target)).destroy();
    clock.advance(59_000);
    expect((await connected(cfg, target)).isSessionReused()).toBe(true);
  });

  it('caps the session lifetime at maxSessionTtlMs', async () => {
    const s = await server();
    const clock = steppedClock();
    const cfg = await config({ clock, maxSessionTtlMs: 10_000 });
    (await connected(cfg, s)).destroy();
    clock.advance(10_001);
    expect((await connected(cfg, s)).isSessionReused()).toBe(false);
  });

  it('evicts the least recently used session beyond maxCachedSessions', async () => {
    const a = await server();
    const b = await server();
    const cfg = await config({ maxCachedSessions: 1 });
    await connected(cfg, a);
    await connected(cfg, b);
    expect(cfg.stats().sessions.size).toBe(1);
    expect((await connected(cfg, a)).isSessionReused()).toBe(false);
  });
});

import { once } from 'node:events';
import http2 from 'node:http2';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import type { BerthError } from '@berth/core-types';
import { startHttpServer, testPki } from '@berth/testkit';
import type { TestServer, TestServerOptions } from '@berth/testkit';
import { createTlsConfig } from './tls-config.js';
import type { TlsConfig } from './tls-config.js';

const servers: TestServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: TestServerOptions = {}): Promise<TestServer> {
  const s = await startHttpServer(options);
  servers.push(s);
  return s;
}

async function config(): Promise<TlsConfig> {
  const { ca } = await testPki();
  return createTlsConfig({ ca: ca.cert });
}

function undiciDial(cfg: TlsConfig, opts: Parameters<ReturnType<TlsConfig['undiciConnect']>>[0], alpn?: string[]) {
  return new Promise<{ error: Error | null; socket: Socket | null }>((resolve) => {
    cfg.undiciConnect(alpn === undefined ? {} : { alpnProtocols: alpn })(opts, (error, socket) => {
      if (socket !== null) sockets.push(socket);
      resolve({ error, socket });
    });
  });
}

describe('undiciConnect', () => {
  it('calls back with a verified socket offering http/1.1 only', async () => {
    const s = await server({ protocol: 'h2', allowHttp1: true });
    const cfg = await config();
    const { error, socket } = await undiciDial(cfg, { hostname: s.host, host: `${s.host}:${s.port}`, protocol: 'https:', port: String(s.port), servername: null });
    expect(error).toBeNull();
    expect(cfg.handshakeInfo(socket as TLSSocket)?.alpn).toBe('http/1.1');
    expect(socket?.listenerCount('error')).toBe(0);
  });

  it('honours the servername undici passes, the scheme default port and bracketed IPv6 hosts', async () => {
    const s = await server();
    const cfg = await config();
    const withSni = await undiciDial(cfg, { hostname: '127.0.0.1', protocol: 'https:', port: s.port, servername: 'localhost' });
    expect(withSni.error).toBeNull();
    await vitestWait(() => s.sniSeen.length === 1);
    expect(s.sniSeen).toEqual(['localhost']);
    const v6 = await undiciDial(cfg, { hostname: '[::1]', protocol: 'https:', port: '' });
    // Nothing listens on [::1]:443 in the sandbox; what matters is that the bracketed host was dialled.
    expect(v6.error).not.toBeNull();
    expect((v6.error as BerthError).message).toContain('::1:443');
  });

  it('calls back with the classified error and no socket', async () => {
    const pki = await testPki();
    const s = await server({ tls: { cert: pki.wrongHost } });
    const cfg = await config();
    const { error, socket } = await undiciDial(cfg, { hostname: 'localhost', protocol: 'https:', port: String(s.port) });
    expect(socket).toBeNull();
    expect((error as BerthError).code).toBe('ERR_BERTH_TLS_HOSTNAME');
  });
});

async function vitestWait(predicate: () => boolean): Promise<void> {
  const { vi } = await import('vitest');
  await vi.waitFor(() => {
    if (!predicate()) throw new Error('not yet');
  });
}

describe('http2Options', () => {
  it('lets node:http2 run requests over a socket from the shared config, with ALPN h2', async () => {
    const s = await server({ protocol: 'h2', behaviour: { body: 'over h2' } });
    const cfg = await config();
    let dialled: TLSSocket | undefined;
    const options = cfg.http2Options({ host: s.host, port: s.port });
    const session = http2.connect(s.origin, {
      createConnection: () => {
        dialled = options.createConnection();
        return dialled;
      },
    });
    session.on('error', () => {});
    try {
      const stream = session.request({ ':path': '/' });
      stream.setEncoding('utf8');
      let body = '';
      stream.on('data', (chunk: string) => (body += chunk));
      await once(stream, 'end');
      expect(body).toBe('over h2');
      expect(cfg.handshakeInfo(dialled!)?.alpn).toBe('h2');
    } finally {
      session.destroy();
    }
  });
});

describe('wsOptions', () => {
  it('gives a createConnection that node:http(s).request (what ws uses) speaks HTTP/1.1 over, and a handshake timeout', async () => {
    const s = await server({ protocol: 'h2', allowHttp1: true, behaviour: { body: 'over h1' } });
    const cfg = await config();
    const options = cfg.wsOptions({ host: s.host, port: s.port });
    expect(options.handshakeTimeout).toBe(10_000);
    let dialled: TLSSocket | undefined;
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.request(
        {
          host: s.host,
          port: s.port,
          path: '/',
          // ws leaves `agent` unset, so Node uses `createConnection` instead of an Agent.
          createConnection: () => {
            dialled = options.createConnection();
            return dialled;
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('over h1');
    expect(cfg.handshakeInfo(dialled!)?.alpn).toBe('http/1.1');
    dialled?.destroy();
  });
});

describe('secureContext', () => {
  it('is one object shared by every connection of the profile', async () => {
    const s = await server();
    const cfg = await config();
    const a = cfg.connect({ host: s.host, port: s.port });
    const b = cfg.connect({ host: s.host, port: s.port });
    sockets.push(a, b);
    await Promise.all([once(a, 'secureConnect'), once(b, 'secureConnect')]);
    // Node keeps the options a socket was dialled with under a private symbol.
    const contextOf = (socket: TLSSocket) => {
      const key = Object.getOwnPropertySymbols(socket).find((k) => k.description === 'connect-options')!;
      return (socket as unknown as Record<symbol, { secureContext?: unknown }>)[key]?.secureContext;
    };
    expect(contextOf(a)).toBe(cfg.secureContext);
    expect(contextOf(b)).toBe(cfg.secureContext);
  });
});

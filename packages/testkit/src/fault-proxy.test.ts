import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy } from './fault-proxy.js';
import type { FaultProxy } from './fault-proxy.js';
import { startHttpServer } from './http-server.js';
import type { TestServer } from './http-server.js';
import { testPki } from './pki.js';

let server: TestServer | undefined;
let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await server?.close();
  proxy = undefined;
  server = undefined;
});

async function setup(): Promise<FaultProxy> {
  server = await startHttpServer();
  proxy = await startFaultProxy({ host: server.host, port: server.port });
  return proxy;
}

function handshake(p: FaultProxy, timeoutMs = 3000): Promise<{ socket: tls.TLSSocket; ms: number }> {
  return testPki().then(
    ({ ca }) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const socket = tls.connect({ host: p.host, port: p.port, ca: ca.cert, servername: 'localhost' });
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error('handshake timed out'));
        }, timeoutMs);
        socket.once('secureConnect', () => {
          clearTimeout(timer);
          resolve({ socket, ms: Date.now() - started });
        });
        socket.once('error', (e: Error) => {
          clearTimeout(timer);
          reject(e);
        });
      }),
  );
}

describe('startFaultProxy', () => {
  it('passes TLS through untouched', async () => {
    const p = await setup();
    const { socket } = await handshake(p);
    expect(socket.authorized).toBe(true);
    socket.destroy();
    expect(p.totalConnections()).toBe(1);
    expect(p.bytes().down).toBeGreaterThan(0);
  });

  it('adds latency in both directions', async () => {
    const p = await setup();
    await p.set({ latencyMs: 40 });
    const { socket, ms } = await handshake(p);
    socket.destroy();
    // A TLS 1.3 handshake needs a full round trip through the proxy: at least 2 × 40 ms.
    expect(ms).toBeGreaterThanOrEqual(80);
  });

  it('blackholes: accepts the TCP connection but a TLS handshake never completes', async () => {
    const p = await setup();
    await p.set({ mode: 'blackhole' });
    await expect(handshake(p, 300)).rejects.toThrow('handshake timed out');
    expect(p.totalConnections()).toBe(1);
  });

  it('resets new connections', async () => {
    const p = await setup();
    await p.set({ mode: 'reset' });
    await expect(handshake(p)).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('refuses connections, then listens again on the same port', async () => {
    const p = await setup();
    const port = p.port;
    await p.set({ mode: 'refuse' });
    await expect(handshake(p)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await p.set({ mode: 'pass' });
    expect(p.port).toBe(port);
    const { socket } = await handshake(p);
    socket.destroy();
  });

  it('can start refusing, and opens on the same port when set to pass', async () => {
    server = await startHttpServer();
    proxy = await startFaultProxy({ host: server.host, port: server.port }, { mode: 'refuse' });
    await expect(handshake(proxy)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.set({ mode: 'pass' });
    const { socket } = await handshake(proxy);
    socket.destroy();
  });

  it('refuses new connections at once while existing ones stay open', async () => {
    const p = await setup();
    const { socket } = await handshake(p);
    await p.set({ mode: 'refuse' });
    await expect(handshake(p)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(socket.destroyed).toBe(false);
    socket.destroy();
    await p.set({ mode: 'pass' });
  });

  it('cuts every current connection', async () => {
    const p = await setup();
    const { socket } = await handshake(p);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => {});
    p.cutAll();
    await closed;
    expect(socket.destroyed).toBe(true);
  });

  it('half-closes: the client gets FIN while its own side stays writable', async () => {
    const p = await setup();
    const socket = net.connect({ port: p.port, host: p.host, allowHalfOpen: true });
    await new Promise((resolve) => socket.once('connect', resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const ended = new Promise((resolve) => socket.once('end', resolve));
    p.halfCloseAll();
    await ended;
    expect(socket.writable).toBe(true);
    socket.destroy();
  });

  it('limits bandwidth', async () => {
    server = await startHttpServer({ protocol: 'http', behaviour: { bodyBytes: 20_000 } });
    proxy = await startFaultProxy({ host: server.host, port: server.port }, { bytesPerSec: 100_000 });
    const started = Date.now();
    const bytes = await new Promise<number>((resolve, reject) => {
      const req = http.get({ host: proxy!.host, port: proxy!.port, agent: false }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () => resolve(n));
      });
      req.on('error', reject);
    });
    expect(bytes).toBe(20_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });
});

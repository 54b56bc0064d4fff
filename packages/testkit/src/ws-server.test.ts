import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { testPki } from './pki.js';
import { startWsServer } from './ws-server.js';
import type { TestWsServer } from './ws-server.js';

const servers: TestWsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function connect(s: TestWsServer): Promise<WebSocket> {
  const { ca } = await testPki();
  const ws = new WebSocket(s.url, { ca: ca.cert });
  ws.on('error', () => {});
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.once('error', reject);
  });
  return ws;
}

describe('startWsServer', () => {
  it('echoes over TLS and records messages per socket', async () => {
    const s = await startWsServer();
    servers.push(s);
    const ws = await connect(s);
    const reply = new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString())));
    ws.send('hi');
    expect(await reply).toBe('hi');
    expect(s.received).toEqual([{ socket: 0, data: 'hi' }]);
    ws.close();
    await s.waitForMessages(() => s.connectionCount() === 0);
  });

  it('cuts every socket without a close frame (1006 on the client)', async () => {
    const s = await startWsServer();
    servers.push(s);
    const ws = await connect(s);
    const code = new Promise<number>((resolve) => ws.once('close', (c: number) => resolve(c)));
    s.cutAll();
    expect(await code).toBe(1006);
  });

  it('closes with a chosen code', async () => {
    const s = await startWsServer();
    servers.push(s);
    const ws = await connect(s);
    const code = new Promise<number>((resolve) => ws.once('close', (c: number) => resolve(c)));
    s.closeAll(1012, 'restart');
    expect(await code).toBe(1012);
  });

  it('rejects handshakes with a status and headers, then accepts again', async () => {
    const s = await startWsServer();
    servers.push(s);
    s.rejectHandshakes({ status: 429, headers: { 'Retry-After': '3' } });
    await expect(connect(s)).rejects.toThrow('status 429');
    s.rejectHandshakes(undefined);
    const ws = await connect(s);
    ws.terminate();
    expect(s.totalSockets()).toBe(1);
  });

  it('ignores pings when asked, so a heartbeat sees a half-open peer', async () => {
    const s = await startWsServer({ ignorePings: true });
    servers.push(s);
    const ws = await connect(s);
    let pongs = 0;
    ws.on('pong', () => pongs++);
    const echo = new Promise((resolve) => ws.once('message', resolve));
    ws.ping();
    ws.send('after-ping');
    // The echo of a later message arrives, but no pong for the earlier ping.
    await echo;
    expect(pongs).toBe(0);
    ws.terminate();
  });
});

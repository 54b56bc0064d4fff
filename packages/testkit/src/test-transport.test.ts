import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer } from './http-server.js';
import type { TestServer } from './http-server.js';
import { testPki } from './pki.js';
import { createTestConnector } from './test-connector.js';
import { createTestTransport } from './test-transport.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('createTestTransport', () => {
  it('sends real requests over TLS and reports reuse on the second one', async () => {
    server = await startHttpServer({ behaviour: { echo: true } });
    const { ca } = await testPki();
    const t = createTestTransport({ origin: server.origin, ca: ca.cert });
    try {
      const first = await t.request({ path: '/a', method: 'POST', body: 'hi', headers: { 'x-a': '1' } });
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ method: 'POST', path: '/a', body: 'hi' });
      const second = await t.request({ path: '/b' });
      await second.dump();
      expect(first.meta.reused).toBe(false);
      expect(second.meta.reused).toBe(true);
      expect(t.stats()).toMatchObject({ requests: 2, errors: 0, state: 'ready' });
    } finally {
      await t.close();
    }
    await expect(t.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_CLOSED' });
  });

  it('maps refused connections and timeouts to Berth codes', async () => {
    server = await startHttpServer({ protocol: 'http', behaviour: { delayMs: 2000 } });
    const t = createTestTransport({ origin: server.origin });
    try {
      await expect(t.request({ path: '/', timeoutMs: 50 })).rejects.toMatchObject({ code: 'ERR_BERTH_TIMEOUT' });
    } finally {
      await t.close();
    }
    const port = server.port;
    await server.close();
    server = undefined;
    const refused = createTestTransport({ origin: `http://127.0.0.1:${port}` });
    await expect(refused.request({ path: '/' })).rejects.toMatchObject({ code: 'ERR_BERTH_CONNECT_REFUSED' });
    await refused.close();
  });
});

describe('createTestConnector', () => {
  it('dials a verified TLS socket with one shared context and reports handshake facts', async () => {
    server = await startHttpServer();
    const { ca } = await testPki();
    const connector = createTestConnector({ ca: ca.cert });
    const socket = connector.connect({ host: '127.0.0.1', port: server.port });
    await new Promise((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    expect(connector.handshakeInfo(socket)).toMatchObject({ version: 'TLSv1.3', alpn: 'http/1.1', resumed: false });
    expect(connector.handshakes()).toBe(1);
    socket.destroy();
  });
});

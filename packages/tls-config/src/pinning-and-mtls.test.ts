import { once } from 'node:events';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import type { BerthError } from '@berth/core-types';
import { startHttpServer, testPki } from '@berth/testkit';
import type { TestServer, TestServerOptions } from '@berth/testkit';
import { PinMismatchError } from './errors.js';
import { createTlsConfig } from './tls-config.js';
import type { TlsConfig } from './tls-config.js';

const servers: TestServer[] = [];
const sockets: TLSSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: TestServerOptions = {}): Promise<TestServer> {
  const s = await startHttpServer(options);
  servers.push(s);
  return s;
}

async function dial(cfg: TlsConfig, s: TestServer): Promise<BerthError | undefined> {
  const socket = cfg.connect({ host: s.host, port: s.port });
  sockets.push(socket);
  try {
    await once(socket, 'secureConnect');
    return undefined;
  } catch (error) {
    return error as BerthError;
  }
}

const OTHER_PIN = Buffer.alloc(32, 7).toString('base64');

describe('SPKI pinning', () => {
  it('accepts a peer whose leaf key matches a pin', async () => {
    const pki = await testPki();
    const s = await server();
    const cfg = createTlsConfig({ ca: pki.ca.cert, pins: [pki.server.spkiPin] });
    expect(await dial(cfg, s)).toBeUndefined();
  });

  it('accepts a peer that matches the backup pin after a key rotation', async () => {
    const pki = await testPki();
    const s = await server({ tls: { cert: pki.serverAlt } });
    const cfg = createTlsConfig({ ca: pki.ca.cert, pins: [pki.server.spkiPin, pki.serverAlt.spkiPin] });
    expect(await dial(cfg, s)).toBeUndefined();
  });

  it('accepts a pin of the issuing CA (any key in the verified chain, RFC 7469 §2.6)', async () => {
    const pki = await testPki();
    const s = await server();
    const cfg = createTlsConfig({ ca: pki.ca.cert, pins: [pki.ca.spkiPin] });
    expect(await dial(cfg, s)).toBeUndefined();
  });

  it('rejects a peer matching no pin with ERR_BERTH_TLS_PIN_MISMATCH naming the host and the pin seen', async () => {
    const pki = await testPki();
    const s = await server({ tls: { cert: pki.serverAlt } });
    const cfg = createTlsConfig({ ca: pki.ca.cert, pins: [pki.server.spkiPin, OTHER_PIN] });
    const error = await dial(cfg, s);
    expect(error).toBeInstanceOf(PinMismatchError);
    expect(error?.code).toBe('ERR_BERTH_TLS_PIN_MISMATCH');
    expect(error?.message).toContain(`${s.host}:${s.port}`);
    expect(error?.message).toContain(pki.serverAlt.spkiPin);
    expect(error?.details).toMatchObject({ host: s.host, pinSeen: pki.serverAlt.spkiPin });
  });

  it('checks the chain before the pin: an untrusted peer is untrusted even when pinned', async () => {
    const pki = await testPki();
    const s = await server({ tls: { cert: pki.untrusted } });
    const cfg = createTlsConfig({ ca: pki.ca.cert, pins: [pki.untrusted.spkiPin] });
    expect((await dial(cfg, s))?.code).toBe('ERR_BERTH_TLS_UNTRUSTED');
  });
});

describe('mutual TLS', () => {
  it('presents the client certificate to a server that requires one', async () => {
    const pki = await testPki();
    const s = await server({ tls: { requireClientCertCa: pki.ca.cert } });
    const cfg = createTlsConfig({ ca: pki.ca.cert, clientCertificate: { cert: pki.client.cert, key: pki.client.key } });
    expect(await dial(cfg, s)).toBeUndefined();
  });

  it('fails without a client certificate against a server that requires one', async () => {
    const pki = await testPki();
    const s = await server({ tls: { requireClientCertCa: pki.ca.cert } });
    const cfg = createTlsConfig({ ca: pki.ca.cert });
    const socket = cfg.connect({ host: s.host, port: s.port });
    sockets.push(socket);
    // TLS 1.3: the client finishes first; the server's alert arrives afterwards.
    const [error] = (await once(socket, 'error').catch((e: unknown) => [e])) as [BerthError];
    expect(error.code).toBe('ERR_BERTH_TLS_HANDSHAKE');
  });
});

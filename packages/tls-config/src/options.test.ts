import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '@berth/core-types';
import { testPki } from '@berth/testkit';
import {
  DEFAULT_ALPN,
  DEFAULT_CIPHERS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_CACHED_SESSIONS,
  resolveOptions,
} from './options.js';
import type { TlsConfigOptions } from './options.js';
import { createTlsConfig } from './tls-config.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-tls-options-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function problemsOf(input: unknown, env: Record<string, string> = {}): { path: string; expected: string; received: string }[] {
  try {
    resolveOptions(input as TlsConfigOptions, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('ERR_BERTH_CONFIG');
    return [...(error as ConfigError).problems];
  }
  return [];
}

function paths(input: unknown, env?: Record<string, string>): string[] {
  return problemsOf(input, env).map((p) => p.path);
}

describe('resolveOptions defaults', () => {
  it('fills the documented defaults', () => {
    const r = resolveOptions({}, {});
    expect(r).toMatchObject({
      name: 'default',
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      alpnProtocols: DEFAULT_ALPN,
      ciphers: DEFAULT_CIPHERS,
      handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS,
      maxCachedSessions: DEFAULT_MAX_CACHED_SESSIONS,
      maxSessionTtlMs: 3_600_000,
      expiryWarningDays: 14,
      tcpKeepAliveInitialDelayMs: 60_000,
      probeCacheTtlMs: 600_000,
      insecure: false,
    });
    expect(r.material).toEqual({ ca: [], useSystemRoots: true });
    expect(r.pins.size).toBe(0);
  });

  it('lists only AEAD suites with forward secrecy by default', () => {
    for (const suite of DEFAULT_CIPHERS) expect(suite).toMatch(/^(TLS_\w+_(GCM|POLY1305)_SHA\d+|ECDHE-(RSA|ECDSA)-\S*(GCM|POLY1305)\S*)$/);
  });

  it('accepts TLS 1.3 only, http/1.1-only ALPN, explicit suites and pins', async () => {
    const pki = await testPki();
    const r = resolveOptions(
      {
        minVersion: 'TLSv1.3',
        alpnProtocols: ['http/1.1'],
        ciphers: ['TLS_AES_128_GCM_SHA256'],
        pins: [pki.server.spkiPin],
        ca: [pki.ca.cert, pki.otherCa.cert + pki.ca.cert],
      },
      {},
    );
    expect(r.alpnProtocols).toEqual(['http/1.1']);
    expect(r.material.ca).toHaveLength(3);
    expect(r.pins.has(pki.server.spkiPin)).toBe(true);
  });

  it('opens an encrypted client key with its passphrase', async () => {
    const pki = await testPki();
    const encrypted = createPrivateKey(pki.client.key).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'hunter2' });
    const r = resolveOptions({ clientCertificate: { cert: pki.client.cert, key: encrypted.toString(), passphrase: 'hunter2' } }, {});
    expect(r.material.client?.passphrase).toBe('hunter2');
    expect(() => createTlsConfig({ clientCertificate: { cert: pki.client.cert, key: encrypted.toString(), passphrase: 'hunter2' } })).not.toThrow();
  });
});

describe('resolveOptions bad input', () => {
  it('reports every problem at once with field, expectation and received value', async () => {
    const pki = await testPki();
    const problems = problemsOf({
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.2',
      ciphers: ['TLS_AES_128_GCM_SHA256', 'NOT-A-CIPHER'],
      alpnProtocols: [],
      pins: ['not base64!'],
      ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      clientCertificate: { cert: pki.client.cert, key: pki.server.key },
      handshakeTimeoutMs: 0,
    });
    expect(problems.map((p) => p.path)).toEqual([
      'minVersion',
      'ciphers',
      'alpnProtocols',
      'pins[0]',
      'handshakeTimeoutMs',
      'ca[0]',
      'clientCertificate.key',
    ]);
    expect(problems.find((p) => p.path === 'ciphers')?.received).toBe('"NOT-A-CIPHER"');
    expect(problems.find((p) => p.path === 'pins[0]')?.expected).toMatch(/base64 SHA-256/);
    expect(problems.find((p) => p.path === 'clientCertificate.key')?.expected).toMatch(/private key of the client certificate/);
  });

  it('names malformed PEM, unreadable files and a key that does not open', () => {
    const problems = problemsOf({
      ca: ['just text'],
      caFiles: [join(dir, 'missing.pem')],
      clientCertificate: { cert: 'nope', key: 'nope' },
    });
    expect(problems.map((p) => p.path)).toEqual(['ca[0]', 'caFiles[0]', 'clientCertificate.cert', 'clientCertificate.key']);
    expect(problems[0]?.expected).toMatch(/no "-----BEGIN CERTIFICATE-----" block/);
    expect(problems[1]?.expected).toMatch(/readable file \(ENOENT/);
  });

  it('reports a wrong passphrase and a client certificate given both ways or half', async () => {
    const pki = await testPki();
    const encrypted = createPrivateKey(pki.client.key).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'right' });
    expect(paths({ clientCertificate: { cert: pki.client.cert, key: encrypted.toString(), passphrase: 'wrong' } })).toEqual(['clientCertificate.key']);
    expect(paths({ clientCertificate: { cert: 'x', key: 'y', certFile: 'z', keyFile: 'w' } })).toEqual(['clientCertificate']);
    expect(paths({ clientCertificate: {} })).toEqual(['clientCertificate']);
    expect(paths({ clientCertificate: { cert: pki.client.cert } })).toEqual(['clientCertificate.key']);
    expect(paths({ clientCertificate: { certFile: join(dir, 'a'), keyFile: join(dir, 'b') } })).toEqual([
      'clientCertificate.certFile',
      'clientCertificate.keyFile',
    ]);
  });

  it('reads client certificate and CA files', async () => {
    const pki = await testPki();
    writeFileSync(join(dir, 'c.pem'), pki.client.cert);
    writeFileSync(join(dir, 'k.pem'), pki.client.key);
    writeFileSync(join(dir, 'ca.pem'), pki.ca.cert + pki.otherCa.cert);
    const r = resolveOptions(
      { caFiles: [join(dir, 'ca.pem')], clientCertificate: { certFile: join(dir, 'c.pem'), keyFile: join(dir, 'k.pem') } },
      {},
    );
    expect(r.material.ca).toHaveLength(2);
    expect(r.material.client?.leaf.subject).toContain('berth-client');
    writeFileSync(join(dir, 'bad.pem'), 'garbage');
    expect(paths({ caFiles: [join(dir, 'bad.pem')] })).toEqual(['caFiles[0]']);
  });

  it('refuses cipher lists that would make Node narrow the version range silently', () => {
    expect(problemsOf({ ciphers: ['ECDHE-RSA-AES128-GCM-SHA256'] })[0]?.expected).toMatch(/TLS 1\.3 suite/);
    expect(problemsOf({ ciphers: ['TLS_AES_128_GCM_SHA256'] })[0]?.expected).toMatch(/TLS 1\.2 suite/);
    expect(paths({ ciphers: ['ECDHE-RSA-AES128-GCM-SHA256'], maxVersion: 'TLSv1.2' })).toEqual([]);
    expect(paths({ ciphers: [] })).toEqual(['ciphers']);
    expect(paths({ ciphers: 'TLS_AES_128_GCM_SHA256' })).toEqual(['ciphers']);
  });

  it('refuses bad ALPN lists', () => {
    expect(paths({ alpnProtocols: ['h2', 'h2'] })).toEqual(['alpnProtocols']);
    expect(paths({ alpnProtocols: ['x'.repeat(256)] })).toEqual(['alpnProtocols[0]']);
    expect(paths({ alpnProtocols: [''] })).toEqual(['alpnProtocols']);
    expect(paths({ alpnProtocols: 'h2' })).toEqual(['alpnProtocols']);
  });

  it('refuses bad scalar options', () => {
    expect(
      paths({
        name: '',
        minVersion: 'TLSv1.1',
        maxCachedSessions: -1,
        maxSessionTtlMs: 8 * 86_400_000,
        expiryWarningDays: -1,
        tcpKeepAliveInitialDelayMs: 1.5,
        probeCacheTtlMs: 'soon',
        insecure: 'yes',
        useSystemRoots: 1,
        checkServerIdentity: 'strict',
        caFiles: [1],
        ca: [2],
      }),
    ).toEqual([
      'name',
      'minVersion',
      'checkServerIdentity',
      'maxCachedSessions',
      'maxSessionTtlMs',
      'expiryWarningDays',
      'tcpKeepAliveInitialDelayMs',
      'probeCacheTtlMs',
      'insecure',
      'useSystemRoots',
      'ca',
      'caFiles',
    ]);
  });

  it('requires a CA when the system roots are off', () => {
    expect(paths({ useSystemRoots: false })).toEqual(['ca']);
  });

  it('refuses insecure mode when NODE_ENV is production', () => {
    expect(paths({ insecure: true }, { NODE_ENV: 'production' })).toEqual(['insecure']);
    expect(paths({ insecure: true }, { NODE_ENV: 'test' })).toEqual([]);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '@berth/core-types';
import { startGateway } from './gateway.js';
import { statusForCode } from './errors.js';
import { forwardRequestHeaders } from './headers.js';
import { DEFAULT_MAX_BODY_BYTES, loadConfigFile, resolveGatewayConfig } from './options.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop() ?? '', { recursive: true, force: true });
});

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-gateway-'));
  dirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problemsOf(fn: () => unknown): Array<{ path: string; expected: string; received: string }> {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const minimal = { upstreams: { api: { origin: 'https://api.example.com' } } };

describe('gateway config', () => {
  it('fills the defaults for a minimal config', () => {
    const config = resolveGatewayConfig(minimal);
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8080, metrics: true, shutdownTimeoutMs: 10_000 });
    expect(config.limits.maxBodyBytes).toBe(DEFAULT_MAX_BODY_BYTES);
  });

  it('reports every invalid field at once, each by name', () => {
    const problems = problemsOf(() =>
      resolveGatewayConfig({
        port: 70_000,
        limits: { maxBodyBytes: -1, maxHeaderCount: 0, bogus: 1 },
        metrics: 'yes',
        extra: true,
        upstreams: { metrics: { origin: 'https://a' }, 'Bad Name': { origin: 'https://b' }, ok: { origin: 'https://c', metrics: true }, notobj: 3 },
      }),
    );
    expect(problems.map((p) => p.path)).toEqual([
      'port',
      'limits.maxBodyBytes',
      'limits.maxHeaderCount',
      'limits.bogus',
      'metrics',
      'upstreams.metrics',
      'upstreams.Bad Name',
      'upstreams.ok.metrics',
      'upstreams.notobj',
      'extra',
    ]);
    expect(problems[0]?.expected).toContain('65535');
  });

  it('requires at least one upstream', () => {
    expect(problemsOf(() => resolveGatewayConfig({ upstreams: {} })).map((p) => p.path)).toEqual(['upstreams']);
    expect(problemsOf(() => resolveGatewayConfig(null)).map((p) => p.path)).toEqual(['(config)']);
  });

  it('applies env overrides over the file and names a bad env variable in the problem', () => {
    const config = resolveGatewayConfig(
      { ...minimal, port: 1000, limits: { maxBodyBytes: 5 } },
      {
        BERTH_GATEWAY_PORT: '9090',
        BERTH_GATEWAY_HOST: '0.0.0.0',
        BERTH_GATEWAY_MAX_BODY_BYTES: '2048',
        BERTH_GATEWAY_METRICS: 'false',
        BERTH_GATEWAY_UPSTREAM_API_ORIGIN: 'https://override.example.com',
        BERTH_GATEWAY_UPSTREAM_NEW_ONE_ORIGIN: 'https://new.example.com',
      },
    );
    expect(config).toMatchObject({ port: 9090, host: '0.0.0.0', metrics: false, limits: { maxBodyBytes: 2048 } });
    expect(config.upstreams['api']).toEqual({ origin: 'https://override.example.com' });
    expect(config.upstreams['new_one']).toEqual({ origin: 'https://new.example.com' });
    const problems = problemsOf(() =>
      resolveGatewayConfig(minimal, { BERTH_GATEWAY_PORT: 'eighty', BERTH_GATEWAY_METRICS: 'maybe', BERTH_GATEWAY_REQUEST_TIMEOUT_MS: '0' }),
    );
    expect(problems.map((p) => p.path)).toEqual(['BERTH_GATEWAY_PORT (port)', 'BERTH_GATEWAY_METRICS (metrics)', 'limits.requestTimeoutMs']);
  });

  it('maps an env upstream name to a configured name with "-" or "." in it', () => {
    const config = resolveGatewayConfig(
      { upstreams: { 'eu-api': { regions: { eu: { origin: 'https://eu.example.com' } } } } },
      { BERTH_GATEWAY_UPSTREAM_EU_API_ORIGIN: 'https://other.example.com' },
    );
    expect(Object.keys(config.upstreams)).toEqual(['eu-api']);
    expect(config.upstreams['eu-api']).toEqual({ origin: 'https://other.example.com' });
  });

  it('loads YAML and JSON files and resolves tls.caFiles against the file', () => {
    const yaml = tempFile('gateway.yaml', 'port: 0\nupstreams:\n  api:\n    origin: https://api.example.com\n    tls:\n      caFiles: [ca.pem]\n');
    const parsed = loadConfigFile(yaml) as { upstreams: { api: { tls: { caFiles: string[] } } } };
    expect(parsed.upstreams.api.tls.caFiles[0]).toBe(join(yaml, '..', 'ca.pem'));
    const json = tempFile('gateway.json', JSON.stringify(minimal));
    expect(loadConfigFile(json)).toEqual(minimal);
  });

  it('accepts the committed gateway.example.yaml', () => {
    const config = resolveGatewayConfig(loadConfigFile(join(import.meta.dirname, '..', 'gateway.example.yaml')));
    expect(Object.keys(config.upstreams)).toEqual(['payments', 'search']);
    expect(config.limits.maxConcurrentPerClient).toBe(64);
  });

  it('reports an unreadable or unparsable file as ERR_BERTH_CONFIG naming the file', () => {
    const broken = tempFile('broken.json', '{ nope');
    expect(problemsOf(() => loadConfigFile(broken))[0]?.received).toContain('broken.json');
    expect(problemsOf(() => loadConfigFile('/nonexistent/gateway.yaml'))[0]?.received).toContain('/nonexistent/gateway.yaml');
  });

  it("re-homes each upstream's Berth option problems under upstreams.<name>", async () => {
    const error = await startGateway({
      port: 0,
      upstreams: {
        good: { origin: 'https://good.example.com' },
        bad: { origin: 'ftp://x', pool: { maxConnections: 0 } },
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const paths = (error as ConfigError).problems.map((p) => p.path);
    expect(paths).toContain('upstreams.bad.origin');
    expect(paths.every((p) => p.startsWith('upstreams.bad.'))).toBe(true);
  });
});

describe('status mapping and headers', () => {
  it('maps Berth codes to the HTTP status a client can act on', () => {
    expect(statusForCode('ERR_BERTH_INVALID_REQUEST')).toBe(400);
    expect(statusForCode('ERR_BERTH_BODY_TOO_LARGE')).toBe(413);
    expect(statusForCode('ERR_BERTH_ABORTED')).toBe(499);
    expect(statusForCode('ERR_BERTH_HEADERS_TIMEOUT')).toBe(504);
    expect(statusForCode('ERR_BERTH_CIRCUIT_OPEN')).toBe(503);
    expect(statusForCode('ERR_BERTH_INTERNAL')).toBe(500);
    expect(statusForCode('ERR_BERTH_TLS_UNTRUSTED')).toBe(502);
  });

  it('appends the client to an existing x-forwarded-for', () => {
    expect(forwardRequestHeaders({ 'x-forwarded-for': '10.0.0.1' }, '127.0.0.1')['x-forwarded-for']).toBe('10.0.0.1, 127.0.0.1');
  });
});

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer, testPki } from '@berth/testkit';
import type { TestServer } from '@berth/testkit';

const root = join(import.meta.dirname, '..');
let dir: string | undefined;
let upstream: TestServer | undefined;

afterEach(async () => {
  await upstream?.close();
  upstream = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

describe('pnpm start', () => {
  it('serves from a YAML config file with env overrides and drains on SIGTERM, exiting 0', async () => {
    const pki = await testPki();
    upstream = await startHttpServer({ protocol: 'https', behaviour: { delayMs: 300 } });
    dir = mkdtempSync(join(tmpdir(), 'berth-gateway-main-'));
    writeFileSync(join(dir, 'ca.pem'), pki.ca.cert);
    const config = join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      `port: 8080\nupstreams:\n  api:\n    origin: https://placeholder.invalid\n    tls: { caFiles: [ca.pem], useSystemRoots: false }\n`,
    );
    const child = spawn(process.execPath, ['--conditions=@berth/source', '--import', 'tsx', 'src/main.ts', config], {
      cwd: root,
      env: { ...process.env, BERTH_GATEWAY_PORT: '0', BERTH_GATEWAY_UPSTREAM_API_ORIGIN: upstream.origin },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${output}`)), 15_000);
        child.stdout.on('data', () => {
          const match = /listening on (http:\/\/[\d.:]+)/.exec(output);
          if (match?.[1] !== undefined) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
      });
      expect(await get(`${url}/healthz`)).toBe(200);
      const inFlight = get(`${url}/api/slow`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      child.kill('SIGTERM');
      expect(await inFlight).toBe(200);
      const [code] = await exited;
      expect(code, output).toBe(0);
      expect(output).toContain('SIGTERM: draining');
      expect(output).toContain('closed');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    }
  }, 30_000);

  it('exits 1 naming every invalid field of the config file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-gateway-main-'));
    const config = join(dir, 'gateway.json');
    writeFileSync(config, JSON.stringify({ port: -1, upstreams: { api: { origin: 'ftp://x' } } }));
    const child = spawn(process.execPath, ['--conditions=@berth/source', '--import', 'tsx', 'src/main.ts', config], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(output).toContain('ERR_BERTH_CONFIG');
    expect(output).toContain('port');
  }, 30_000);
});

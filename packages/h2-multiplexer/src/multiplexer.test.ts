import diagnostics from 'node:diagnostics_channel';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { H2_CHANNELS, REQUEST_CHANNELS, isBerthError } from '@berth/core-types';
import type { RequestEndMessage, RequestStartMessage } from '@berth/core-types';
import { createTestConnector, startHttpServer, testPki } from '@berth/testkit';
import type { TestServer, TestServerOptions } from '@berth/testkit';
import { createH2Multiplexer } from './multiplexer.js';
import type { H2Multiplexer } from './multiplexer.js';
import type { H2MultiplexerOptions } from './options.js';

const servers: TestServer[] = [];
const muxes: H2Multiplexer[] = [];
afterEach(async () => {
  await Promise.all(muxes.splice(0).map((m) => m.close({ deadlineMs: 100 })));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: TestServerOptions = {}): Promise<TestServer> {
  const s = await startHttpServer({ protocol: 'h2', ...options });
  servers.push(s);
  return s;
}

async function mux(s: TestServer, options: H2MultiplexerOptions = {}): Promise<H2Multiplexer> {
  const secure = s.protocol === 'h2';
  const m = createH2Multiplexer(s.origin, {
    ...(secure ? { connector: createTestConnector({ ca: (await testPki()).ca.cert, alpnProtocols: ['h2'] }) } : { allowCleartext: true }),
    ...options,
  });
  muxes.push(m);
  return m;
}

const behave = (b: object) => ({ 'x-berth-behaviour': JSON.stringify(b) });

describe('createH2Multiplexer over TLS', () => {
  it('sends a request over h2 and returns status, headers, body and meta', async () => {
    const s = await server({ behaviour: { status: 201, headers: { 'x-test': 'yes' }, body: 'hello' } });
    const m = await mux(s);
    const res = await m.request({ path: '/a?b=1', headers: { 'X-Client': '1' } });
    expect(res.status).toBe(201);
    expect(res.headers['x-test']).toBe('yes');
    expect(res.headers[':status']).toBeUndefined();
    expect(await res.text()).toBe('hello');
    expect(res.meta).toMatchObject({ protocol: 'h2', reused: false, attempts: 1 });
    expect(res.meta.timings.connectMs).toBeGreaterThan(0);
    const second = await m.request({ path: '/' });
    await second.dump();
    expect(second.meta).toMatchObject({ reused: true, connectionId: res.meta.connectionId });
    expect(s.requests[0]).toMatchObject({ method: 'GET', path: '/a?b=1', protocol: 'h2' });
    expect(s.requests[0]?.headers['x-client']).toBe('1');
    const stats = m.stats();
    expect(stats).toMatchObject({ kind: 'h2-multiplexer', state: 'ready', requests: 2, inFlight: 0, queued: 0, errors: 0, sessionsCreated: 1 });
    expect(stats.sessions[0]).toMatchObject({ protocol: 'h2', requestCount: 2, maxStreams: 100, state: 'idle' });
    expect(stats.sessions[0]?.tls).toMatchObject({ alpn: 'h2' });
  });
});

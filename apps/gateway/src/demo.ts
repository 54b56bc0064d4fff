/**
 * `pnpm demo` (interim): starts the testkit's embedded servers on loopback (HTTPS/1.1,
 * HTTP/2 over TLS, WebSocket over TLS, and a fault proxy) and makes real requests through
 * them, printing what was negotiated. The full scenario (three regions, failover, scaling,
 * a live table) replaces this once the facade and the gateway land.
 */
import http2 from 'node:http2';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { startFaultProxy, startHttpServer, startWsServer, testPki } from '@berth/testkit';

async function main(): Promise<number> {
  const pki = await testPki();
  const h1 = await startHttpServer({ protocol: 'https', behaviour: { body: 'hello over HTTP/1.1' } });
  const h2 = await startHttpServer({ protocol: 'h2', behaviour: { body: 'hello over HTTP/2' } });
  const ws = await startWsServer();
  const proxy = await startFaultProxy({ host: h1.host, port: h1.port }, { latencyMs: 20 });
  let failures = 0;
  const line = (label: string, text: string) => console.log(`${label.padEnd(28)} ${text}`);
  try {
    console.log('Berth demo: embedded loopback servers with a test CA generated at start\n');

    const agent = new https.Agent({ keepAlive: true, ca: pki.ca.cert });
    for (const [label, port] of [
      ['HTTPS/1.1 direct', h1.port],
      ['HTTPS/1.1 via +20 ms proxy', proxy.port],
    ] as const) {
      const started = performance.now();
      const result = await new Promise<{ status: number; body: string; version: string | null }>((resolve, reject) => {
        const req = https.get({ host: '127.0.0.1', port, path: '/', agent, servername: 'localhost' }, (res) => {
          // Read the TLS facts now: the socket is detached once the response ends.
          const version = (res.socket as TLSSocket).getProtocol();
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, version }));
        });
        req.on('error', reject);
      });
      line(label, `${result.status} "${result.body}" ${String(result.version)} ${(performance.now() - started).toFixed(1)} ms`);
      if (result.status !== 200) failures += 1;
    }
    agent.destroy();

    const session = http2.connect(h2.origin, { ca: pki.ca.cert });
    session.on('error', () => {});
    const streams = await Promise.all(
      Array.from({ length: 10 }, () =>
        new Promise<number>((resolve, reject) => {
          const stream = session.request({ ':path': '/' });
          stream.on('response', (headers) => resolve(Number(headers[':status'])));
          stream.on('error', reject);
          stream.resume();
          stream.end();
        }),
      ),
    );
    const alpn = (session.socket as TLSSocket).alpnProtocol;
    line('HTTP/2 (10 streams, 1 conn)', `statuses ${[...new Set(streams)].join(',')}; ALPN ${String(alpn)}; server saw ${h2.totalConnections()} connection`);
    if (streams.some((s) => s !== 200)) failures += 1;
    session.close();

    const socket = new WebSocket(ws.url, { ca: pki.ca.cert, perMessageDeflate: false });
    socket.on('error', () => {});
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const echoed = new Promise<string>((resolve) => socket.once('message', (d: Buffer) => resolve(d.toString())));
    socket.send('numbered message 1');
    line('WebSocket (wss)', `echo "${await echoed}"`);
    socket.close();

    console.log(`\n${failures === 0 ? 'All checks passed.' : `${failures} check(s) failed.`}`);
    return failures === 0 ? 0 : 1;
  } finally {
    await Promise.all([proxy.close(), h1.close(), h2.close(), ws.close()]);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);

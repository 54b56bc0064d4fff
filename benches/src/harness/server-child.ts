/**
 * Bench servers, run in a child process (`server.ts` forks this file) so the client's CPU and
 * memory are measured clean. Minimal responders: the client is what is under test.
 */
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { WebSocketServer } from 'ws';
import { testPki } from '@berth/testkit';

export type ServerKind = 'https' | 'h2' | 'wss' | 'tls';

export interface ServerRequest {
  readonly cmd: 'start';
  readonly kind: ServerKind;
  /** h2: SETTINGS_MAX_CONCURRENT_STREAMS. */
  readonly maxConcurrentStreams?: number;
}

async function start(request: ServerRequest): Promise<number> {
  const { server: cert } = await testPki();
  const options = { cert: cert.cert, key: cert.key };
  const body = Buffer.from('ok');
  // `/bytes/N` answers N bytes, for downloads; everything else answers `ok`.
  const sizeOf = (path: string | undefined): number | undefined => {
    const m = /^\/bytes\/(\d+)/.exec(path ?? '');
    return m?.[1] === undefined ? undefined : Number(m[1]);
  };
  // h2 `/hold/MS` answers after MS milliseconds, so many streams stay open at once.
  const holdOf = (path: string | undefined): number => {
    const m = /^\/hold\/(\d+)/.exec(path ?? '');
    return m?.[1] === undefined ? 0 : Math.min(Number(m[1]), 30_000);
  };
  let server: https.Server | http2.Http2SecureServer | tls.Server;
  switch (request.kind) {
    case 'https': {
      const s = https.createServer(options, (req, res) => {
        const n = sizeOf(req.url);
        const payload = n === undefined ? body : Buffer.alloc(n, 0x61);
        req.resume();
        req.on('end', () => {
          res.writeHead(200, { 'content-length': payload.length, 'content-type': 'text/plain' });
          res.end(payload);
        });
      });
      s.keepAliveTimeout = 120_000;
      server = s;
      break;
    }
    case 'h2': {
      const s = http2.createSecureServer({
        ...options,
        settings: { maxConcurrentStreams: request.maxConcurrentStreams ?? 1000 },
      });
      s.on('stream', (stream, headers) => {
        stream.on('error', () => {});
        const path = headers[':path'];
        const n = sizeOf(path);
        const answer = () => {
          if (stream.destroyed || stream.closed) return;
          stream.respond({ ':status': 200, 'content-type': 'text/plain' });
          stream.end(n === undefined ? body : Buffer.alloc(n, 0x61));
        };
        const hold = holdOf(path);
        if (hold === 0) answer();
        else setTimeout(answer, hold);
      });
      s.on('sessionError', () => {});
      server = s;
      break;
    }
    case 'wss': {
      const s = https.createServer(options);
      const wss = new WebSocketServer({ server: s, perMessageDeflate: false });
      wss.on('connection', (ws) => {
        ws.on('error', () => {});
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      });
      server = s;
      break;
    }
    case 'tls': {
      server = tls.createServer(options, (socket) => {
        socket.on('error', () => {});
        socket.end();
      });
      break;
    }
  }
  server.on('error', () => {});
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

process.on('message', (message: ServerRequest | { cmd: 'cpu' }) => {
  if (message.cmd === 'cpu') {
    const usage = process.cpuUsage();
    process.send?.({ cpuMicros: usage.user + usage.system, rss: process.memoryUsage().rss });
    return;
  }
  start(message).then(
    (port) => process.send?.({ port }),
    (error: unknown) => process.send?.({ error: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));

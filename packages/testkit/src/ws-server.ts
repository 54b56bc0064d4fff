import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import { pause } from './behaviour.js';
import { testPki } from './pki.js';
import type { CertKeyPair } from './pki.js';
import { track } from './registry.js';

/** A message a test WebSocket server received. */
export interface ReceivedMessage {
  /** Index of the socket (order of acceptance, from 0). */
  readonly socket: number;
  /** The message as UTF-8 text. */
  readonly data: string;
}

/** Options of {@link startWsServer}. */
export interface TestWsServerOptions {
  /** Serve over TLS (`wss:`). Default true. */
  readonly tls?: boolean;
  /** Certificate and key. Default `testPki().server`. */
  readonly cert?: Pick<CertKeyPair, 'cert' | 'key'>;
  /** Echo every message back. Default true. */
  readonly echo?: boolean;
  /** Do not answer pings (a half-open peer as the client sees it). Default false. */
  readonly ignorePings?: boolean;
  /** Called for each message; return a reply to send, or undefined. Runs before echo. */
  readonly onMessage?: (data: string, socket: WebSocket, index: number) => string | undefined;
  /** Called for each new socket. */
  readonly onConnection?: (socket: WebSocket, request: IncomingMessage, index: number) => void;
}

/** A running test WebSocket server. */
export interface TestWsServer {
  /** e.g. `wss://127.0.0.1:40123`. */
  readonly url: string;
  /** Bound port. */
  readonly port: number;
  /** Every message received, in order. */
  readonly received: readonly ReceivedMessage[];
  /** Request headers of every accepted handshake, in order. */
  readonly handshakes: readonly IncomingMessage['headers'][];
  /** Open sockets. */
  sockets(): readonly WebSocket[];
  /** Live TCP connections (upgraded or not). */
  connectionCount(): number;
  /** Handshakes accepted since start. */
  totalSockets(): number;
  /** Refuse the next handshakes with this HTTP status and headers (e.g. 429 with Retry-After); `undefined` accepts again. */
  rejectHandshakes(reply: { status: number; headers?: Record<string, string> } | undefined): void;
  /** Sends a close frame with `code` on every socket. */
  closeAll(code?: number, reason?: string): void;
  /** Cuts every socket without a close frame (TCP reset): the client sees 1006. */
  cutAll(): void;
  /** Sends `data` to every open socket. */
  broadcast(data: string): void;
  /** Resolves when `predicate` holds for the messages received, or rejects after `timeoutMs` (default 5000). */
  waitForMessages(predicate: (received: readonly ReceivedMessage[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Closes the server and every socket. */
  close(): Promise<void>;
}

/** Starts a WebSocket server (over TLS by default) on a loopback port chosen by the OS. */
export async function startWsServer(options: TestWsServerOptions = {}): Promise<TestWsServer> {
  const useTls = options.tls ?? true;
  const pki = await testPki();
  const cert = options.cert ?? pki.server;
  // Plain HTTP requests (health probes of a router) get `200 ok`; upgrades go to the ws server.
  const answer = (_req: IncomingMessage, res: http.ServerResponse) => res.end('ok');
  const httpServer = useTls ? https.createServer({ cert: cert.cert, key: cert.key }, answer) : http.createServer(answer);
  const tcpSockets = new Set<Socket>();
  const received: ReceivedMessage[] = [];
  const handshakes: IncomingMessage['headers'][] = [];
  let accepted = 0;
  let rejection: { status: number; headers?: Record<string, string> } | undefined;

  httpServer.on('connection', (socket: Socket) => {
    tcpSockets.add(socket);
    socket.on('close', () => tcpSockets.delete(socket));
    socket.on('error', () => {});
  });
  httpServer.on('tlsClientError', () => {});

  const wss = new WebSocketServer({
    server: httpServer,
    perMessageDeflate: false,
    autoPong: options.ignorePings !== true,
    verifyClient: (_info, done) => {
      if (rejection === undefined) done(true);
      else done(false, rejection.status, 'Rejected by test', rejection.headers);
    },
  });
  wss.on('error', () => {});
  wss.on('connection', (socket, request) => {
    const index = accepted;
    accepted += 1;
    handshakes.push(request.headers);
    socket.on('error', () => {});
    options.onConnection?.(socket, request, index);
    socket.on('message', (raw: RawData) => {
      const data = Buffer.isBuffer(raw) ? raw.toString('utf8') : Buffer.concat(raw as Buffer[]).toString('utf8');
      received.push({ socket: index, data });
      const reply = options.onMessage?.(data, socket, index);
      if (reply !== undefined) socket.send(reply);
      else if (options.echo !== false) socket.send(data);
    });
  });

  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  const address = httpServer.address();
  if (address === null || typeof address === 'string') throw new Error('ws server has no TCP address');
  const port = address.port;
  const label = `ws server 127.0.0.1:${port}`;
  const untrack = track({ label, connectionCount: () => tcpSockets.size });
  let closed: Promise<void> | undefined;

  return {
    url: `${useTls ? 'wss' : 'ws'}://127.0.0.1:${port}`,
    port,
    received,
    handshakes,
    sockets: () => [...wss.clients],
    connectionCount: () => tcpSockets.size,
    totalSockets: () => accepted,
    rejectHandshakes(reply) {
      rejection = reply;
    },
    closeAll(code = 1001, reason = '') {
      for (const client of wss.clients) client.close(code, reason);
    },
    cutAll() {
      for (const client of wss.clients) client.terminate();
      for (const socket of tcpSockets) socket.resetAndDestroy();
    },
    broadcast(data) {
      for (const client of wss.clients) client.send(data);
    },
    async waitForMessages(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) throw new Error(`${label}: condition not met with ${received.length} messages`);
        await pause(5);
      }
    },
    close() {
      closed ??= (async () => {
        for (const client of wss.clients) client.terminate();
        for (const socket of tcpSockets) socket.destroy();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        await new Promise<void>((resolve) => httpServer.close(() => resolve()));
        untrack();
      })();
      return closed;
    },
  };
}

import { once } from 'node:events';
import http2 from 'node:http2';
import type { Http2Session, Http2Server, Http2SecureServer, ServerHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Readable } from 'node:stream';
import { BehaviourTable, MAX_RECORDED_BODY, bodyOf, chunksOf, pause } from './behaviour.js';
import type { Behaviour, RecordedRequest } from './behaviour.js';
import { testPki } from './pki.js';
import type { CertKeyPair } from './pki.js';
import { track } from './registry.js';

/** TLS settings of a test server. */
export interface ServerTlsOptions {
  /** Certificate and key to serve. Default: `testPki().server` (RSA, valid for localhost/127.0.0.1/::1). */
  readonly cert?: Pick<CertKeyPair, 'cert' | 'key'>;
  /** Require a client certificate signed by this CA (PEM), for mTLS. */
  readonly requireClientCertCa?: string;
  /** Lowest TLS version the server accepts. Default Node's (`TLSv1.2`). */
  readonly minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** Highest TLS version the server accepts (e.g. `TLSv1.1` to test a downgrade). */
  readonly maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list (TLS ≤ 1.2), e.g. to offer only a weak suite. */
  readonly ciphers?: string;
  /** Disable session tickets (no resumption possible). */
  readonly noTickets?: boolean;
}

/** Options of {@link startHttpServer}. */
export interface TestServerOptions {
  /** `https` (HTTP/1.1 over TLS), `h2` (HTTP/2 over TLS, ALPN), `h2c` (cleartext HTTP/2), `http` (cleartext HTTP/1.1). Default `https`. */
  readonly protocol?: 'https' | 'h2' | 'h2c' | 'http';
  /** `h2` only: also accept HTTP/1.1 via ALPN (a server that speaks both). Default false. */
  readonly allowHttp1?: boolean;
  /** TLS settings (ignored for cleartext). */
  readonly tls?: ServerTlsOptions;
  /** HTTP/1.1 keep-alive timeout in milliseconds: the server closes idle sockets after it. Default 5000 (Node's). */
  readonly keepAliveTimeoutMs?: number;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS. Default 100. */
  readonly maxConcurrentStreams?: number;
  /** HTTP/2 initial stream window the server advertises. Default 65 535. */
  readonly initialWindowSize?: number;
  /** Default behaviour. */
  readonly behaviour?: Behaviour | ((request: RecordedRequest) => Behaviour);
  /** Host to bind. Default `127.0.0.1`. */
  readonly host?: string;
}

/** A running test server. */
export interface TestServer {
  /** Origin, e.g. `https://127.0.0.1:40123`. */
  readonly origin: string;
  /** Bound host. */
  readonly host: string;
  /** Bound port. */
  readonly port: number;
  /** Protocol served. */
  readonly protocol: 'https' | 'h2' | 'h2c' | 'http';
  /** Every request received, in order of arrival. */
  readonly requests: readonly RecordedRequest[];
  /** SNI sent by each TLS client (`false` when none was sent), in order of connection. */
  readonly sniSeen: readonly (string | false)[];
  /** Sets the default behaviour. */
  behave(behaviour: Behaviour | ((request: RecordedRequest) => Behaviour)): void;
  /** Sets the behaviour of one path (without query). */
  route(path: string, behaviour: Behaviour): void;
  /** Live TCP connections. */
  connectionCount(): number;
  /** TCP connections accepted since start. */
  totalConnections(): number;
  /** HTTP/2: most streams open at once on any one session since start. */
  peakStreamsPerSession(): number;
  /** HTTP/2: streams open now, over all sessions. */
  activeStreams(): number;
  /** HTTP/2: sends GOAWAY with `errorCode` (default 0, NO_ERROR) on every live session. */
  goaway(errorCode?: number): void;
  /** HTTP/2: changes SETTINGS_MAX_CONCURRENT_STREAMS on every live session and for new ones. */
  setMaxConcurrentStreams(n: number): void;
  /** Destroys every live connection at once (TCP reset). */
  dropConnections(): void;
  /** Resolves when `connectionCount()` satisfies `predicate`, or rejects after `timeoutMs` (default 2000). */
  waitForConnections(predicate: (count: number) => boolean, timeoutMs?: number): Promise<void>;
  /** Closes the server and destroys every connection. */
  close(): Promise<void>;
}

type AnyServer = https.Server | Http2SecureServer | Http2Server | NetServer;

/** Starts a scriptable HTTP server on a loopback port chosen by the OS. */
export async function startHttpServer(options: TestServerOptions = {}): Promise<TestServer> {
  const protocol = options.protocol ?? 'https';
  const host = options.host ?? '127.0.0.1';
  const pki = await testPki();
  const cert = options.tls?.cert ?? pki.server;
  const tlsOptions = {
    cert: cert.cert,
    key: cert.key,
    ...(options.tls?.requireClientCertCa === undefined
      ? {}
      : { requestCert: true, rejectUnauthorized: true, ca: options.tls.requireClientCertCa }),
    ...(options.tls?.minVersion === undefined ? {} : { minVersion: options.tls.minVersion }),
    ...(options.tls?.maxVersion === undefined ? {} : { maxVersion: options.tls.maxVersion }),
    ...(options.tls?.ciphers === undefined ? {} : { ciphers: options.tls.ciphers }),
    ...(options.tls?.noTickets === true ? { secureOptions: (await import('node:crypto')).constants.SSL_OP_NO_TICKET } : {}),
  };

  const table = new BehaviourTable();
  if (options.behaviour !== undefined) table.setDefault(options.behaviour);
  const requests: RecordedRequest[] = [];
  const sniSeen: (string | false)[] = [];
  const sockets = new Set<Socket>();
  const connectionIndex = new WeakMap<object, number>();
  const sessions = new Set<Http2Session>();
  const streamsPerSession = new Map<Http2Session, number>();
  /** Highest stream id handed to the handler, per session. */
  const lastStreamSeen = new Map<Http2Session, number>();
  /** The last-stream-id this server announced in a GOAWAY, per session. */
  const goawayLastId = new Map<Http2Session, number>();
  let accepted = 0;
  let peakStreams = 0;
  let maxStreams = options.maxConcurrentStreams ?? 100;

  const h2Settings = () => ({
    maxConcurrentStreams: maxStreams,
    ...(options.initialWindowSize === undefined ? {} : { initialWindowSize: options.initialWindowSize }),
  });

  let server: AnyServer;
  if (protocol === 'https' || protocol === 'http') {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      // A client that resets mid-response makes a write throw; that is the client's choice, not a test failure.
      handleHttp1(req, res).catch(() => res.destroy());
    };
    server =
      protocol === 'https'
        ? https.createServer({ ...tlsOptions, ALPNProtocols: ['http/1.1'] }, handler)
        : (await import('node:http')).createServer(handler);
    const s = server as https.Server;
    s.keepAliveTimeout = options.keepAliveTimeoutMs ?? 5000;
  } else {
    server =
      protocol === 'h2'
        ? http2.createSecureServer({
            ...tlsOptions,
            allowHTTP1: options.allowHttp1 ?? false,
            settings: h2Settings(),
          })
        : http2.createServer({ settings: h2Settings() });
    const h2 = server as Http2SecureServer;
    h2.on('session', (session: Http2Session) => {
      sessions.add(session);
      streamsPerSession.set(session, 0);
      connectionIndex.set(session, accepted - 1);
      session.on('error', () => {});
      session.on('close', () => {
        sessions.delete(session);
        streamsPerSession.delete(session);
        lastStreamSeen.delete(session);
        goawayLastId.delete(session);
      });
    });
    h2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      const session = stream.session;
      const id = stream.id ?? 0;
      const announced = session === undefined ? undefined : goawayLastId.get(session);
      // RFC 9113 §6.8: streams above the last-stream-id of a GOAWAY we sent are not processed.
      // nghttp2 still hands over HEADERS it reads between submitting the GOAWAY and sending it,
      // so the promise is kept here: refused, unrecorded, safe for the client to retry.
      if (announced !== undefined && id > announced) {
        stream.on('error', () => {});
        stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      if (session !== undefined) lastStreamSeen.set(session, Math.max(lastStreamSeen.get(session) ?? 0, id));
      handleH2(stream, headers).catch(() => stream.destroy());
    });
    if (options.allowHttp1 === true) {
      h2.on('request', (req, res) => {
        if (req.httpVersionMajor === 1) {
          handleHttp1(req as unknown as IncomingMessage, res as unknown as ServerResponse).catch(() => res.destroy());
        }
      });
    }
  }

  server.on('connection', (socket: Socket) => {
    accepted += 1;
    sockets.add(socket);
    if (protocol === 'http') connectionIndex.set(socket, accepted - 1);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    connectionIndex.set(socket, accepted - 1);
    const sni = (socket as TLSSocket & { servername?: string | false }).servername;
    sniSeen.push(typeof sni === 'string' && sni.length > 0 ? sni : false);
    socket.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  server.on('error', () => {});

  async function readBody(stream: Readable): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of stream) {
        const buf = chunk as Buffer;
        if (size < MAX_RECORDED_BODY) chunks.push(buf);
        size += buf.length;
      }
    } catch {
      // The client went away mid-body; record what arrived.
    }
    return Buffer.concat(chunks).toString('utf8').slice(0, MAX_RECORDED_BODY);
  }

  async function handleHttp1(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      body,
      connection: connectionIndex.get(req.socket) ?? -1,
      protocol: 'http/1.1',
    };
    requests.push(record);
    const b = table.resolve(record);
    const socket = req.socket;
    if (b.resetBeforeResponse === true) {
      socket.destroy();
      return;
    }
    await pause(b.delayMs);
    if (socket.destroyed) return;
    const payload = bodyOf(b, record);
    const drip = b.chunkIntervalMs !== undefined || b.resetMidBody === true;
    const headers: Record<string, string | number> = { ...b.headers };
    if (!drip) headers['content-length'] = payload.length;
    if (b.connectionClose === true) headers['connection'] = 'close';
    res.writeHead(b.status ?? 200, headers);
    if (b.resetMidBody === true) {
      res.write(payload.subarray(0, Math.max(1, payload.length >> 1)));
      await pause(10);
      socket.destroy();
      return;
    }
    for (const chunk of chunksOf(payload, b)) {
      if (socket.destroyed) return;
      res.write(chunk);
      await pause(b.chunkIntervalMs);
    }
    res.end(() => {
      if (b.closeAfterResponse === true) socket.destroy();
    });
  }

  async function handleH2(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
    const session = stream.session;
    if (session !== undefined) {
      const open = (streamsPerSession.get(session) ?? 0) + 1;
      streamsPerSession.set(session, open);
      peakStreams = Math.max(peakStreams, open);
      stream.on('close', () => {
        if (streamsPerSession.has(session)) streamsPerSession.set(session, (streamsPerSession.get(session) ?? 1) - 1);
      });
    }
    stream.on('error', () => {});
    const plainHeaders: Record<string, string | string[] | undefined> = {};
    for (const [k, v] of Object.entries(headers)) if (!k.startsWith(':')) plainHeaders[k] = v;
    const body = await readBody(stream);
    const record: RecordedRequest = {
      method: String(headers[':method'] ?? 'GET'),
      path: String(headers[':path'] ?? '/'),
      headers: plainHeaders,
      body,
      connection: session === undefined ? -1 : (connectionIndex.get(session) ?? -1),
      protocol: 'h2',
    };
    requests.push(record);
    const b = table.resolve(record);
    const { NGHTTP2_REFUSED_STREAM, NGHTTP2_INTERNAL_ERROR } = http2.constants;
    if (b.refuseStream === true) {
      stream.close(NGHTTP2_REFUSED_STREAM);
      return;
    }
    if (b.resetBeforeResponse === true) {
      stream.close(NGHTTP2_INTERNAL_ERROR);
      return;
    }
    await pause(b.delayMs);
    if (stream.destroyed || stream.closed) return;
    const payload = bodyOf(b, record);
    stream.respond({ ':status': b.status ?? 200, ...b.headers });
    if (b.resetMidBody === true) {
      stream.write(payload.subarray(0, Math.max(1, payload.length >> 1)));
      await pause(10);
      // close(code) would flush and send END_STREAM first; destroy(err) resets at once.
      stream.destroy(new Error('reset mid-body by the test server'));
      return;
    }
    for (const chunk of chunksOf(payload, b)) {
      if (stream.destroyed) return;
      if (!stream.write(chunk)) await drainOrClose(stream);
      await pause(b.chunkIntervalMs);
    }
    stream.end();
    if (b.goawayAfter === true && session !== undefined && !session.destroyed) {
      stream.on('close', () => {
        if (!session.destroyed && !session.closed) session.goaway(http2.constants.NGHTTP2_NO_ERROR);
      });
    }
  }

  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('test server has no TCP address');
  const port = address.port;
  const scheme = protocol === 'h2c' || protocol === 'http' ? 'http' : 'https';
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  const label = `${protocol} server ${host}:${port}`;
  const untrack = track({ label, connectionCount: () => sockets.size });
  let closed: Promise<void> | undefined;

  const testServer: TestServer = {
    origin: `${scheme}://${hostInUrl}:${port}`,
    host,
    port,
    protocol,
    requests,
    sniSeen,
    behave: (b) => table.setDefault(b),
    route: (path, b) => table.route(path, b),
    connectionCount: () => sockets.size,
    totalConnections: () => accepted,
    peakStreamsPerSession: () => peakStreams,
    activeStreams: () => [...streamsPerSession.values()].reduce((a, b) => a + b, 0),
    goaway(errorCode = http2.constants.NGHTTP2_NO_ERROR) {
      for (const session of sessions) {
        if (session.destroyed || session.closed) continue;
        // The last stream handed to the handler, never more than an earlier GOAWAY announced.
        const seen = lastStreamSeen.get(session) ?? 0;
        const last = Math.min(seen, goawayLastId.get(session) ?? seen);
        goawayLastId.set(session, last);
        // Node computes the id itself for 0 (nghttp2's last processed stream); the handler above
        // refuses anything beyond `last` either way.
        session.goaway(errorCode, last);
      }
    },
    setMaxConcurrentStreams(n) {
      maxStreams = n;
      for (const session of sessions) if (!session.destroyed) session.settings({ maxConcurrentStreams: n });
      (server as Http2SecureServer).updateSettings?.({ maxConcurrentStreams: n });
    },
    dropConnections() {
      for (const socket of sockets) socket.resetAndDestroy();
    },
    async waitForConnections(predicate, timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(sockets.size)) {
        if (Date.now() > deadline) throw new Error(`${label}: connection count stayed at ${sockets.size}`);
        await pause(5);
      }
    },
    close() {
      closed ??= (async () => {
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        untrack();
      })();
      return closed;
    },
  };
  return testServer;
}

/** Waits for 'drain' or 'close', whichever comes first, and leaves no listener behind. */
function drainOrClose(stream: ServerHttp2Stream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/**
 * What undici passes to a custom connector (`Client`/`Pool` option `connect`), mirrored from
 * undici 7's `buildConnector.Options` so this package need not depend on undici.
 */
export interface UndiciConnectOptions {
  /** Host name or IP (IPv6 possibly in brackets). */
  readonly hostname: string;
  /** `host:port` of the origin. */
  readonly host?: string;
  /** `https:` or `http:`. */
  readonly protocol?: string;
  /** Port, as a string in undici (empty for the scheme default). */
  readonly port: string | number;
  /** SNI undici derived from the `Host` header or its `servername` option; `null`/absent for IPs. */
  readonly servername?: string | null;
  /** Ignored: a local bind address would defeat the shared connector. */
  readonly localAddress?: string | null;
  /** Ignored: HTTP proxies tunnelling are not supported by this connector. */
  readonly httpSocket?: Socket;
}

/** undici's connector callback (`buildConnector.Callback`). */
export type UndiciConnectCallback = (...args: [null, Socket] | [Error, null]) => void;

/** A connector for undici's `connect` option: calls back once the socket is verified, or with a `BerthError`. */
export type UndiciConnector = (options: UndiciConnectOptions, callback: UndiciConnectCallback) => void;

/** Options for `node:http2.connect(authority, options)` that dial through the shared TLS config. */
export interface Http2ConnectOptions {
  /** Returns a verified TLS socket offering ALPN `h2`; HTTP/2 waits for its `'secureConnect'`. */
  readonly createConnection: () => TLSSocket;
}

/** Options for `new WebSocket(url, options)` (ws 8) that dial through the shared TLS config. */
export interface WsConnectOptions {
  /** Returns a verified TLS socket offering ALPN `http/1.1` (WebSocket upgrades need HTTP/1.1, RFC 6455). */
  readonly createConnection: () => TLSSocket;
  /** ws has no default opening-handshake timeout; this is the config's `handshakeTimeoutMs`, in milliseconds. */
  readonly handshakeTimeout: number;
}

import type { TLSSocket } from 'node:tls';
import type { TlsHandshakeInfo } from './pool.js';

/** Where to dial. */
export interface TlsTarget {
  /** Host name or IP literal to connect to. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /**
   * SNI and certificate name to use instead of `host` (e.g. dialling an IP while verifying
   * `api.example.com`). When absent, SNI is `host`, or not sent at all for IP literals (RFC 6066 §3).
   */
  readonly servername?: string;
  /** ALPN protocols to offer on this connection instead of the connector's list (e.g. `['h2']` for an HTTP/2 pool). */
  readonly alpnProtocols?: readonly string[];
}

/**
 * The TLS contract between tls-config (which produces it) and the pools (which consume
 * it). It holds **one shared SecureContext** per trust profile, so no pool ever passes
 * `ca`/`cert` per connection (that costs +27 % handshake time and 12–18 KiB per connection).
 *
 * Everything a pool needs is here: `connect` dials a verified socket (chain, host name and
 * pins checked; session tickets resumed and stored), and plugs into undici's `connect`,
 * `node:http2.connect`'s `createConnection` and ws's `createConnection`.
 */
export interface TlsConnector {
  /** ALPN protocols offered by default, most preferred first, e.g. `['h2', 'http/1.1']`. */
  readonly alpnProtocols: readonly string[];
  /** Deadline for TCP connect + TLS handshake, in milliseconds. */
  readonly handshakeTimeoutMs: number;
  /**
   * Starts a TCP + TLS dial and returns the socket at once. It emits `'secureConnect'` after the
   * peer is verified, or `'error'` with a `BerthError` (`ERR_BERTH_TLS_*`, `ERR_BERTH_CONNECT_*`)
   * and is destroyed. The handshake deadline is armed by the connector.
   */
  connect(target: TlsTarget): TLSSocket;
  /** Handshake facts of a socket this connector opened; `undefined` before `'secureConnect'`. */
  handshakeInfo(socket: TLSSocket): TlsHandshakeInfo | undefined;
}

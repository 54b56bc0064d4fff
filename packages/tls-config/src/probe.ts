import type { TLSSocket } from 'node:tls';
import { BerthError } from '@berth/core-types';
import type { Clock, TlsHandshakeInfo, TlsTarget } from '@berth/core-types';
import type { PeerSummary } from './peer.js';

/**
 * How long a probe keeps its TLS 1.3 connection open for the server's session ticket, which
 * arrives after the handshake (RFC 8446 §4.6.1), in milliseconds. On loopback it comes within
 * a millisecond; the bound only matters for a server that sends none.
 */
export const TICKET_WAIT_MS = 250;

/** Options of `probe()`. */
export interface ProbeOptions {
  /** Dial even if a cached result exists (the new result replaces it). Default `false`. */
  readonly fresh?: boolean;
  /** SNI and name to verify instead of the origin's host. */
  readonly servername?: string;
  /** ALPN protocols to offer. Default the config's `alpnProtocols`. */
  readonly alpnProtocols?: readonly string[];
}

/** What a probe learnt about an origin. */
export interface ProbeResult {
  /** The origin probed, normalized (`https://host:port`, default port omitted). */
  readonly origin: string;
  /** Protocol chosen by ALPN (`h2`, `http/1.1`), or `false` when the server chose none. */
  readonly alpn: string | false;
  /** Negotiated TLS version, e.g. `TLSv1.3`. */
  readonly version: string;
  /** Negotiated cipher suite (IANA name), e.g. `TLS_AES_256_GCM_SHA384`. */
  readonly cipher: string;
  /** TCP connect + TLS handshake, in milliseconds. */
  readonly handshakeMs: number;
  /** Whether the probe resumed a cached session. */
  readonly resumed: boolean;
  /** The server's leaf certificate (from the handshake that created the session, when resumed). */
  readonly peer: PeerSummary | undefined;
}

/** One dial, as the config hands it to the probe. */
export interface ProbeDial {
  readonly socket: TLSSocket;
  info(socket: TLSSocket): TlsHandshakeInfo | undefined;
  peer(socket: TLSSocket): PeerSummary | undefined;
  /** Takes the verified socket once the probe is done with it (to hand it to a pool, or close it). */
  release(socket: TLSSocket): void;
  /** Whether session tickets are cached (else there is nothing to wait for). */
  readonly waitForTicket: boolean;
}

interface Entry {
  readonly promise: Promise<ProbeResult>;
  expiresAt: number;
}

function probeKey(target: TlsTarget & { readonly origin: string }): string {
  return `${target.origin}|${target.servername ?? ''}|${(target.alpnProtocols ?? []).join(',')}`;
}

/**
 * Single-flight, cached probes: concurrent callers for one origin share one dial (the cold
 * burst that makes undici dial once per request, `nodejs/undici#5362`, costs one handshake
 * here), and a success is reused for `ttlMs`. Failures are not cached.
 */
export class ProbeCache {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, Entry>();

  constructor(options: { readonly clock: Clock; readonly ttlMs: number }) {
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs;
  }

  /** The cached or in-flight probe of `target`, or a new one from `dial`. */
  run(target: TlsTarget & { readonly origin: string }, fresh: boolean, dial: () => ProbeDial): Promise<ProbeResult> {
    const key = probeKey(target);
    const existing = this.#entries.get(key);
    if (existing !== undefined && !fresh && existing.expiresAt > this.#clock.now()) return existing.promise;
    const entry: Entry = { promise: this.#probe(target.origin, dial()), expiresAt: Number.POSITIVE_INFINITY };
    this.#entries.set(key, entry);
    entry.promise.then(
      () => {
        entry.expiresAt = this.#clock.now() + this.#ttlMs;
        if (this.#ttlMs === 0 && this.#entries.get(key) === entry) this.#entries.delete(key);
      },
      () => {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      },
    );
    return entry.promise;
  }

  /** Forgets every result (the trust profile changed). */
  clear(): void {
    this.#entries.clear();
  }

  #probe(origin: string, dial: ProbeDial): Promise<ProbeResult> {
    const { socket } = dial;
    return new Promise<ProbeResult>((resolve, reject) => {
      socket.on('error', reject);
      const done = (result: ProbeResult) => {
        socket.off('error', reject);
        dial.release(socket);
        resolve(result);
      };
      socket.once('secureConnect', () => {
        const info = dial.info(socket);
        if (info === undefined) {
          socket.destroy();
          reject(new BerthError('ERR_BERTH_INTERNAL', `probe of ${origin}: no handshake facts after secureConnect`));
          return;
        }
        const result: ProbeResult = {
          origin,
          alpn: info.alpn,
          version: info.version,
          cipher: info.cipher,
          handshakeMs: info.handshakeMs,
          resumed: info.resumed,
          peer: dial.peer(socket),
        };
        // TLS 1.2 tickets come inside the handshake; TLS 1.3 tickets just after it, and a
        // resumed handshake keeps the ticket it used.
        if (!dial.waitForTicket || info.version !== 'TLSv1.3' || info.resumed) {
          done(result);
          return;
        }
        const finish = () => {
          this.#clock.clearTimeout(timer);
          socket.off('session', finish);
          socket.off('close', finish);
          done(result);
        };
        const timer = this.#clock.setTimeout(finish, TICKET_WAIT_MS);
        socket.once('session', finish);
        socket.once('close', finish);
        // Post-handshake messages are only processed while the socket reads; read(0) reads
        // without consuming, so bytes the server sent (HTTP/2 SETTINGS) stay buffered for the
        // pool the socket may be handed to (node:http2 replays `socket.read()` data).
        socket.read(0);
      });
    });
  }
}

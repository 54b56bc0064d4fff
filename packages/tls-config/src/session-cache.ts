import { LRUCache } from 'lru-cache';
import type { Clock } from '@berth/core-types';
import type { PeerSummary } from './peer.js';
import { sessionLifetimeSeconds } from './session-lifetime.js';

/** Used when a session's lifetime cannot be read: 300 s, the shortest common server default (nginx `ssl_session_timeout` 5m). */
export const FALLBACK_SESSION_TTL_MS = 300_000;

/** A cached session and the peer it was verified against (a resumed handshake carries no certificate). */
export interface CachedSession {
  /** The serialized session (ticket) to pass as `session` to `tls.connect`. */
  readonly session: Buffer;
  /** The peer verified by the full handshake that produced this session. */
  readonly peer: PeerSummary | undefined;
}

/** Counters of a {@link SessionCache}. */
export interface SessionCacheStats {
  /** Sessions cached now. */
  readonly size: number;
  /** Sessions stored since creation (including replacements). */
  readonly stored: number;
  /** Lookups that found a session to offer. */
  readonly hits: number;
  /** Lookups that found none (first connection, expired, evicted or disabled). */
  readonly misses: number;
  /** Sessions dropped because the server did not accept them. */
  readonly rejected: number;
}

/**
 * The key a session is stored under: host, port, SNI and the ALPN offer. A ticket is bound
 * to the server name it was issued for, and keying by ALPN keeps an h2 pool and an h1 pool
 * from resuming each other's session with a different protocol (ANCHORS §1).
 */
export function sessionKey(host: string, port: number, servername: string | undefined, alpn: readonly string[]): string {
  return `${host}:${port}:${servername ?? ''}:${alpn.join(',')}`;
}

/**
 * A bounded LRU of TLS session tickets whose entries expire with the ticket lifetime the
 * server advertised (capped by `maxTtlMs`). lru-cache checks TTLs lazily against the
 * injected clock (`ttlAutopurge` off, `ttlResolution` 0), so it holds no timer.
 *
 * One ticket per key is kept and reused by concurrent connections, as undici does. RFC 8446
 * §C.4 advises single-use tickets for unlinkability between connections; that privacy goal
 * does not apply to a service talking to its own upstream, and single use would make a
 * burst of new connections do full handshakes.
 */
export class SessionCache {
  readonly #cache: LRUCache<string, CachedSession> | undefined;
  readonly #maxTtlMs: number;
  #stored = 0;
  #hits = 0;
  #misses = 0;
  #rejected = 0;

  constructor(options: { readonly maxEntries: number; readonly maxTtlMs: number; readonly clock: Clock }) {
    this.#maxTtlMs = options.maxTtlMs;
    this.#cache =
      options.maxEntries === 0
        ? undefined
        : new LRUCache<string, CachedSession>({
            max: options.maxEntries,
            ttl: options.maxTtlMs,
            ttlAutopurge: false,
            ttlResolution: 0,
            perf: { now: () => options.clock.now() },
          });
  }

  /** The session to offer for `key`, if a live one is cached. */
  get(key: string): CachedSession | undefined {
    const entry = this.#cache?.get(key);
    if (entry === undefined) this.#misses += 1;
    else this.#hits += 1;
    return entry;
  }

  /** Stores a session from the `'session'` event with the lifetime it carries (capped). */
  set(key: string, session: Buffer, peer: PeerSummary | undefined): void {
    if (this.#cache === undefined) return;
    const seconds = sessionLifetimeSeconds(session);
    const ttl = Math.min(seconds === undefined ? FALLBACK_SESSION_TTL_MS : seconds * 1000, this.#maxTtlMs);
    this.#stored += 1;
    this.#cache.set(key, { session, peer }, { ttl });
  }

  /** Drops the session of `key` because the server refused to resume it. */
  reject(key: string): void {
    if (this.#cache?.delete(key) === true) this.#rejected += 1;
  }

  /** Drops every session (the trust profile changed). */
  clear(): void {
    this.#cache?.clear();
  }

  /** Counters. */
  stats(): SessionCacheStats {
    return {
      size: this.#cache?.size ?? 0,
      stored: this.#stored,
      hits: this.#hits,
      misses: this.#misses,
      rejected: this.#rejected,
    };
  }
}

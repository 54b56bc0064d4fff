import { OptionChecker, silentLogger, systemClock, systemRandom } from '@berth/core-types';
import type { Clock, Logger, Random, TlsConnector } from '@berth/core-types';
import type { LookupOptions } from 'node:dns';

/** Hard ceiling of connections per pool. */
export const DEFAULT_MAX_CONNECTIONS = 100;
/** Warm connections kept idle and ready (bb8's `min_idle`; undici has none, nodejs/undici#317). */
export const DEFAULT_MIN_IDLE = 10;
/** 5 min: bounds how long a stale DNS answer or a drained blue/green target is kept (nodejs/undici#1135). */
export const DEFAULT_MAX_LIFETIME_MS = 300_000;
/** ±10 % spread of each connection's lifetime so a warm pool never reconnects all at once (HikariCP uses 2.5 %). */
export const DEFAULT_LIFETIME_JITTER = 0.1;
/** 90 s, as Go's `IdleConnTimeout` and hyper's `pool_idle_timeout`: the ceiling however long the server's keep-alive hint. */
export const DEFAULT_IDLE_TIMEOUT_MS = 90_000;
/** 4 s, as undici and agentkeepalive: below Node's server keep-alive of 5 s, so the client closes first. */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 4_000;
/** undici's margin subtracted from a server's `Keep-Alive: timeout=` hint. */
export const DEFAULT_KEEP_ALIVE_THRESHOLD_MS = 2_000;
/** 10 s, as undici's `connectTimeout` and Go's `TLSHandshakeTimeout`; covers DNS + TCP + TLS. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** 10 s waiting for a connection before `ERR_BERTH_ACQUIRE_TIMEOUT` (generic-pool's default is to wait forever). */
export const DEFAULT_ACQUIRE_TIMEOUT_MS = 10_000;
/** Bounded waiting queue (generic-pool's default is unbounded). */
export const DEFAULT_MAX_WAITING = 10_000;
/** undici's 300 s: model APIs may think for minutes before the first byte. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 300_000;
/** undici's 300 s between body chunks. */
export const DEFAULT_BODY_TIMEOUT_MS = 300_000;
/** Half the default keep-alive: an idle connection is probed before either side's keep-alive timer can fire. */
export const DEFAULT_VALIDATE_AFTER_IDLE_MS = 2_000;
/** Deadline of one validation request. */
export const DEFAULT_VALIDATION_TIMEOUT_MS = 5_000;
/** Housekeeping (eviction, warm-up, background validation) period. */
export const DEFAULT_HOUSEKEEPING_INTERVAL_MS = 1_000;
/** First connect retry delay after a failure (bb8 starts at 400 ms without jitter). */
export const DEFAULT_CONNECT_BACKOFF_BASE_MS = 100;
/** Cap of the connect retry delay. */
export const DEFAULT_CONNECT_BACKOFF_MAX_MS = 10_000;
/** undici's TCP keep-alive initial delay. */
export const DEFAULT_TCP_KEEP_ALIVE_INITIAL_DELAY_MS = 60_000;
/** undici dns interceptor's `maxTTL`. */
export const DEFAULT_DNS_MAX_TTL_MS = 10_000;
/** Graceful close: in-flight requests get this long before they are destroyed. */
export const DEFAULT_CLOSE_DEADLINE_MS = 10_000;

/** The health request used to validate idle connections. */
export interface ValidationOptions {
  /**
   * HTTP method. Default `OPTIONS`. Not `HEAD`: undici writes every HEAD with
   * `Connection: close` and drops the socket after it (interop with servers that send a body
   * to HEAD, nodejs/undici#258) — the "HEAD answered with Connection: close" seen against
   * model APIs (theopenco/llmgateway#3595) — so a HEAD probe would always cost the connection
   * it checks. Any status below 500 (404 and 405 included) proves the connection is alive.
   */
  readonly method?: 'HEAD' | 'GET' | 'OPTIONS';
  /** Path of the health request. Default `/`. */
  readonly path?: string;
  /** Statuses that count as healthy. Default: any status below 500. */
  readonly acceptStatus?: (status: number) => boolean;
  /** Milliseconds the health request may take. Default 5000. */
  readonly timeoutMs?: number;
}

/** DNS caching (undici's `dns` interceptor). Ignored for IP-literal origins. */
export interface DnsOptions {
  /** Longest time a DNS answer is used, in milliseconds. Default 10 000. */
  readonly maxTtlMs?: number;
  /** Alternate between A and AAAA records. Default true. */
  readonly dualStack?: boolean;
  /** Preferred address family. Default: none (alternate). */
  readonly affinity?: 4 | 6;
  /** Resolver replacing `dns.lookup` (for split-horizon DNS or tests). Same contract as undici's. */
  readonly lookup?: (
    origin: URL,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, addresses: { address: string; ttl: number; family: 4 | 6 }[]) => void,
  ) => void;
}

/** Options of {@link createHttpsPool}. */
export interface HttpsPoolOptions {
  /** Name used in stats and event labels. Default: the origin. */
  readonly name?: string;
  /** Region label carried in events. Default: none. */
  readonly region?: string;
  /**
   * TLS connector (one shared SecureContext, verification, pins, resumption), normally
   * `@berth/tls-config`'s. Default: one SecureContext built at construction from the
   * system roots, shared by every connection.
   */
  readonly tls?: TlsConnector;
  /** Allows `http://` origins (tests, local sidecars). Default false. */
  readonly allowCleartext?: boolean;
  /** Hard ceiling of open connections; also `bounds.max` for `resize`. Default 100. */
  readonly maxConnections?: number;
  /** Smallest size `resize` accepts (`bounds.min`). Default `max(1, minIdle)`. */
  readonly minConnections?: number;
  /** Initial live size limit. Default `maxConnections`. */
  readonly targetConnections?: number;
  /** Idle connections kept open and warm (refreshed before keep-alive expiry). Default 10. */
  readonly minIdle?: number;
  /** Maximum age of a connection in milliseconds, jittered by `lifetimeJitter`; 0 disables. Default 300 000. */
  readonly maxLifetimeMs?: number;
  /** Fraction of `maxLifetimeMs` each connection's lifetime is spread by, both ways. Default 0.1 (±10 %). */
  readonly lifetimeJitter?: number;
  /** Requests a connection serves before it is retired; 0 = unlimited. Default 0. */
  readonly maxRequestsPerConnection?: number;
  /** Idle connections beyond `minIdle` are closed after this many milliseconds; also caps a server's keep-alive hint. Default 90 000. */
  readonly idleTimeoutMs?: number;
  /** Keep-alive of an idle connection when the server gives no `Keep-Alive: timeout` hint, in milliseconds. Default 4000. */
  readonly keepAliveTimeoutMs?: number;
  /** Milliseconds subtracted from a server's `Keep-Alive: timeout` hint. Default 2000. */
  readonly keepAliveTimeoutThresholdMs?: number;
  /** Deadline of DNS + TCP connect + TLS handshake, in milliseconds. Default 10 000. */
  readonly connectTimeoutMs?: number;
  /** Longest wait for a connection, in milliseconds, then `ERR_BERTH_ACQUIRE_TIMEOUT`. Default 10 000. */
  readonly acquireTimeoutMs?: number;
  /** Most callers waiting for a connection; one more gets `ERR_BERTH_QUEUE_FULL` at once. Default 10 000. */
  readonly maxWaiting?: number;
  /** Default overall deadline of a request (call to response head), in milliseconds. Default: none. */
  readonly requestTimeoutMs?: number;
  /** Default milliseconds to wait for response headers once sent. Default 300 000. */
  readonly headersTimeoutMs?: number;
  /** Default milliseconds a response body may stay silent. Default 300 000. */
  readonly bodyTimeoutMs?: number;
  /** Default largest response body, in bytes. Default: unlimited. */
  readonly maxResponseBytes?: number;
  /** Idle time after which a connection is validated (on borrow, and in the background for warm ones), in milliseconds; 0 disables. Default 2000. */
  readonly validateAfterIdleMs?: number;
  /** The health request. */
  readonly validation?: ValidationOptions;
  /** Which idle connection serves next: `fifo` spreads load over all (round robin), `lifo` lets surplus ones expire. Default `fifo`. */
  readonly idleOrder?: 'fifo' | 'lifo';
  /** Period of eviction, warm-up and background validation, in milliseconds. Default 1000. */
  readonly housekeepingIntervalMs?: number;
  /** Connect retry backoff after failures: full jitter between 0 and min(max, base·2ⁿ). */
  readonly connectBackoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Disable Nagle's algorithm on every socket. Default true. */
  readonly tcpNoDelay?: boolean;
  /** TCP keep-alive initial delay in milliseconds; 0 disables TCP keep-alive. Default 60 000. */
  readonly tcpKeepAliveInitialDelayMs?: number;
  /** DNS caching and rotation. */
  readonly dns?: DnsOptions;
  /** Default `close()` deadline for in-flight requests, in milliseconds. Default 10 000. */
  readonly closeDeadlineMs?: number;
  /** Time source. Default: the process clock. */
  readonly clock?: Clock;
  /** Jitter source. Default `Math.random`. */
  readonly random?: Random;
  /** Logger. Default: silent. */
  readonly logger?: Logger;
}

/** Options with every default filled in. */
export interface ResolvedOptions {
  readonly origin: URL;
  readonly originString: string;
  readonly name: string;
  readonly region: string | undefined;
  readonly tls: TlsConnector | undefined;
  readonly secure: boolean;
  readonly maxConnections: number;
  readonly minConnections: number;
  readonly targetConnections: number;
  readonly minIdle: number;
  readonly maxLifetimeMs: number;
  readonly lifetimeJitter: number;
  readonly maxRequestsPerConnection: number;
  readonly idleTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly keepAliveTimeoutThresholdMs: number;
  readonly connectTimeoutMs: number;
  readonly acquireTimeoutMs: number;
  readonly maxWaiting: number;
  readonly requestTimeoutMs: number | undefined;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly maxResponseBytes: number | undefined;
  readonly validateAfterIdleMs: number;
  readonly validation: Required<ValidationOptions>;
  readonly idleOrder: 'fifo' | 'lifo';
  readonly housekeepingIntervalMs: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly tcpNoDelay: boolean;
  readonly tcpKeepAliveInitialDelayMs: number;
  readonly dns: DnsOptions;
  readonly closeDeadlineMs: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
}

const MS = (max: number, def: number) => ({ min: 0, max, integer: true, default: def });
const POSITIVE_MS = (def: number) => ({ min: 1, max: 2_147_483_647, integer: true, default: def });

/** Fills defaults and validates every option at once; throws one `ERR_BERTH_CONFIG` listing all problems. */
export function resolveOptions(origin: unknown, input: HttpsPoolOptions = {}): ResolvedOptions {
  const c = new OptionChecker('https-pool');
  const allowCleartext = c.boolean('allowCleartext', input.allowCleartext, false);
  let url = new URL('https://invalid.invalid');
  if (typeof origin !== 'string' && !(origin instanceof URL)) {
    c.problem('origin', 'an https:// origin string or URL', origin);
  } else {
    try {
      url = new URL(origin);
      const okScheme = url.protocol === 'https:' || (url.protocol === 'http:' && allowCleartext);
      c.expect(okScheme, 'origin', allowCleartext ? 'an https:// or http:// origin' : 'an https:// origin (set allowCleartext for http://)', String(origin));
      c.expect(url.pathname === '/' && url.search === '' && url.username === '', 'origin', 'an origin without path, query or credentials', String(origin));
    } catch {
      c.problem('origin', 'a valid URL', origin);
    }
  }
  const originString = url.origin;

  const maxConnections = c.number('maxConnections', input.maxConnections, { min: 1, max: 100_000, integer: true, default: DEFAULT_MAX_CONNECTIONS });
  const minIdleDefault = Math.min(DEFAULT_MIN_IDLE, maxConnections);
  const minIdle = c.number('minIdle', input.minIdle, { min: 0, max: 100_000, integer: true, default: minIdleDefault });
  const minConnections = c.number('minConnections', input.minConnections, { min: 1, max: 100_000, integer: true, default: Math.max(1, minIdle) });
  const targetConnections = c.number('targetConnections', input.targetConnections, { min: 1, max: 100_000, integer: true, default: maxConnections });
  if (minIdle > maxConnections) c.problem('minIdle', `an integer <= maxConnections (${maxConnections})`, minIdle);
  if (minConnections > maxConnections) c.problem('minConnections', `an integer <= maxConnections (${maxConnections})`, minConnections);
  if (targetConnections < minConnections || targetConnections > maxConnections) {
    c.problem('targetConnections', `an integer in [minConnections (${minConnections}), maxConnections (${maxConnections})]`, targetConnections);
  }

  const validationIn = input.validation ?? {};
  const validation: Required<ValidationOptions> = {
    method: c.oneOf('validation.method', validationIn.method, ['HEAD', 'GET', 'OPTIONS'] as const, 'OPTIONS'),
    path: c.string('validation.path', validationIn.path, '/', { regex: /^\/[^\s]*$/, expected: 'a path starting with / without spaces or CR/LF' }),
    acceptStatus: c.func<(status: number) => boolean, (status: number) => boolean>('validation.acceptStatus', validationIn.acceptStatus, (status) => status < 500),
    timeoutMs: c.number('validation.timeoutMs', validationIn.timeoutMs, POSITIVE_MS(DEFAULT_VALIDATION_TIMEOUT_MS)),
  };

  const backoffBaseMs = c.number('connectBackoff.baseMs', input.connectBackoff?.baseMs, POSITIVE_MS(DEFAULT_CONNECT_BACKOFF_BASE_MS));
  const backoffMaxMs = c.number('connectBackoff.maxMs', input.connectBackoff?.maxMs, POSITIVE_MS(DEFAULT_CONNECT_BACKOFF_MAX_MS));
  if (backoffMaxMs < backoffBaseMs) c.problem('connectBackoff.maxMs', `a number >= connectBackoff.baseMs (${backoffBaseMs})`, backoffMaxMs);

  const dnsIn = input.dns ?? {};
  const dns: DnsOptions = {
    maxTtlMs: c.number('dns.maxTtlMs', dnsIn.maxTtlMs, MS(86_400_000, DEFAULT_DNS_MAX_TTL_MS)),
    dualStack: c.boolean('dns.dualStack', dnsIn.dualStack, true),
    ...(dnsIn.affinity === undefined ? {} : { affinity: c.oneOf('dns.affinity', dnsIn.affinity, [4, 6] as const, 4) }),
    ...(dnsIn.lookup === undefined ? {} : { lookup: c.func('dns.lookup', dnsIn.lookup, undefined) as NonNullable<DnsOptions['lookup']> }),
  };

  const tls = input.tls;
  if (tls !== undefined) {
    c.expect(typeof tls === 'object' && tls !== null && typeof tls.connect === 'function', 'tls', 'a TlsConnector (an object with connect())', tls);
  }
  const name = c.string('name', input.name, originString);
  const region = c.string('region', input.region, undefined);

  const resolved: ResolvedOptions = {
    origin: url,
    originString,
    name,
    region,
    tls,
    secure: url.protocol === 'https:',
    maxConnections,
    minConnections,
    targetConnections,
    minIdle,
    maxLifetimeMs: c.number('maxLifetimeMs', input.maxLifetimeMs, MS(2_147_483_647, DEFAULT_MAX_LIFETIME_MS)),
    lifetimeJitter: c.number('lifetimeJitter', input.lifetimeJitter, { min: 0, max: 0.5, default: DEFAULT_LIFETIME_JITTER }),
    maxRequestsPerConnection: c.number('maxRequestsPerConnection', input.maxRequestsPerConnection, { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true, default: 0 }),
    idleTimeoutMs: c.number('idleTimeoutMs', input.idleTimeoutMs, POSITIVE_MS(DEFAULT_IDLE_TIMEOUT_MS)),
    keepAliveTimeoutMs: c.number('keepAliveTimeoutMs', input.keepAliveTimeoutMs, POSITIVE_MS(DEFAULT_KEEP_ALIVE_TIMEOUT_MS)),
    keepAliveTimeoutThresholdMs: c.number('keepAliveTimeoutThresholdMs', input.keepAliveTimeoutThresholdMs, MS(600_000, DEFAULT_KEEP_ALIVE_THRESHOLD_MS)),
    connectTimeoutMs: c.number('connectTimeoutMs', input.connectTimeoutMs, POSITIVE_MS(DEFAULT_CONNECT_TIMEOUT_MS)),
    acquireTimeoutMs: c.number('acquireTimeoutMs', input.acquireTimeoutMs, POSITIVE_MS(DEFAULT_ACQUIRE_TIMEOUT_MS)),
    maxWaiting: c.number('maxWaiting', input.maxWaiting, { min: 0, max: 10_000_000, integer: true, default: DEFAULT_MAX_WAITING }),
    requestTimeoutMs: c.number('requestTimeoutMs', input.requestTimeoutMs, { ...POSITIVE_MS(0), default: undefined }),
    headersTimeoutMs: c.number('headersTimeoutMs', input.headersTimeoutMs, POSITIVE_MS(DEFAULT_HEADERS_TIMEOUT_MS)),
    bodyTimeoutMs: c.number('bodyTimeoutMs', input.bodyTimeoutMs, POSITIVE_MS(DEFAULT_BODY_TIMEOUT_MS)),
    maxResponseBytes: c.number('maxResponseBytes', input.maxResponseBytes, { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true, default: undefined }),
    validateAfterIdleMs: c.number('validateAfterIdleMs', input.validateAfterIdleMs, MS(2_147_483_647, DEFAULT_VALIDATE_AFTER_IDLE_MS)),
    validation,
    idleOrder: c.oneOf('idleOrder', input.idleOrder, ['fifo', 'lifo'] as const, 'fifo'),
    housekeepingIntervalMs: c.number('housekeepingIntervalMs', input.housekeepingIntervalMs, { min: 10, max: 3_600_000, integer: true, default: DEFAULT_HOUSEKEEPING_INTERVAL_MS }),
    backoffBaseMs,
    backoffMaxMs,
    tcpNoDelay: c.boolean('tcpNoDelay', input.tcpNoDelay, true),
    tcpKeepAliveInitialDelayMs: c.number('tcpKeepAliveInitialDelayMs', input.tcpKeepAliveInitialDelayMs, MS(2_147_483_647, DEFAULT_TCP_KEEP_ALIVE_INITIAL_DELAY_MS)),
    dns,
    closeDeadlineMs: c.number('closeDeadlineMs', input.closeDeadlineMs, MS(2_147_483_647, DEFAULT_CLOSE_DEADLINE_MS)),
    clock: input.clock ?? systemClock,
    random: input.random ?? systemRandom,
    logger: input.logger ?? silentLogger,
  };
  c.done();
  return resolved;
}

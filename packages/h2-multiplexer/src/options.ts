import { OptionChecker, silentLogger, systemClock, systemRandom } from '@berth/core-types';
import type { Clock, Logger, Random, TlsConnector } from '@berth/core-types';

/** RFC 9113 §6.5.2: the largest flow-control window and SETTINGS_MAX_CONCURRENT_STREAMS value. */
export const MAX_WINDOW_SIZE = 2 ** 31 - 1;
/** RFC 9113 §6.9.2: the window every stream and the connection start with before SETTINGS. */
export const RFC_DEFAULT_WINDOW = 65_535;

/** Local stream cap per session; Go x/net, undici and hyper all assume 100 until SETTINGS arrive. */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 100;
/**
 * Sessions per origin. One session already multiplexes `maxConcurrentStreams` requests; a few
 * more only help when the server caps streams low or one TCP path is slow (a hand-rolled pool of
 * 4 node:http2 sessions beat undici's allowH2 Agent ~30× in runloopai/api-client-ts#792).
 */
export const DEFAULT_MAX_SESSIONS = 4;
/**
 * Streams per session at which the next session opens: a second at 32 in flight, a fourth at
 * 96. In quick h2-throughput runs this took Berth from 0.91× to 1.2–1.4× one raw node:http2 session.
 */
export const DEFAULT_TARGET_STREAMS_PER_SESSION = 32;
/** Queued requests beyond which `request()` fails fast with `ERR_BERTH_QUEUE_FULL`. */
export const DEFAULT_MAX_QUEUED = 8192;
/** Time a request may wait for a stream slot (Go's and bb8's 30 s connection timeout). */
export const DEFAULT_ACQUIRE_TIMEOUT_MS = 30_000;
/** TCP + TLS + the server's SETTINGS preface; undici's `connectTimeout` is 10 s too. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Response head deadline once the request is sent (undici's `headersTimeout`). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 300_000;
/** Longest silence inside a response body (undici's `bodyTimeout`). */
export const DEFAULT_BODY_TIMEOUT_MS = 300_000;
/** Idle sessions close after this; below nginx's 75 s `keepalive_timeout` and Go's 90 s. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** Maximum session age, so DNS and blue/green changes are picked up (HikariCP's 30 min). */
export const DEFAULT_MAX_AGE_MS = 30 * 60_000;
/** Fraction of `maxAgeMs` taken off at random per session so sessions never retire together. */
export const DEFAULT_MAX_AGE_JITTER = 0.1;
/** A PING goes out when nothing was read for this long (Go's `ReadIdleTimeout` model). */
export const DEFAULT_PING_INTERVAL_MS = 30_000;
/** A PING without ACK for this long marks the session dead (Go's `PingTimeout`). */
export const DEFAULT_PING_TIMEOUT_MS = 15_000;
/** RFC 9113's 65 535 rounded to a power of two; the issue's seed. */
export const DEFAULT_STREAM_WINDOW_BYTES = 65_536;
/**
 * 16× the stream window (1 MiB), not the 131 072: a connection window of two stream
 * windows lets only two streams hold full windows at once and caps the session at 2.6 MB/s at
 * 50 ms RTT (ANCHORS §3). Envoy's edge best practice and Linkerd both start at 1 MiB.
 */
export const DEFAULT_CONNECTION_WINDOW_BYTES = 1_048_576;
/** Upper bound of the adaptive window; hyper's and grpc-go's BDP limit (16 MiB). */
export const DEFAULT_MAX_WINDOW_BYTES = 16 * 1024 * 1024;
/** Transparent replays of a request that the server never processed. */
export const DEFAULT_MAX_RETRIES = 2;
/** How long `close()` lets in-flight streams finish before destroying them. */
export const DEFAULT_CLOSE_DEADLINE_MS = 5_000;
/**
 * Largest request header list sent (RFC 9113 §6.5.2 size: name + value + 32 per field), unless
 * the server announces a smaller SETTINGS_MAX_HEADER_LIST_SIZE. 65 535 is node:http2's
 * `maxHeaderListSize` default, which a Node server enforces without announcing it (it answers
 * a larger list with RST_STREAM REFUSED_STREAM, measured on Node 22); 64 KiB is also the order
 * of Go's and nghttp2's limits, so a request this size or smaller is accepted almost anywhere.
 */
export const DEFAULT_MAX_HEADER_LIST_BYTES = 65_535;
/**
 * Waiting time that raises a queued request by one urgency level. 500 ms keeps RFC 9218 order
 * strict for ordinary bursts (a queue that drains within half a second is never reordered),
 * while an urgency-7 request under sustained urgency-0 load reaches urgency 0 after 3.5 s,
 * far inside the 30 s `acquireTimeoutMs`, so it is served instead of timing out.
 */
export const DEFAULT_AGING_MS = 500;
/** node:http2's own `maxSessionMemory` default, in megabytes. */
export const DEFAULT_MAX_SESSION_MEMORY_MB = 10;

/** Options of {@link createH2Multiplexer}. */
export interface H2MultiplexerOptions {
  /**
   * Dials verified TLS sockets (one shared SecureContext), normally `@berth/tls-config`'s; ALPN
   * `h2` is requested per dial. Default: Node's bundled root CAs in one SecureContext shared by
   * every session, without pinning or a ticket cache.
   */
  readonly tls?: TlsConnector;
  /** Allows an `http:` origin (h2c, prior knowledge). Default false: cleartext only where the user says so. */
  readonly allowCleartext?: boolean;
  /** SNI and certificate name to verify instead of the origin's host. Default: the origin's host. */
  readonly servername?: string;
  /** Name used in stats and metric labels. Default: the origin. */
  readonly name?: string;
  /** Region label carried by events. Default: none. */
  readonly region?: string;
  /** Local cap of concurrent streams per session; the effective cap is min(this, the server's SETTINGS value). Default 100. */
  readonly maxConcurrentStreams?: number;
  /** Sessions opened at most to this origin (draining sessions not counted). Default 4. */
  readonly maxSessions?: number;
  /**
   * Opens the next session ahead of need once this fraction of the stream slots of the open
   * sessions is in use (e.g. 0.8), so a burst does not queue behind a handshake. 0 = only when
   * every slot is taken. Default 0.
   */
  readonly preconnectUtilization?: number;
  /**
   * Opens the next session (up to `maxSessions`) once every open session carries this many
   * streams, and spreads requests over them: on several connections the client and the server
   * work in parallel instead of taking turns on one (gRPC's advice to pool channels for
   * throughput). Below it, requests pack onto the busiest session, so extra sessions drain and
   * close after `idleTimeoutMs` once a burst is over. 0 (or a value at or above the stream
   * cap) = a new session only when every slot is taken. Default 32.
   */
  readonly targetStreamsPerSession?: number;
  /** Requests allowed to wait for a stream slot or a session being opened; beyond it `ERR_BERTH_QUEUE_FULL`. At least 1. Default 8192. */
  readonly maxQueued?: number;
  /** Milliseconds a request may wait for a stream slot before `ERR_BERTH_ACQUIRE_TIMEOUT`. Default 30 000. */
  readonly acquireTimeoutMs?: number;
  /** Milliseconds for TCP + TLS + the server's SETTINGS before `ERR_BERTH_CONNECT_TIMEOUT`. Default 10 000. */
  readonly connectTimeoutMs?: number;
  /** Default overall deadline of a request, from `request()` to the response head, in milliseconds. Default: none. */
  readonly requestTimeoutMs?: number;
  /** Default milliseconds from sending to the response head (`ERR_BERTH_HEADERS_TIMEOUT`). Default 300 000. */
  readonly headersTimeoutMs?: number;
  /** Default milliseconds a response body may stay silent (`ERR_BERTH_BODY_TIMEOUT`). Default 300 000. */
  readonly bodyTimeoutMs?: number;
  /** A session without streams for this many milliseconds closes. 0 disables. Default 60 000. */
  readonly idleTimeoutMs?: number;
  /** Maximum session age in milliseconds; a replacement opens before the old session drains. 0 disables. Default 1 800 000. */
  readonly maxAgeMs?: number;
  /** Fraction in [0, 1) of `maxAgeMs` taken off at random per session. Default 0.1. */
  readonly maxAgeJitter?: number;
  /** Milliseconds without any byte read before a keep-alive PING. 0 disables. Default 30 000. Doubled after GOAWAY ENHANCE_YOUR_CALM. */
  readonly pingIntervalMs?: number;
  /** Milliseconds a PING may go unanswered before the session is destroyed (`ERR_BERTH_PING_TIMEOUT`). Default 15 000. */
  readonly pingTimeoutMs?: number;
  /** Grow the receive windows from PING round trips (hyper's BDP estimator). Default true. */
  readonly adaptiveWindow?: boolean;
  /** Initial per-stream receive window (SETTINGS_INITIAL_WINDOW_SIZE), bytes. Default 65 536. */
  readonly initialStreamWindowBytes?: number;
  /** Initial connection receive window (`setLocalWindowSize`), bytes, at least 65 535. Default 1 048 576. */
  readonly initialConnectionWindowBytes?: number;
  /** Largest window the adaptive estimator may set, bytes. Default 16 MiB. */
  readonly maxWindowBytes?: number;
  /** Transparent replays of a request that was never processed (GOAWAY, dead session). REFUSED_STREAM is replayed once whatever this says. Default 2. */
  readonly maxRetries?: number;
  /** Default `close()` deadline in milliseconds. Default 5 000. */
  readonly closeDeadlineMs?: number;
  /**
   * Largest request header list, in bytes as RFC 9113 §6.5.2 counts it (name + value + 32 per
   * field, pseudo-headers included). A larger request fails with `ERR_BERTH_INVALID_REQUEST`
   * before anything is sent. The server's SETTINGS_MAX_HEADER_LIST_SIZE applies when it is
   * smaller. Default 65 535 (node:http2's server limit).
   */
  readonly maxHeaderListBytes?: number;
  /**
   * Milliseconds of waiting that raise a queued request by one RFC 9218 urgency level (aging),
   * so low urgencies cannot starve under sustained urgent load. 0 = strict priority. Default 500.
   */
  readonly agingMs?: number;
  /**
   * node:http2's `maxSessionMemory` per session, in megabytes (at least 1): past it nghttp2
   * refuses new streams with ENHANCE_YOUR_CALM. Default 10 (node's default).
   */
  readonly maxSessionMemoryMb?: number;
  /** Time source. Default: the process clock. */
  readonly clock?: Clock;
  /** Jitter source. Default: `Math.random`. */
  readonly random?: Random;
  /** Logger. Default: silent. */
  readonly logger?: Logger;
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  readonly origin: string;
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  readonly tls: TlsConnector | undefined;
  readonly servername: string | undefined;
  readonly name: string;
  readonly region: string | undefined;
  readonly maxConcurrentStreams: number;
  readonly maxSessions: number;
  readonly maxQueued: number;
  readonly preconnectUtilization: number;
  readonly targetStreamsPerSession: number;
  readonly acquireTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number | undefined;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxAgeMs: number;
  readonly maxAgeJitter: number;
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  readonly adaptiveWindow: boolean;
  readonly initialStreamWindowBytes: number;
  readonly initialConnectionWindowBytes: number;
  readonly maxWindowBytes: number;
  readonly maxRetries: number;
  readonly closeDeadlineMs: number;
  readonly maxHeaderListBytes: number;
  readonly agingMs: number;
  readonly maxSessionMemoryMb: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
}

const TIMEOUT = { min: 1, integer: true } as const;
const OPTIONAL_TIMER = { min: 0, integer: true } as const;

/** Fills defaults and validates every option at once (`ERR_BERTH_CONFIG` lists all problems). */
export function resolveOptions(origin: unknown, input: H2MultiplexerOptions = {}): ResolvedOptions {
  const c = new OptionChecker('h2-multiplexer');
  let url: URL | undefined;
  if (typeof origin === 'string') {
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
  }
  const originOk =
    url !== undefined && (url.protocol === 'https:' || url.protocol === 'http:') && url.pathname === '/' && url.search === '';
  c.expect(originOk, 'origin', 'an origin such as "https://api.example.com" (https: or http:, no path)', origin);
  const secure = url?.protocol !== 'http:';
  const allowCleartext = c.boolean('allowCleartext', input.allowCleartext, false);
  if (originOk && !secure) c.expect(allowCleartext, 'allowCleartext', 'true for an http: (h2c) origin', input.allowCleartext);
  const connector = input.tls;
  if (connector !== undefined) {
    c.expect(typeof connector === 'object' && typeof connector.connect === 'function', 'tls', 'a TlsConnector', connector);
  }

  const maxConcurrentStreams = c.number('maxConcurrentStreams', input.maxConcurrentStreams, {
    min: 1,
    max: MAX_WINDOW_SIZE,
    integer: true,
    default: DEFAULT_MAX_CONCURRENT_STREAMS,
  });
  const maxSessions = c.number('maxSessions', input.maxSessions, { min: 1, max: 1024, integer: true, default: DEFAULT_MAX_SESSIONS });
  const maxQueued = c.number('maxQueued', input.maxQueued, { min: 1, integer: true, default: DEFAULT_MAX_QUEUED });
  const initialStreamWindowBytes = c.number('initialStreamWindowBytes', input.initialStreamWindowBytes, {
    min: 1,
    max: MAX_WINDOW_SIZE,
    integer: true,
    default: DEFAULT_STREAM_WINDOW_BYTES,
  });
  const initialConnectionWindowBytes = c.number('initialConnectionWindowBytes', input.initialConnectionWindowBytes, {
    min: RFC_DEFAULT_WINDOW,
    max: MAX_WINDOW_SIZE,
    integer: true,
    default: DEFAULT_CONNECTION_WINDOW_BYTES,
  });
  const maxWindowBytes = c.number('maxWindowBytes', input.maxWindowBytes, {
    min: RFC_DEFAULT_WINDOW,
    max: MAX_WINDOW_SIZE,
    integer: true,
    default: DEFAULT_MAX_WINDOW_BYTES,
  });
  if (maxWindowBytes < initialStreamWindowBytes) {
    c.problem('maxWindowBytes', `at least initialStreamWindowBytes (${initialStreamWindowBytes})`, maxWindowBytes);
  }
  const requestTimeoutMs = c.number('requestTimeoutMs', input.requestTimeoutMs, { ...TIMEOUT, default: undefined });
  const result: ResolvedOptions = {
    origin: url === undefined || !originOk ? String(origin) : url.origin,
    secure,
    host: url === undefined ? '' : url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url === undefined ? 0 : url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    tls: connector,
    servername: c.string('servername', input.servername, undefined),
    name: c.string('name', input.name, url === undefined || !originOk ? String(origin) : url.origin),
    region: c.string('region', input.region, undefined),
    maxConcurrentStreams,
    maxSessions,
    maxQueued,
    preconnectUtilization: c.number('preconnectUtilization', input.preconnectUtilization, { min: 0, max: 1, default: 0 }),
    targetStreamsPerSession: c.number('targetStreamsPerSession', input.targetStreamsPerSession, {
      min: 0,
      max: MAX_WINDOW_SIZE,
      integer: true,
      default: DEFAULT_TARGET_STREAMS_PER_SESSION,
    }),
    acquireTimeoutMs: c.number('acquireTimeoutMs', input.acquireTimeoutMs, { ...TIMEOUT, default: DEFAULT_ACQUIRE_TIMEOUT_MS }),
    connectTimeoutMs: c.number('connectTimeoutMs', input.connectTimeoutMs, { ...TIMEOUT, default: DEFAULT_CONNECT_TIMEOUT_MS }),
    requestTimeoutMs,
    headersTimeoutMs: c.number('headersTimeoutMs', input.headersTimeoutMs, { ...TIMEOUT, default: DEFAULT_HEADERS_TIMEOUT_MS }),
    bodyTimeoutMs: c.number('bodyTimeoutMs', input.bodyTimeoutMs, { ...TIMEOUT, default: DEFAULT_BODY_TIMEOUT_MS }),
    idleTimeoutMs: c.number('idleTimeoutMs', input.idleTimeoutMs, { ...OPTIONAL_TIMER, default: DEFAULT_IDLE_TIMEOUT_MS }),
    maxAgeMs: c.number('maxAgeMs', input.maxAgeMs, { ...OPTIONAL_TIMER, default: DEFAULT_MAX_AGE_MS }),
    maxAgeJitter: c.number('maxAgeJitter', input.maxAgeJitter, { min: 0, max: 0.99, default: DEFAULT_MAX_AGE_JITTER }),
    pingIntervalMs: c.number('pingIntervalMs', input.pingIntervalMs, { ...OPTIONAL_TIMER, default: DEFAULT_PING_INTERVAL_MS }),
    pingTimeoutMs: c.number('pingTimeoutMs', input.pingTimeoutMs, { ...TIMEOUT, default: DEFAULT_PING_TIMEOUT_MS }),
    adaptiveWindow: c.boolean('adaptiveWindow', input.adaptiveWindow, true),
    initialStreamWindowBytes,
    initialConnectionWindowBytes,
    maxWindowBytes,
    maxRetries: c.number('maxRetries', input.maxRetries, { min: 0, max: 10, integer: true, default: DEFAULT_MAX_RETRIES }),
    closeDeadlineMs: c.number('closeDeadlineMs', input.closeDeadlineMs, { ...OPTIONAL_TIMER, default: DEFAULT_CLOSE_DEADLINE_MS }),
    maxHeaderListBytes: c.number('maxHeaderListBytes', input.maxHeaderListBytes, { min: 64, max: 2 ** 32 - 1, integer: true, default: DEFAULT_MAX_HEADER_LIST_BYTES }),
    agingMs: c.number('agingMs', input.agingMs, { ...OPTIONAL_TIMER, default: DEFAULT_AGING_MS }),
    maxSessionMemoryMb: c.number('maxSessionMemoryMb', input.maxSessionMemoryMb, { min: 1, integer: true, default: DEFAULT_MAX_SESSION_MEMORY_MB }),
    clock: checkObject(c, 'clock', input.clock, ['now', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'], systemClock),
    random: checkObject(c, 'random', input.random, ['next'], systemRandom),
    logger: checkObject(c, 'logger', input.logger, ['debug', 'info', 'warn', 'error'], silentLogger),
  };
  c.done();
  return result;
}

function checkObject<T extends object>(c: OptionChecker, path: string, value: T | undefined, methods: readonly string[], fallback: T): T {
  if (value === undefined) return fallback;
  const ok =
    typeof value === 'object' &&
    value !== null &&
    methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
  return c.expect(ok, path, `an object with ${methods.join(', ')}`, value) ? value : fallback;
}

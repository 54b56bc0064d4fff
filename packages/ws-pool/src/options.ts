import { OptionChecker, silentLogger, systemClock, systemRandom } from '@berth/core-types';
import type { Clock, Logger, Random, TlsConnector } from '@berth/core-types';
import { jsonEnvelopeCodec } from './codec.js';
import type { WsCodec } from './codec.js';
import type { CloseClassifier } from './close-policy.js';
import type { WsOpenContext } from './open-context.js';

/** What happens to a message sent while the buffer is full. */
export type OverflowPolicy =
  /** The new message is refused: its promise rejects with `ERR_BERTH_WS_BUFFER_FULL`. */
  | 'reject'
  /** The oldest buffered messages are evicted (`ERR_BERTH_WS_DROPPED`) to make room. */
  | 'drop-oldest'
  /** The new message is discarded (`ERR_BERTH_WS_DROPPED`); the buffered ones keep their place. */
  | 'drop-newest'
  /**
   * The sender waits (its promise stays pending) until room frees, first come first served,
   * for at most its `ttlMs` (then `ERR_BERTH_WS_EXPIRED`, `details.blocked: true`) or until its
   * `signal` aborts (`ERR_BERTH_ABORTED`). A message larger than `maxBufferedBytes` can never
   * fit and is refused at once with `ERR_BERTH_WS_BUFFER_FULL`.
   */
  | 'block';

/** Options of the exclusive-lease sockets ({@link WsPool.acquire}), kept apart from the shared ones. */
export interface WsLeaseOptions {
  /** Most sockets leased at once. Default 4. */
  readonly max?: number;
  /** Milliseconds an `acquire()` waits for a free, ready socket. Default 10 000. */
  readonly acquireTimeoutMs?: number;
  /** Most callers waiting in `acquire()`; more get `ERR_BERTH_QUEUE_FULL` at once. Default 100. */
  readonly maxWaiting?: number;
}

/** Options of {@link createWsPool}. Every field is optional. */
export interface WsPoolOptions {
  /** Name in events and errors. Default: the URL's origin. */
  readonly name?: string;
  /** Region label carried in events. */
  readonly region?: string;
  /** Shared sockets kept open to the endpoint. Default 1. */
  readonly size?: number;
  /**
   * Dials `wss:` sockets (one shared SecureContext, verification, pins): pass
   * `@berth/tls-config`'s connector. Without it `wss:` uses ws's own `tls.connect` with Node's
   * default CA store (verification stays on).
   */
  readonly tls?: TlsConnector;
  /** SNI / certificate name when dialling an IP. Default: the URL's host. */
  readonly servername?: string;
  /** Allows `ws:` URLs (no TLS): tests, sidecars. Default false. */
  readonly allowCleartext?: boolean;
  /** Extra handshake headers (authorization, user agent …). */
  readonly headers?: Readonly<Record<string, string>>;
  /** `Sec-WebSocket-Protocol` subprotocols offered. */
  readonly protocols?: readonly string[];
  /** permessage-deflate (RFC 7692). Default false: ws turns it on for clients, at a high CPU and memory cost. */
  readonly perMessageDeflate?: boolean;
  /** Milliseconds for TCP + TLS + HTTP upgrade. Default 10 000 (ws has none). */
  readonly handshakeTimeoutMs?: number;
  /** Milliseconds the `onOpen` hook may take. Default 10 000. */
  readonly readyTimeoutMs?: number;
  /** Milliseconds to wait for the closing handshake before `terminate()`. Default 5 000 (ws: 30 000). */
  readonly closeTimeoutMs?: number;
  /** Largest message accepted in either direction, in bytes. Default 16 MiB (ws: 100 MiB). */
  readonly maxPayloadBytes?: number;
  /**
   * Runs after the upgrade and before anything else is written (authentication): the socket
   * turns `ready` when it resolves, then channels resubscribe, then the buffer flushes.
   */
  readonly onOpen?: (socket: WsOpenContext) => void | Promise<void>;
  /** Raw frames the codec did not claim (pool-level traffic). */
  readonly onMessage?: (data: Buffer, isBinary: boolean, socketId: string) => void;
  /** Milliseconds between pings (RFC 6455 §5.5.2) on a ready socket; 0 turns the heartbeat off. Default 20 000. */
  readonly pingIntervalMs?: number;
  /** Milliseconds to wait for the pong (or any frame) before `terminate()`. Default 10 000. */
  readonly pongTimeoutMs?: number;
  /** Backoff scale of the first retry, in milliseconds. Default 500. */
  readonly backoffBaseMs?: number;
  /** Largest backoff window, in milliseconds (the cap is applied before the jitter). Default 30 000. */
  readonly backoffCapMs?: number;
  /** Milliseconds a socket must stay ready before the attempt counter resets. Default 10 000. */
  readonly minUptimeMs?: number;
  /** Reconnect attempts in a row before the socket is `errored`. Default: unlimited. */
  readonly maxRetries?: number;
  /** Floor in milliseconds after 1012/1013/1014/4429 or 429/503 without `Retry-After`. Default 5 000. */
  readonly retryLaterMs?: number;
  /** Reconnect after 1008/4401/4403 and handshake 401/403. Default false. */
  readonly retryOnPolicyClose?: boolean;
  /** Overrides the close-code decision; return `undefined` to use the default. */
  readonly classifyClose?: CloseClassifier;
  /** Opening handshakes in progress at once across the pool. Default 2. */
  readonly maxConcurrentHandshakes?: number;
  /** Messages buffered per socket while it is not ready or is above the high-water mark. Default 1 000. */
  readonly maxBufferedMessages?: number;
  /** Bytes buffered per socket. Default 8 MiB. */
  readonly maxBufferedBytes?: number;
  /** Milliseconds a message may wait in the buffer before it is rejected with `ERR_BERTH_WS_EXPIRED`. Default 30 000. */
  readonly ttlMs?: number;
  /** Policy when the buffer is full: `reject`, `drop-oldest`, `drop-newest` or `block`. Default `reject`. */
  readonly overflow?: OverflowPolicy;
  /** Bytes written but not yet handed to the kernel (send callbacks pending) above which sends wait. Default 1 MiB. */
  readonly highWaterMarkBytes?: number;
  /**
   * Messages per second each connection may write (a token bucket per connection, full on
   * connect); messages beyond it wait in the buffer, where `ttlMs` and `overflow` apply.
   * Unacknowledged messages sent again after a reconnect are paced too, ahead of the buffer.
   * Control frames (subscribe, unsubscribe) and `onOpen`'s frames are not paced. Default: unlimited.
   */
  readonly maxMessagesPerSec?: number;
  /** Messages a connection may write at once before `maxMessagesPerSec` paces it, integer. Default: ⌈maxMessagesPerSec⌉. */
  readonly burstMessages?: number;
  /**
   * Channel messages carry a sequence number and stay pending until the server acknowledges
   * them; unacknowledged ones are resent after a reconnect or a rotation. Needs a server that
   * acks and drops `seq <= last seen`. Default false.
   */
  readonly acks?: boolean;
  /** Unacknowledged messages per channel before its sends wait. Default 1 000. */
  readonly maxUnackedMessages?: number;
  /** Channel wire format. Default {@link jsonEnvelopeCodec}. */
  readonly codec?: WsCodec;
  /** Channels per shared socket. Default 200. */
  readonly maxChannelsPerSocket?: number;
  /** Received messages a channel keeps for a slow reader; older ones are dropped and counted. Default 10 000. */
  readonly maxInboundMessages?: number;
  /** Replace each socket make-before-break after this many milliseconds (providers cut at 60 min / 24 h). Default: off. */
  readonly maxAgeMs?: number;
  /** Fraction of `maxAgeMs` drawn at random and subtracted, so sockets do not rotate together. Default 0.05. */
  readonly maxAgeJitter?: number;
  /** Exclusive-lease sockets. */
  readonly lease?: WsLeaseOptions;
  /** Time source. Default: the process clock. */
  readonly clock?: Clock;
  /** Jitter source. Default `Math.random`. */
  readonly random?: Random;
  /** Logger. Default: silent. */
  readonly logger?: Logger;
}

/** {@link WsPoolOptions} with every default filled in. @internal */
export interface ResolvedWsPoolOptions {
  readonly url: URL;
  readonly name: string;
  readonly region: string | undefined;
  readonly size: number;
  readonly tls: TlsConnector | undefined;
  readonly servername: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly protocols: readonly string[];
  readonly perMessageDeflate: boolean;
  readonly handshakeTimeoutMs: number;
  readonly readyTimeoutMs: number;
  readonly closeTimeoutMs: number;
  readonly maxPayloadBytes: number;
  readonly onOpen: ((socket: WsOpenContext) => void | Promise<void>) | undefined;
  readonly onMessage: ((data: Buffer, isBinary: boolean, socketId: string) => void) | undefined;
  readonly pingIntervalMs: number;
  readonly pongTimeoutMs: number;
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  readonly minUptimeMs: number;
  readonly maxRetries: number;
  readonly retryLaterMs: number;
  readonly retryOnPolicyClose: boolean;
  readonly classifyClose: CloseClassifier | undefined;
  readonly maxConcurrentHandshakes: number;
  readonly maxBufferedMessages: number;
  readonly maxBufferedBytes: number;
  readonly ttlMs: number;
  readonly overflow: OverflowPolicy;
  readonly highWaterMarkBytes: number;
  readonly sendRate: { readonly perSec: number; readonly burst: number } | undefined;
  readonly acks: boolean;
  readonly maxUnackedMessages: number;
  readonly codec: WsCodec;
  readonly maxChannelsPerSocket: number;
  readonly maxInboundMessages: number;
  readonly maxAgeMs: number | undefined;
  readonly maxAgeJitter: number;
  readonly lease: Required<WsLeaseOptions>;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
}

const MIB = 1024 * 1024;
/** ws has no handshake deadline at all; 10 s bounds a stuck upgrade (graphql-ws, Phoenix use 10 s too). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Same budget for the auth hook as for the handshake. */
export const DEFAULT_READY_TIMEOUT_MS = 10_000;
/** ws waits 30 s in CLOSING (websockets/ws#1125); 5 s then terminate frees the fd sooner. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;
/** ws accepts 100 MiB by default; 16 MiB still fits every provider's documented maximum. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * MIB;
/** Binance pings every 20 s; bybit 10 s; 20 s stays under common 60 s idle proxies. */
export const DEFAULT_PING_INTERVAL_MS = 20_000;
/** Half the interval: a dead peer is found within 30 s. */
export const DEFAULT_PONG_TIMEOUT_MS = 10_000;
/** First retry window 0–500 ms: quick after a blip, spread enough for a herd. */
export const DEFAULT_BACKOFF_BASE_MS = 500;
/** Window cap: 100 clients spread over 30 s after a long outage. */
export const DEFAULT_BACKOFF_CAP_MS = 30_000;
/** A socket that dies within 10 s of opening keeps its attempt count (flapping servers). */
export const DEFAULT_MIN_UPTIME_MS = 10_000;
/** Floor after "service restart" / "try again later". */
export const DEFAULT_RETRY_LATER_MS = 5_000;
/** Two handshakes at a time per pool: a restart is not met with `size` TLS handshakes at once. */
export const DEFAULT_MAX_CONCURRENT_HANDSHAKES = 2;
/** Buffer bounds per socket: 1 000 messages / 8 MiB. */
export const DEFAULT_MAX_BUFFERED_MESSAGES = 1_000;
/** See {@link DEFAULT_MAX_BUFFERED_MESSAGES}. */
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * MIB;
/** A message older than 30 s is usually worse than no message (Phoenix push timeout is 10 s). */
export const DEFAULT_TTL_MS = 30_000;
/** 1 MiB not yet in the kernel before sends wait. */
export const DEFAULT_HIGH_WATER_MARK_BYTES = MIB;
/** Unacknowledged window per channel. */
export const DEFAULT_MAX_UNACKED_MESSAGES = 1_000;
/** ccxt's Binance limit is 200 subscriptions per stream. */
export const DEFAULT_MAX_CHANNELS_PER_SOCKET = 200;
/** Inbound messages kept per channel for a slow reader. */
export const DEFAULT_MAX_INBOUND_MESSAGES = 10_000;
/** ±5 % (the anchor's 23 h ± 5 % preset). */
export const DEFAULT_MAX_AGE_JITTER = 0.05;

/** Validates `input` and fills the defaults; throws one `ERR_BERTH_CONFIG` listing every problem. @internal */
export function resolveOptions(url: string | URL, input: WsPoolOptions = {}): ResolvedWsPoolOptions {
  const c = new OptionChecker('ws-pool');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    c.problem('url', 'a ws: or wss: URL', url);
    parsed = new URL('wss://invalid.invalid');
  }
  const allowCleartext = c.boolean('allowCleartext', input.allowCleartext, false);
  if (parsed.protocol === 'ws:') c.expect(allowCleartext, 'url', 'a wss: URL (or allowCleartext: true for ws:)', String(url));
  else c.expect(parsed.protocol === 'wss:', 'url', 'a ws: or wss: URL', String(url));
  c.expect(parsed.hash === '', 'url', 'a URL without a #fragment', String(url));

  const ms = (path: string, value: unknown, def: number, min = 1) =>
    c.number(path, value, { min, max: 2_147_483_647, default: def });
  const count = (path: string, value: unknown, def: number, min = 1) =>
    c.number(path, value, { min, max: 1_000_000_000, integer: true, default: def });

  const tls = input.tls;
  if (tls !== undefined) c.expect(typeof tls.connect === 'function', 'tls', 'a TlsConnector', tls);
  const headers = input.headers ?? {};
  c.expect(typeof headers === 'object' && headers !== null, 'headers', 'an object of header strings', headers);
  const protocols = input.protocols ?? [];
  c.expect(Array.isArray(protocols) && protocols.every((p) => typeof p === 'string'), 'protocols', 'an array of strings', protocols);

  const lease = input.lease ?? {};
  const codec = input.codec ?? jsonEnvelopeCodec;
  c.expect(
    typeof codec.encodeMessage === 'function' && typeof codec.decode === 'function',
    'codec',
    'a WsCodec (encodeMessage, encodeSubscribe, encodeUnsubscribe, decode)',
    codec,
  );
  const maxRetries = c.number('maxRetries', input.maxRetries, { min: 0, integer: true, default: undefined });
  const backoffBaseMs = ms('backoffBaseMs', input.backoffBaseMs, DEFAULT_BACKOFF_BASE_MS);
  const backoffCapMs = ms('backoffCapMs', input.backoffCapMs, DEFAULT_BACKOFF_CAP_MS);
  if (backoffCapMs < backoffBaseMs) c.problem('backoffCapMs', `a number >= backoffBaseMs (${backoffBaseMs})`, backoffCapMs);

  const perSec = c.number('maxMessagesPerSec', input.maxMessagesPerSec, { min: 0.001, max: 1_000_000_000, default: undefined });
  const burst = count('burstMessages', input.burstMessages, Math.max(1, Math.ceil(perSec ?? 1)));
  c.expect(input.burstMessages === undefined || perSec !== undefined, 'burstMessages', 'set only with maxMessagesPerSec', input.burstMessages);
  const sendRate = perSec === undefined ? undefined : { perSec, burst };

  const resolved: ResolvedWsPoolOptions = {
    url: parsed,
    name: c.string('name', input.name, parsed.origin),
    region: c.string('region', input.region, undefined),
    size: count('size', input.size, 1),
    tls,
    servername: c.string('servername', input.servername, undefined),
    headers,
    protocols,
    perMessageDeflate: c.boolean('perMessageDeflate', input.perMessageDeflate, false),
    handshakeTimeoutMs: ms('handshakeTimeoutMs', input.handshakeTimeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS),
    readyTimeoutMs: ms('readyTimeoutMs', input.readyTimeoutMs, DEFAULT_READY_TIMEOUT_MS),
    closeTimeoutMs: ms('closeTimeoutMs', input.closeTimeoutMs, DEFAULT_CLOSE_TIMEOUT_MS),
    maxPayloadBytes: count('maxPayloadBytes', input.maxPayloadBytes, DEFAULT_MAX_PAYLOAD_BYTES),
    onOpen: c.func<NonNullable<WsPoolOptions['onOpen']>, undefined>('onOpen', input.onOpen, undefined),
    onMessage: c.func<NonNullable<WsPoolOptions['onMessage']>, undefined>('onMessage', input.onMessage, undefined),
    pingIntervalMs: ms('pingIntervalMs', input.pingIntervalMs, DEFAULT_PING_INTERVAL_MS, 0),
    pongTimeoutMs: ms('pongTimeoutMs', input.pongTimeoutMs, DEFAULT_PONG_TIMEOUT_MS),
    backoffBaseMs,
    backoffCapMs,
    minUptimeMs: ms('minUptimeMs', input.minUptimeMs, DEFAULT_MIN_UPTIME_MS, 0),
    maxRetries: maxRetries ?? Number.POSITIVE_INFINITY,
    retryLaterMs: ms('retryLaterMs', input.retryLaterMs, DEFAULT_RETRY_LATER_MS, 0),
    retryOnPolicyClose: c.boolean('retryOnPolicyClose', input.retryOnPolicyClose, false),
    classifyClose: c.func<CloseClassifier, undefined>('classifyClose', input.classifyClose, undefined),
    maxConcurrentHandshakes: count('maxConcurrentHandshakes', input.maxConcurrentHandshakes, DEFAULT_MAX_CONCURRENT_HANDSHAKES),
    maxBufferedMessages: count('maxBufferedMessages', input.maxBufferedMessages, DEFAULT_MAX_BUFFERED_MESSAGES),
    maxBufferedBytes: count('maxBufferedBytes', input.maxBufferedBytes, DEFAULT_MAX_BUFFERED_BYTES),
    ttlMs: ms('ttlMs', input.ttlMs, DEFAULT_TTL_MS),
    overflow: c.oneOf('overflow', input.overflow, ['reject', 'drop-oldest', 'drop-newest', 'block'] as const, 'reject'),
    highWaterMarkBytes: count('highWaterMarkBytes', input.highWaterMarkBytes, DEFAULT_HIGH_WATER_MARK_BYTES),
    sendRate,
    acks: c.boolean('acks', input.acks, false),
    maxUnackedMessages: count('maxUnackedMessages', input.maxUnackedMessages, DEFAULT_MAX_UNACKED_MESSAGES),
    codec,
    maxChannelsPerSocket: count('maxChannelsPerSocket', input.maxChannelsPerSocket, DEFAULT_MAX_CHANNELS_PER_SOCKET),
    maxInboundMessages: count('maxInboundMessages', input.maxInboundMessages, DEFAULT_MAX_INBOUND_MESSAGES),
    maxAgeMs: c.number('maxAgeMs', input.maxAgeMs, { min: 1, max: 2_147_483_647, default: undefined }),
    maxAgeJitter: c.number('maxAgeJitter', input.maxAgeJitter, { min: 0, max: 0.5, default: DEFAULT_MAX_AGE_JITTER }),
    lease: {
      max: count('lease.max', lease.max, 4),
      acquireTimeoutMs: ms('lease.acquireTimeoutMs', lease.acquireTimeoutMs, 10_000),
      maxWaiting: count('lease.maxWaiting', lease.maxWaiting, 100, 0),
    },
    clock: input.clock ?? systemClock,
    random: input.random ?? systemRandom,
    logger: input.logger ?? silentLogger,
  };
  c.done();
  return resolved;
}

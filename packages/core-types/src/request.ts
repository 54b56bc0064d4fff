import type { Readable } from 'node:stream';

/** An HTTP method. The common ones are listed for completion; any token is accepted. */
export type HttpMethod =
  | 'GET'
  | 'HEAD'
  | 'POST'
  | 'PUT'
  | 'PATCH'
  | 'DELETE'
  | 'OPTIONS'
  | (string & Record<never, never>);

/**
 * Methods whose repetition has the same effect as one call (RFC 9110 §9.2.2). Only these,
 * or a request marked `idempotent: true`, are ever replayed by Berth.
 */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** Request headers: lower- or mixed-case names; repeated headers as arrays. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[]>>;

/** Response headers, names lower-cased (as Node and undici deliver them). */
export type ResponseHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * A request body. Strings are sent as UTF-8. An `AsyncIterable` or `Readable` is streamed
 * with backpressure and, being consumed once, makes the request non-replayable unless it is
 * wrapped by a factory at a higher layer.
 */
export type RequestBody = string | Uint8Array | AsyncIterable<Uint8Array> | Readable;

/**
 * RFC 9218 urgency: 0 (most urgent) … 7 (least), default 3. Orders queued requests when a
 * transport has no free stream or connection, and is sent as the `Priority` header on HTTP/2.
 */
export type Urgency = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** One request to a {@link Transport}. */
export interface RequestOptions {
  /** HTTP method. Default `GET`. */
  readonly method?: HttpMethod;
  /** Path and query, starting with `/` (origin-form, RFC 9112 §3.2.1). */
  readonly path: string;
  /** Request headers. CR or LF in a name or value is rejected with `ERR_BERTH_INVALID_REQUEST`. */
  readonly headers?: RequestHeaders;
  /** Request body; none by default. */
  readonly body?: RequestBody;
  /** Aborts the request (queued, in flight, or while the body streams): `ERR_BERTH_ABORTED`. */
  readonly signal?: AbortSignal;
  /** Overall deadline in milliseconds from the call until the response headers: `ERR_BERTH_TIMEOUT`. Default: the transport's. */
  readonly timeoutMs?: number;
  /** Milliseconds to wait for response headers once the request is sent. Default: the transport's. */
  readonly headersTimeoutMs?: number;
  /** Milliseconds the response body may stay silent between chunks. Default: the transport's. */
  readonly bodyTimeoutMs?: number;
  /**
   * Marks the request as safe to replay even if its method is not idempotent (e.g. a POST
   * carrying an `Idempotency-Key`). Default: true for {@link IDEMPOTENT_METHODS}, else false.
   */
  readonly idempotent?: boolean;
  /** RFC 9218 urgency 0–7 (default 3). */
  readonly priority?: Urgency;
  /** RFC 9218 incremental flag: the response is useful in parts. Default false. */
  readonly incremental?: boolean;
  /** Largest response body accepted, in bytes; beyond it the body errors with `ERR_BERTH_BODY_TOO_LARGE`. Default: unlimited. */
  readonly maxResponseBytes?: number;
  /** Routing: send only to this region, never elsewhere (`ERR_BERTH_REGION_UNAVAILABLE` if it is down). */
  readonly region?: string;
  /** Routing: the regions this request may go to (data residency). Default: all. */
  readonly allowedRegions?: readonly string[];
}

/** Where the time of one request went, in milliseconds. Phases that did not happen are absent. */
export interface RequestTimings {
  /** Waiting for a connection, stream slot, rate-limit token or bulkhead place. */
  readonly queuedMs: number;
  /** TCP connect + TLS handshake, when this request had to open a new connection. */
  readonly connectMs?: number;
  /** From writing the request head to receiving the response head (time to first byte). */
  readonly ttfbMs: number;
  /** From the `request()` call to the response head, everything included. */
  readonly totalMs: number;
}

/** Which protocol carried a response. */
export type Protocol = 'http/1.1' | 'h2';

/** Facts about how a response was obtained. */
export interface ResponseMeta {
  /** The protocol the final attempt used. */
  readonly protocol: Protocol;
  /** True when the connection had served a request before (Go's `GotConnInfo.Reused`). */
  readonly reused: boolean;
  /** The id of the connection (or HTTP/2 session) that carried the final attempt. */
  readonly connectionId: string;
  /** The region that answered, when a router was involved. */
  readonly region?: string;
  /** Attempts made, including the successful one (1 when nothing was retried). */
  readonly attempts: number;
  /** Timings of the final attempt. */
  readonly timings: RequestTimings;
}

/**
 * A response whose head has arrived. The body is a stream with backpressure: nothing is
 * buffered whole unless `text()`, `json()` or `arrayBuffer()` is called. Consume or
 * `dump()` every body, or the connection cannot be reused.
 */
export interface ResponseData {
  /** HTTP status code. */
  readonly status: number;
  /** Response headers (lower-case names). */
  readonly headers: ResponseHeaders;
  /** The body as a Node stream (also an async iterable of `Uint8Array` chunks). */
  readonly body: Readable;
  /** Reads the whole body as UTF-8. */
  text(): Promise<string>;
  /** Reads the whole body and parses it as JSON. */
  json<T = unknown>(): Promise<T>;
  /** Reads the whole body into an `ArrayBuffer`. */
  arrayBuffer(): Promise<ArrayBuffer>;
  /** Discards the rest of the body so the connection can be reused. */
  dump(): Promise<void>;
  /** How the response was obtained. */
  readonly meta: ResponseMeta;
}

/** Longest delay a Node timer honours (2³¹ − 1 ms); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

const REQUEST_TIMEOUTS = ['timeoutMs', 'headersTimeoutMs', 'bodyTimeoutMs'] as const;
const NONE: readonly string[] = Object.freeze([]);

/**
 * The per-request timeout fields of `options` that are set but are not a number of
 * milliseconds in (0, {@link MAX_TIMER_MS}] (fractions are fine: layers pass on what is left of
 * a deadline). Transports reject such a request with `ERR_BERTH_INVALID_REQUEST` naming them:
 * 0, a negative number, NaN or ∞ would otherwise fire at once or spin a timer, and "0 means
 * off" differs between libraries.
 */
export function invalidRequestTimeouts(options: RequestOptions): readonly string[] {
  // Runs on every request: allocates only when something is wrong.
  let bad: string[] | undefined;
  for (const field of REQUEST_TIMEOUTS) {
    const value: unknown = options[field];
    if (value !== undefined && !(typeof value === 'number' && value > 0 && value <= MAX_TIMER_MS)) (bad ??= []).push(field);
  }
  return bad ?? NONE;
}

import http2 from 'node:http2';
import type { ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { Readable } from 'node:stream';
import type { BerthError, Clock, ResponseData, ResponseHeaders, ResponseMeta } from '@berth/core-types';
import { isBerthError } from '@berth/core-types';
import { DeadlineList } from './deadline-list.js';
import type { DeadlineNode } from './deadline-list.js';
import { BodyTimeoutError, BodyTooLargeError, ProtocolError, UpstreamResetError } from './errors.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_PROTOCOL_ERROR } = http2.constants;
/** `dump()` reads and drops a body up to this size rather than resetting its stream. */
const DUMP_DRAIN_LIMIT_BYTES = 64 * 1024;

/** The session a body's stream belongs to. */
export interface BodySession {
  /** Resets the stream (CANCEL) when the consumer gives up early; counted as a pending reset by the session. */
  cancel(stream: ClientHttp2Stream): void;
  /** The session's failure, when the session (not the stream) died: keep-alive timeout, close. */
  readonly failure: BerthError | undefined;
}

/** What every body of one multiplexer shares (one object, not closures per response). */
export interface ResponseBodyContext {
  /** Where the responses come from, for error messages. */
  readonly origin: string;
  readonly clock: Clock;
  /** Body silence deadlines, from {@link ResponseBody.deadlines}. */
  readonly bodyDeadlines: DeadlineList<ResponseBody>;
  /** Called once per body when it ends, fails or is destroyed, with the body's `token`. */
  settled(token: unknown, error: BerthError | undefined): void;
}

const kBody = Symbol('berth.h2.body');
/** Readable options shared by every body (Readable only reads them). */
const BODY_STREAM_OPTIONS = Object.freeze({ highWaterMark: 64 * 1024 });
type BodySource = ClientHttp2Stream & { [kBody]?: ResponseBody };

/** A body nobody reads must not crash the process when its session dies later. */
function ignoreError(): void {}

/**
 * The response body handed to callers: a Readable fed from the HTTP/2 stream with pause/resume,
 * so a slow consumer stops nghttp2 from sending WINDOW_UPDATE (backpressure reaches the
 * server). It exists, rather than handing out the `ClientHttp2Stream` itself, so every body
 * failure is a `BerthError` with a code, `maxResponseBytes` is enforced, a stalled body times
 * out on the injected clock (one timer for all bodies), and an abandoned body resets its stream.
 *
 * The stream's listeners are static functions that find the body through a symbol on the
 * stream: no closures per response.
 */
export class ResponseBody extends Readable {
  readonly #source: ClientHttp2Stream;
  readonly #session: BodySession;
  readonly #context: ResponseBodyContext;
  readonly #token: unknown;
  readonly #maxBytes: number | undefined;
  readonly #bodyTimeoutMs: number;
  #received = 0;
  #lastActivity: number;
  #timer: DeadlineNode<ResponseBody> | undefined;
  #ended = false;
  #settled = false;
  /** Set by `discard()`: chunks are dropped from then on, and past this many received bytes the stream is reset rather than drained. */
  #dumpLimit: number | undefined;

  /**
   * @param maxBytes largest body accepted, bytes
   * @param bodyTimeoutMs longest silence between chunks while the consumer is reading, milliseconds
   * @param token handed back to `context.settled`
   */
  constructor(source: ClientHttp2Stream, session: BodySession, context: ResponseBodyContext, maxBytes: number | undefined, bodyTimeoutMs: number, token: unknown) {
    super(BODY_STREAM_OPTIONS);
    this.#source = source;
    this.#session = session;
    this.#context = context;
    this.#token = token;
    this.#maxBytes = maxBytes;
    this.#bodyTimeoutMs = bodyTimeoutMs;
    this.#lastActivity = context.clock.now();
    // Readers (`for await`, pipeline, text()) attach their own listeners and still see the error.
    this.on('error', ignoreError);
    (source as BodySource)[kBody] = this;
    source.on('data', ResponseBody.#onSourceData);
    // `on`, not `once`: each fires once per stream, and `once` wraps the listener in a closure.
    source.on('end', ResponseBody.#onSourceEnd);
    source.on('close', ResponseBody.#onSourceClose);
    this.#armTimer(bodyTimeoutMs);
  }

  static #onSourceData(this: ClientHttp2Stream, chunk: Buffer): void {
    const body = (this as BodySource)[kBody];
    if (body !== undefined) body.#onData(chunk);
  }

  static #onSourceEnd(this: ClientHttp2Stream): void {
    const body = (this as BodySource)[kBody];
    if (body === undefined) return;
    // When the socket closes, node closes open streams with CANCEL and ends their readable
    // side as if the body were complete; a reset code at 'end' means it was cut off.
    const rstCode = this.rstCode;
    if (rstCode !== undefined && rstCode !== NGHTTP2_NO_ERROR) {
      body.destroy(body.#closedError());
      return;
    }
    body.#ended = true;
    body.#stopTimer();
    // A discarded body is done here: destroying it (nothing to reset, the stream ended) is
    // cheaper than flowing the dropped chunks through to 'end'.
    if (body.#dumpLimit !== undefined) body.destroy();
    else body.push(null);
  }

  static #onSourceClose(this: ClientHttp2Stream): void {
    const body = (this as BodySource)[kBody];
    if (body !== undefined && !body.#ended && !body.destroyed) body.destroy(body.#closedError());
  }

  /**
   * Discards the rest of the body and resolves once the stream released its slot. Up to
   * `drainLimitBytes` more are read and dropped (cheaper than a reset, which costs a frame
   * and holds the slot for a PING round trip); a body declared or found larger is reset with
   * RST_STREAM(CANCEL), the HTTP/2 way, instead of being downloaded (undici's dump does the same).
   */
  discard(declaredBytes: number | undefined, drainLimitBytes: number): Promise<void> {
    const source = this.#source;
    const released = source.closed
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          source.on('close', resolve);
        });
    if (this.destroyed) return released;
    if (!this.#ended && declaredBytes !== undefined && declaredBytes - this.#received > drainLimitBytes) {
      this.destroy();
      return released;
    }
    if (this.#ended) {
      this.destroy();
      return released;
    }
    // From here chunks are counted and dropped, not pushed; the stream must flow to drain.
    this.#dumpLimit = this.#received + drainLimitBytes;
    this.#source.resume();
    return released;
  }

  /** Bytes received so far. */
  get receivedBytes(): number {
    return this.#received;
  }

  override _read(): void {
    this.#lastActivity = this.#context.clock.now();
    this.#source.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#stopTimer();
    if (!this.#ended) this.#session.cancel(this.#source);
    const berthError = error === null ? undefined : isBerthError(error) ? error : this.#closedError();
    this.#settle(berthError);
    callback(error === null ? null : berthError);
  }

  #onData(chunk: Buffer): void {
    this.#received += chunk.length;
    this.#lastActivity = this.#context.clock.now();
    if (this.#dumpLimit !== undefined && this.#received > this.#dumpLimit) {
      this.destroy();
      return;
    }
    const max = this.#maxBytes;
    if (max !== undefined && this.#received > max) {
      this.destroy(
        new BodyTooLargeError(`response body from ${this.#context.origin} exceeded maxResponseBytes (${max})`, {
          origin: this.#context.origin,
          maxResponseBytes: max,
        }),
      );
      return;
    }
    if (this.#dumpLimit !== undefined) return;
    if (!this.push(chunk)) this.#source.pause();
  }

  /**
   * One timer per silence window instead of one per chunk: when it fires it re-arms for the
   * time left since the last chunk, and never fires while the consumer holds the stream paused.
   */
  #armTimer(ms: number): void {
    this.#timer = this.#context.bodyDeadlines.add(this, this.#context.clock.now() + ms);
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#ended || this.destroyed) return;
    const silent = this.#context.clock.now() - this.#lastActivity;
    const paused = this.#source.isPaused() && this.readableLength >= this.readableHighWaterMark;
    if (paused || silent < this.#bodyTimeoutMs) {
      this.#armTimer(paused ? this.#bodyTimeoutMs : this.#bodyTimeoutMs - silent);
      return;
    }
    this.destroy(
      new BodyTimeoutError(`response body from ${this.#context.origin} stalled for ${this.#bodyTimeoutMs} ms`, {
        origin: this.#context.origin,
        bodyTimeoutMs: this.#bodyTimeoutMs,
      }),
    );
  }

  /** The silence deadlines of a multiplexer's bodies, all on one timer (put in its {@link ResponseBodyContext}). */
  static deadlines(clock: Clock): DeadlineList<ResponseBody> {
    return new DeadlineList<ResponseBody>(clock, (body) => body.#onTimer());
  }

  #stopTimer(): void {
    this.#context.bodyDeadlines.remove(this.#timer);
    this.#timer = undefined;
  }

  #closedError(): BerthError {
    const failure = this.#session.failure;
    if (failure !== undefined) return failure;
    const rstCode = this.#source.rstCode;
    if (rstCode === NGHTTP2_PROTOCOL_ERROR) {
      return new ProtocolError(`${this.#context.origin} broke HTTP/2 in a response body (PROTOCOL_ERROR)`, { origin: this.#context.origin, rstCode });
    }
    return new UpstreamResetError(
      `response body from ${this.#context.origin} was reset after ${this.#received} bytes (HTTP/2 error code ${rstCode ?? 'none'})`,
      { origin: this.#context.origin, rstCode, receivedBytes: this.#received },
    );
  }

  #settle(error: BerthError | undefined): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#context.settled(this.#token, error);
  }
}

/** Response headers without HTTP/2 pseudo-headers. */
function plainHeaders(headers: IncomingHttpHeaders): ResponseHeaders {
  const out: Record<string, string | string[] | undefined> = {};
  // for…in rather than Object.entries(): no array of pairs per response.
  for (const name in headers) if (name.charCodeAt(0) !== 58 /* ':' */) out[name] = headers[name];
  return out;
}

/**
 * The {@link ResponseData} around a body. A class, so the readers live on the prototype
 * instead of five closures per response.
 */
class H2Response implements ResponseData {
  readonly status: number;
  readonly body: ResponseBody;
  readonly meta: ResponseMeta;
  readonly #raw: IncomingHttpHeaders;
  #headers: ResponseHeaders | undefined;

  constructor(status: number, raw: IncomingHttpHeaders, body: ResponseBody, meta: ResponseMeta) {
    this.status = status;
    this.#raw = raw;
    this.body = body;
    this.meta = meta;
  }

  /** Response headers without pseudo-headers, built on first access (many callers never look). */
  get headers(): ResponseHeaders {
    this.#headers ??= plainHeaders(this.#raw);
    return this.#headers;
  }

  async text(): Promise<string> {
    return (await readAll(this.body)).toString('utf8');
  }

  async json<T>(): Promise<T> {
    return JSON.parse((await readAll(this.body)).toString('utf8')) as T;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await readAll(this.body);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }

  dump(): Promise<void> {
    const length = Number(this.#raw['content-length']);
    return this.body.discard(Number.isFinite(length) ? length : undefined, DUMP_DRAIN_LIMIT_BYTES);
  }
}

/**
 * Events rather than `for await`: the async iterator costs a promise per chunk, a measurable
 * share of a small response.
 */
function readAll(body: ResponseBody): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    body.on('data', (chunk: Buffer) => chunks.push(chunk));
    body.once('end', () => resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks)));
    body.once('error', reject);
    if (body.destroyed && !body.readableEnded) reject(body.errored ?? new Error('response body already destroyed'));
  });
}

/** Builds the {@link ResponseData} around a body; `headers` as node:http2 gave them (pseudo-headers are dropped on access). */
export function createResponse(status: number, headers: IncomingHttpHeaders, body: ResponseBody, meta: ResponseMeta): ResponseData {
  return new H2Response(status, headers, body, meta);
}

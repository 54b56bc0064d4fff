import http2 from 'node:http2';
import type { ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { Readable } from 'node:stream';
import type { BerthError, Clock, ResponseData, ResponseHeaders, ResponseMeta } from '@berth/core-types';
import { isBerthError } from '@berth/core-types';
import { DeadlineList } from './deadline-list.js';
import type { DeadlineNode } from './deadline-list.js';
import { AbortedError, BodyTimeoutError, BodyTooLargeError, ProtocolError, UpstreamResetError } from './errors.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_PROTOCOL_ERROR } = http2.constants;
/** Why a stream closed before its body ended, from its RST_STREAM code. */
function closedError(origin: string, rstCode: number | undefined, receivedBytes: number): BerthError {
  if (rstCode === NGHTTP2_PROTOCOL_ERROR) {
    return new ProtocolError(`${origin} broke HTTP/2 in a response body (PROTOCOL_ERROR)`, { origin, rstCode });
  }
  return new UpstreamResetError(`response body from ${origin} was reset after ${receivedBytes} bytes (HTTP/2 error code ${rstCode ?? 'none'})`, {
    origin,
    rstCode,
    receivedBytes,
  });
}

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
  /** Silence deadlines of responses whose body was not built yet, from {@link H2Response.deadlines}. */
  readonly earlyDeadlines: DeadlineList<H2Response>;
  /** Called once per body when it ends, fails or is destroyed, with the body's `token`. */
  settled(token: unknown, error: BerthError | undefined): void;
}

/** What an {@link H2Response} received before its body was built. */
export interface BodyPreload {
  readonly chunks: readonly Buffer[];
  readonly received: number;
  /** The stream already ended cleanly. */
  readonly ended: boolean;
}

const kBody = Symbol('berth.h2.body');
/** Readable options shared by every body (Readable only reads them). */
const BODY_STREAM_OPTIONS = Object.freeze({ highWaterMark: 64 * 1024 });
/** Cut on 'close', like the multiplexer's attempt link, so a closed stream does not keep the body alive. */
type BodySource = ClientHttp2Stream & { [kBody]?: ResponseBody | undefined };

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
  constructor(
    source: ClientHttp2Stream,
    session: BodySession,
    context: ResponseBodyContext,
    maxBytes: number | undefined,
    bodyTimeoutMs: number,
    token: unknown,
    preload?: BodyPreload,
  ) {
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
    if (preload !== undefined) {
      for (const chunk of preload.chunks) this.push(chunk);
      this.#received = preload.received;
      if (preload.ended) {
        // The stream already ended: nothing more will come from it.
        this.#ended = true;
        this.push(null);
        return;
      }
    }
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
    (this as BodySource)[kBody] = undefined;
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
    return this.#session.failure ?? closedError(this.#context.origin, this.#source.rstCode, this.#received);
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

/** What {@link H2Response} needs to build its body when it is first asked for. */
export interface BodySpec {
  readonly source: ClientHttp2Stream;
  readonly session: BodySession;
  readonly context: ResponseBodyContext;
  /** Largest body accepted, bytes. */
  readonly maxBytes: number | undefined;
  /** Longest silence between chunks while the consumer is reading, milliseconds. */
  readonly bodyTimeoutMs: number;
  /** Handed back to `context.settled`. */
  readonly token: unknown;
}

let capturedResolve: (() => void) | undefined;
/** One Promise executor for every `dump()`: hands its resolver out instead of a closure per call. */
function captureResolve(resolve: () => void): void {
  capturedResolve = resolve;
}

const kResponse = Symbol('berth.h2.response');
/** Cut on 'close' (see `sourceClosed()`), so a closed stream does not keep the response alive. */
type ResponseSource = ClientHttp2Stream & { [kResponse]?: H2Response | undefined };
/** Bytes an unbuilt body holds before it pauses the stream: the ResponseBody's own high-water mark. */
const PREBUFFER_BYTES = BODY_STREAM_OPTIONS.highWaterMark;

/**
 * The {@link ResponseData} around a body. A class, so the readers live on the prototype
 * instead of five closures per response.
 *
 * The body `Readable` is built on first use of `body` (or a reader), not with the response.
 * Until then the response itself takes the stream's chunks into an array, up to the body's
 * high-water mark (then it pauses the stream, so flow control holds the server back), with the
 * same `maxResponseBytes` and silence deadline a body has; a built body starts from those
 * chunks. A small response therefore still frees its stream slot without being read, as
 * before. A caller that only calls `dump()` never pays for the Readable, its state and its
 * listeners, the largest per-response cost over raw node:http2 in `h2-throughput`.
 */
export class H2Response implements ResponseData {
  readonly status: number;
  readonly meta: ResponseMeta;
  readonly #raw: IncomingHttpHeaders;
  readonly #spec: BodySpec;
  #headers: ResponseHeaders | undefined;
  #body: Readable | undefined;
  /** Chunks received before the body was built (dropped once dumping). */
  #chunks: Buffer[] | undefined;
  #buffered = 0;
  #received = 0;
  /** The stream ended cleanly ('end' with no reset code). */
  #ended = false;
  #settled = false;
  #failure: BerthError | undefined;
  /** Set by `dump()`: chunks are dropped, and past this many received bytes the stream is reset. */
  #dumpLimit: number | undefined;
  /** `#received` when the silence deadline was last armed: no clock reading per chunk. */
  #receivedAtArm = 0;
  #timer: DeadlineNode<H2Response> | undefined;
  /** The promise of `dump()` and its resolver, settled when the stream closes. */
  #releasedPromise: Promise<void> | undefined;
  #released: (() => void) | undefined;

  /** @param now monotonic milliseconds when the head arrived (the caller already read the clock) */
  constructor(status: number, raw: IncomingHttpHeaders, now: number, spec: BodySpec, meta: ResponseMeta) {
    this.status = status;
    this.#raw = raw;
    this.#spec = spec;
    this.meta = meta;
    const source = spec.source;
    (source as ResponseSource)[kResponse] = this;
    source.on('data', H2Response.#onSourceData);
    source.on('end', H2Response.#onSourceEnd);
    this.#timer = spec.context.earlyDeadlines.add(this, now + spec.bodyTimeoutMs);
  }

  /** Response headers without pseudo-headers, built on first access (many callers never look). */
  get headers(): ResponseHeaders {
    this.#headers ??= plainHeaders(this.#raw);
    return this.#headers;
  }

  /** Bytes of body received so far, whether or not the body was built. */
  get receivedBytes(): number {
    return this.#body instanceof ResponseBody ? this.#body.receivedBytes : this.#received;
  }

  /** The body, built on first access from what already arrived. */
  get body(): Readable {
    if (this.#body !== undefined) return this.#body;
    if (this.#settled || this.#dumpLimit !== undefined) {
      // Nothing left to read: the body failed or is being dumped.
      const done = new Readable({ read() {} });
      done.on('error', ignoreError);
      if (this.#failure === undefined) done.push(null);
      else done.destroy(this.#failure);
      this.#body = done;
      return done;
    }
    const s = this.#spec;
    s.source.removeListener('data', H2Response.#onSourceData);
    s.source.removeListener('end', H2Response.#onSourceEnd);
    this.#stopTimer();
    const preload = { chunks: this.#chunks ?? [], received: this.#received, ended: this.#ended };
    this.#chunks = undefined;
    this.#body = new ResponseBody(s.source, s.session, s.context, s.maxBytes, s.bodyTimeoutMs, s.token, preload);
    return this.#body;
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
    const declared = Number.isFinite(length) ? length : undefined;
    const body = this.#body;
    if (body instanceof ResponseBody) return body.discard(declared, DUMP_DRAIN_LIMIT_BYTES);
    const source = this.#spec.source;
    let released: Promise<void>;
    if (source.closed) released = Promise.resolve();
    else if (this.#releasedPromise !== undefined) released = this.#releasedPromise;
    else {
      // Resolved by sourceClosed(), which the multiplexer calls from the stream's one 'close' listener.
      released = this.#releasedPromise = new Promise<void>(captureResolve);
      this.#released = capturedResolve;
    }
    if (this.#settled || this.#dumpLimit !== undefined || body !== undefined) return released;
    this.#chunks = undefined;
    this.#dumpLimit = this.#received + DUMP_DRAIN_LIMIT_BYTES;
    if (this.#ended) this.#settle(undefined);
    else if (declared !== undefined && declared - this.#received > DUMP_DRAIN_LIMIT_BYTES) this.#cancel(undefined);
    else source.resume();
    return released;
  }

  /** Fails the body with `error` (the caller aborted): resets the stream if it is still open. */
  destroy(error: BerthError): void {
    if (this.#body !== undefined) this.#body.destroy(error);
    else this.#cancel(error);
  }

  /**
   * The stream closed while no ResponseBody owned it. After a clean end the chunks wait for a
   * reader (or a dump); otherwise the stream was reset or its session died.
   */
  sourceClosed(): void {
    (this.#spec.source as ResponseSource)[kResponse] = undefined;
    const released = this.#released;
    if (released !== undefined) {
      this.#released = undefined;
      released();
    }
    if (this.#settled || this.#ended || this.#body instanceof ResponseBody) return;
    this.#fail();
  }

  static #onSourceData(this: ClientHttp2Stream, chunk: Buffer): void {
    const response = (this as ResponseSource)[kResponse];
    if (response === undefined || response.#settled) return;
    const received = (response.#received += chunk.length);
    if (response.#dumpLimit !== undefined) {
      if (received > response.#dumpLimit) response.#cancel(undefined);
      return;
    }
    const max = response.#spec.maxBytes;
    if (max !== undefined && received > max) {
      const origin = response.#spec.context.origin;
      response.#cancel(new BodyTooLargeError(`response body from ${origin} exceeded maxResponseBytes (${max})`, { origin, maxResponseBytes: max }));
      return;
    }
    (response.#chunks ??= []).push(chunk);
    response.#buffered += chunk.length;
    if (response.#buffered >= PREBUFFER_BYTES) this.pause();
  }

  static #onSourceEnd(this: ClientHttp2Stream): void {
    const response = (this as ResponseSource)[kResponse];
    if (response === undefined || response.#settled) return;
    // As for a body: a reset code at 'end' means node cut the stream off when the socket closed.
    const rstCode = this.rstCode;
    if (rstCode !== undefined && rstCode !== NGHTTP2_NO_ERROR) {
      response.#fail();
      return;
    }
    response.#ended = true;
    response.#stopTimer();
    if (response.#dumpLimit !== undefined) response.#settle(undefined);
  }

  /**
   * The silence deadline of an unbuilt body. Instead of a clock reading per chunk, it compares
   * the bytes received with those at the last arming (as the keep-alive does with
   * `bytesRead`): a stall is found between one and two `bodyTimeoutMs` after the last chunk.
   */
  #onTimer(): void {
    this.#timer = undefined;
    if (this.#settled || this.#ended || this.#body !== undefined) return;
    const { context, bodyTimeoutMs, source } = this.#spec;
    // A full buffer nobody reads is the caller's pause, not a stall (as for a paused body).
    const paused = this.#dumpLimit === undefined && source.isPaused() && this.#buffered >= PREBUFFER_BYTES;
    if (paused || this.#received !== this.#receivedAtArm) {
      this.#receivedAtArm = this.#received;
      this.#timer = context.earlyDeadlines.add(this, context.clock.now() + bodyTimeoutMs);
      return;
    }
    this.#cancel(new BodyTimeoutError(`response body from ${context.origin} stalled for ${bodyTimeoutMs} ms`, { origin: context.origin, bodyTimeoutMs }));
  }

  /** The silence deadlines of a multiplexer's unbuilt bodies, on one timer (put in its {@link ResponseBodyContext}). */
  static deadlines(clock: Clock): DeadlineList<H2Response> {
    return new DeadlineList<H2Response>(clock, (response) => response.#onTimer());
  }

  #stopTimer(): void {
    this.#spec.context.earlyDeadlines.remove(this.#timer);
    this.#timer = undefined;
  }

  #fail(): void {
    const { session, context, source } = this.#spec;
    this.#settle(session.failure ?? closedError(context.origin, source.rstCode, this.#received));
  }

  /** Resets the stream (CANCEL, counted as a pending reset by the session) and settles. */
  #cancel(error: BerthError | undefined): void {
    if (this.#settled) return;
    this.#spec.session.cancel(this.#spec.source);
    this.#settle(error);
  }

  #settle(error: BerthError | undefined): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#failure = error;
    this.#chunks = undefined;
    this.#stopTimer();
    this.#spec.context.settled(this.#spec.token, error);
  }
}

/**
 * Events rather than `for await`: the async iterator costs a promise per chunk, a measurable
 * share of a small response.
 */
function readAll(body: Readable): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    body.on('data', (chunk: Buffer) => chunks.push(chunk));
    body.once('end', () => resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks)));
    body.once('error', reject);
    if (body.destroyed && !body.readableEnded) reject(body.errored ?? new AbortedError('the response body was destroyed before it was read'));
  });
}

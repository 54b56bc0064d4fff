import { util as undiciUtil } from 'undici';
import type { Dispatcher } from 'undici';
import type { BerthError, ResponseHeaders } from '@berth/core-types';
import { toBerthError } from './error-mapping.js';
import { BodyTimeoutError, BodyTooLargeError, HeadersTimeoutError } from './errors.js';
import { ResponseBody } from './response-body.js';
import type { BodySource } from './response-body.js';
import type { DeadlineWatcher, ResponseDeadline, ResponsePhase } from './response-deadline.js';

/** What an {@link Exchange} reports to the pool. */
export interface ExchangeListener {
  /** The response head arrived at `now` (clock reading); `body` gives its body. */
  head(status: number, headers: ResponseHeaders, body: BodyHandle, closeRequested: boolean, now: number): void;
  /** The attempt failed; `headReceived` says whether a response head had arrived first. */
  failed(error: BerthError, headReceived: boolean): void;
  /** The request ended (body fully received, or failed); the connection may be reused or retired. */
  settled(failed: boolean): void;
}

/** How a response reaches its body (see {@link Exchange}: the stream is made on demand). */
export interface BodyHandle {
  /** The body stream, created on first call (later calls return the same one). */
  stream(): ResponseBody;
  /** The whole body when it already arrived and no stream was made, else undefined. Consumes it. */
  whole(): Buffer | undefined;
  /** Drops a body that already arrived (or failed) with no stream made; false when there is something to drain. */
  discard(): boolean;
}

/**
 * Body bytes held before anyone asks for the stream: a small response usually arrives whole
 * with its head, and its reader wants `text()`/`json()` or `dump()`, not a stream. Past this,
 * the stream is made and its backpressure applies, so nothing large is ever held.
 */
const HOLD_BYTES = 16 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * The undici dispatch handler of one request attempt on one connection. Using `dispatch()`
 * with our own handler instead of `request()` saves undici's promise wrapper (undici's own
 * "dispatch with empty handler" runs at 1.08× its Pool, ANCHORS §9), lets us map every
 * failure to a Berth code before a caller sees it, count body bytes for `maxResponseBytes`
 * without another stream, and know exactly whether a response byte arrived (the safe-resend rule).
 *
 * It speaks the handler interface undici's client calls natively (`onConnect`, `onHeaders`,
 * `onData`, `onComplete`, `onError` — the one undici's own `request()` handler uses). A
 * handler with the newer controller methods is wrapped by undici in an `UnwrapHandler` and an
 * `UnwrapController` per request, which also parses the (empty) trailers into an object:
 * two objects and a call layer per request saved.
 */
export class Exchange implements Dispatcher.DispatchHandler, BodySource, BodyHandle, DeadlineWatcher {
  readonly #listener: ExchangeListener;
  readonly #maxBytes: number | undefined;
  readonly #where: string;
  readonly #deadline: ResponseDeadline;
  readonly #bodyTimeoutMs: number;
  /** undici's abort for this request; set in `onConnect`. */
  #abort: ((error: Error) => void) | undefined;
  /** undici's parser resume; set in `onHeaders`. */
  #resume: (() => void) | undefined;
  #pendingAbort: Error | undefined;
  #aborted = false;
  #paused = false;
  #headed = false;
  #body: ResponseBody | undefined;
  /** Chunks received before the stream was made (at most HOLD_BYTES). */
  #held: Buffer[] | undefined;
  #heldBytes = 0;
  /** The last body byte arrived. */
  #ended = false;
  /** The body failed before its stream was made. */
  #failure: Error | undefined;
  #bytes = 0;
  #done = false;

  /** `deadline` is the connection's phase timer; `bodyTimeoutMs` this request's body window (see {@link ResponseDeadline}). */
  constructor(listener: ExchangeListener, maxBytes: number | undefined, where: string, deadline: ResponseDeadline, bodyTimeoutMs: number) {
    this.#listener = listener;
    this.#maxBytes = maxBytes;
    this.#where = where;
    this.#deadline = deadline;
    this.#bodyTimeoutMs = bodyTimeoutMs;
  }

  /** Aborts the attempt (signal or deadline); before the request started, as soon as it does. */
  abort(reason: Error): void {
    if (this.#done) return;
    if (this.#abort === undefined) this.#pendingAbort = reason;
    else this.cancel(reason);
  }

  /** Starts the headers deadline at `now`, when the pool owns it (see `HttpsPool.#attempt`). */
  expectHead(timeoutMs: number, now: number): void {
    this.#deadline.start(this, 'headers', timeoutMs, now);
  }

  /** True once a response head arrived. */
  get headReceived(): boolean {
    return this.#headed;
  }

  /** undici assigned the request to the socket; `abort` cancels it (and closes the socket). */
  onConnect(abort: (error?: Error) => void): void {
    this.#abort = abort;
    if (this.#pendingAbort !== undefined) this.cancel(this.#pendingAbort);
  }

  /** The response head; returns false to pause the parser (backpressure). */
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) {
      // 1xx informational: the final head follows (RFC 9110 §15.2); the server is alive.
      this.#deadline.progress();
      return true;
    }
    this.#resume = resume;
    this.#headed = true;
    const headers = undiciUtil.parseHeaders(rawHeaders) as Record<string, string | string[] | undefined>;
    const now = this.#deadline.start(this, 'body', this.#bodyTimeoutMs);
    const connection = headers['connection'];
    const closeRequested = typeof connection === 'string' && connection.toLowerCase().includes('close');
    this.#listener.head(statusCode, headers, this, closeRequested, now);
    return !this.#paused;
  }

  /** A body chunk; returns false to pause the parser until the consumer reads. */
  onData(chunk: Buffer): boolean {
    if (!this.#headed) return true;
    this.#bytes += chunk.length;
    if (this.#maxBytes !== undefined && this.#bytes > this.#maxBytes) {
      this.cancel(new BodyTooLargeError(`response body from ${this.#where} exceeded maxResponseBytes (${this.#maxBytes} bytes)`, { maxResponseBytes: this.#maxBytes }));
      return false;
    }
    this.#deadline.progress();
    let body = this.#body;
    if (body === undefined) {
      if (this.#heldBytes + chunk.length <= HOLD_BYTES) {
        (this.#held ??= []).push(chunk);
        this.#heldBytes += chunk.length;
        return true;
      }
      body = this.stream();
    }
    if (body.push(chunk)) return true;
    this.#paused = true;
    this.#deadline.pause();
    return false;
  }

  /** The body stream, made on first call from what was held ({@link BodyHandle}). */
  stream(): ResponseBody {
    if (this.#body !== undefined) return this.#body;
    const body = new ResponseBody();
    body.attach(this);
    this.#body = body;
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) for (const chunk of held) body.push(chunk);
    if (this.#failure !== undefined) body.destroy(this.#failure);
    else if (this.#ended) body.complete();
    return body;
  }

  /** The whole body, without a stream, when it arrived whole and none was made ({@link BodyHandle}). */
  whole(): Buffer | undefined {
    if (this.#body !== undefined || !this.#ended || this.#failure !== undefined) return undefined;
    const held = this.#held;
    this.#held = undefined;
    if (held === undefined) return EMPTY;
    const first = held[0];
    return held.length === 1 && first !== undefined ? first : Buffer.concat(held);
  }

  /** Drops a body that ended or failed before any stream was made ({@link BodyHandle}). */
  discard(): boolean {
    if (this.#body !== undefined || (!this.#ended && this.#failure === undefined)) return false;
    this.#held = undefined;
    return true;
  }

  /** The body's consumer wants more ({@link BodySource}). */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#deadline.resume();
    this.#resume?.();
  }

  /** Aborts the request once; undici then fails it through `onError` and closes the socket ({@link BodySource}). */
  cancel(error: Error): void {
    if (this.#aborted || this.#abort === undefined) return;
    this.#aborted = true;
    this.#abort(error);
  }

  /** No head, or no body byte, for `timeoutMs` ({@link DeadlineWatcher}); undici closes the socket on abort. */
  deadlinePassed(phase: ResponsePhase, timeoutMs: number): void {
    this.abort(
      phase === 'headers'
        ? new HeadersTimeoutError(`no response head from ${this.#where} within ${timeoutMs} ms (headersTimeoutMs)`, { headersTimeoutMs: timeoutMs })
        : new BodyTimeoutError(`response body from ${this.#where} sent nothing for ${timeoutMs} ms (bodyTimeoutMs)`, { bodyTimeoutMs: timeoutMs }),
    );
  }

  /** The last body byte arrived. */
  onComplete(): void {
    if (this.#done) return;
    this.#done = true;
    this.#deadline.stop();
    this.#ended = true;
    this.#body?.complete();
    this.#listener.settled(false);
  }

  /** The request failed (before or after the head); called once, mapped to a Berth code. */
  onError(error: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.#deadline.stop();
    const mapped = toBerthError(error, 'request', this.#where);
    const body = this.#body;
    if (!this.#headed) this.#listener.failed(mapped, false);
    else if (body === undefined) {
      this.#failure = mapped;
      this.#held = undefined;
    } else if (!body.destroyed) body.destroy(mapped);
    this.#listener.settled(true);
  }
}

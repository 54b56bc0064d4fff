import type { Dispatcher } from 'undici';
import type { BerthError, ResponseHeaders } from '@berth/core-types';
import type { BodyDeadline, BodyWatcher } from './body-deadline.js';
import { toBerthError } from './error-mapping.js';
import { BodyTimeoutError, BodyTooLargeError } from './errors.js';
import { ResponseBody } from './response-body.js';
import type { BodySource } from './response-body.js';

/** What an {@link Exchange} reports to the pool. */
export interface ExchangeListener {
  /** The response head arrived. */
  head(status: number, headers: ResponseHeaders, body: ResponseBody, closeRequested: boolean): void;
  /** The attempt failed; `headReceived` says whether a response head had arrived first. */
  failed(error: BerthError, headReceived: boolean): void;
  /** The request ended (body fully received, or failed); the connection may be reused or retired. */
  settled(failed: boolean): void;
}

/**
 * The undici dispatch handler of one request attempt on one connection. Using `dispatch()`
 * with our own handler instead of `request()` saves undici's promise wrapper (undici's own
 * "dispatch with empty handler" runs at 1.08× its Pool, ANCHORS §9), lets us map every
 * failure to a Berth code before a caller sees it, count body bytes for `maxResponseBytes`
 * without another stream, and know exactly whether a response byte arrived (the safe-resend rule).
 */
export class Exchange implements Dispatcher.DispatchHandler, BodySource, BodyWatcher {
  readonly #listener: ExchangeListener;
  readonly #maxBytes: number | undefined;
  readonly #where: string;
  readonly #deadline: BodyDeadline;
  readonly #bodyTimeoutMs: number;
  #controller: Dispatcher.DispatchController | undefined;
  #pendingAbort: Error | undefined;
  #body: ResponseBody | undefined;
  #bytes = 0;
  #done = false;

  /** `deadline` is the connection's body-idle timer; `bodyTimeoutMs` this request's window (see {@link BodyDeadline}). */
  constructor(listener: ExchangeListener, maxBytes: number | undefined, where: string, deadline: BodyDeadline, bodyTimeoutMs: number) {
    this.#listener = listener;
    this.#maxBytes = maxBytes;
    this.#where = where;
    this.#deadline = deadline;
    this.#bodyTimeoutMs = bodyTimeoutMs;
  }

  /** Aborts the attempt (signal or deadline); before the request started, as soon as it does. */
  abort(reason: Error): void {
    if (this.#done) return;
    if (this.#controller === undefined) this.#pendingAbort = reason;
    else this.#controller.abort(reason);
  }

  /** True once a response head arrived. */
  get headReceived(): boolean {
    return this.#body !== undefined;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#pendingAbort !== undefined) controller.abort(this.#pendingAbort);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx informational: the final head follows (RFC 9110 §15.2)
    const body = new ResponseBody();
    body.attach(this);
    this.#body = body;
    this.#deadline.start(this, this.#bodyTimeoutMs);
    const connection = headers['connection'];
    const closeRequested = typeof connection === 'string' && connection.toLowerCase().includes('close');
    this.#listener.head(statusCode, headers, body, closeRequested);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const body = this.#body;
    if (body === undefined) return;
    this.#bytes += chunk.length;
    if (this.#maxBytes !== undefined && this.#bytes > this.#maxBytes) {
      controller.abort(new BodyTooLargeError(`response body from ${this.#where} exceeded maxResponseBytes (${this.#maxBytes} bytes)`, { maxResponseBytes: this.#maxBytes }));
      return;
    }
    this.#deadline.progress();
    if (!body.push(chunk)) {
      this.#deadline.pause();
      controller.pause();
    }
  }

  /** The body's consumer wants more ({@link BodySource}). */
  resume(): void {
    this.#deadline.resume();
    this.#controller?.resume();
  }

  /** The body was destroyed before it ended ({@link BodySource}). */
  cancel(error: Error): void {
    const controller = this.#controller;
    if (controller !== undefined && !controller.aborted) controller.abort(error);
  }

  /** The body stayed silent for `timeoutMs` ({@link BodyWatcher}): undici closes the socket on abort. */
  bodyTimedOut(timeoutMs: number): void {
    if (this.#done) return;
    this.cancel(new BodyTimeoutError(`response body from ${this.#where} sent nothing for ${timeoutMs} ms (bodyTimeoutMs)`, { bodyTimeoutMs: timeoutMs }));
  }

  onResponseEnd(): void {
    if (this.#done) return;
    this.#done = true;
    this.#deadline.stop();
    this.#body?.complete();
    this.#listener.settled(false);
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.#deadline.stop();
    const mapped = toBerthError(error, 'request', this.#where);
    const body = this.#body;
    if (body === undefined) this.#listener.failed(mapped, false);
    else if (!body.destroyed) body.destroy(mapped);
    this.#listener.settled(true);
  }
}

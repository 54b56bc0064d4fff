import type { Dispatcher } from 'undici';
import type { BerthError, ResponseHeaders } from '@berth/core-types';
import { toBerthError } from './error-mapping.js';
import { BodyTooLargeError } from './errors.js';
import { ResponseBody } from './response-body.js';

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
export class Exchange implements Dispatcher.DispatchHandler {
  readonly #listener: ExchangeListener;
  readonly #maxBytes: number | undefined;
  readonly #where: string;
  #controller: Dispatcher.DispatchController | undefined;
  #pendingAbort: Error | undefined;
  #body: ResponseBody | undefined;
  #bytes = 0;
  #done = false;

  constructor(listener: ExchangeListener, maxBytes: number | undefined, where: string) {
    this.#listener = listener;
    this.#maxBytes = maxBytes;
    this.#where = where;
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
    body.attach(controller);
    this.#body = body;
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
    if (!body.push(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    if (this.#done) return;
    this.#done = true;
    this.#body?.complete();
    this.#listener.settled(false);
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    if (this.#done) return;
    this.#done = true;
    const mapped = toBerthError(error, 'request', this.#where);
    const body = this.#body;
    if (body === undefined) this.#listener.failed(mapped, false);
    else if (!body.destroyed) body.destroy(mapped);
    this.#listener.settled(true);
  }
}

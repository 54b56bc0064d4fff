import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import { AbortedError } from './errors.js';

/**
 * A response body with backpressure: undici's parser is paused while the stream's buffer is
 * full (`push()` returns false) and resumed by `_read()`, as undici's own `BodyReadable`
 * does. Nothing is buffered whole unless a helper below is called.
 */
export class ResponseBody extends Readable {
  #controller: Dispatcher.DispatchController | undefined;
  #complete = false;

  /** @internal Binds the body to the undici request it comes from. */
  attach(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
  }

  /** @internal The last byte arrived. */
  complete(): void {
    this.#complete = true;
    this.push(null);
  }

  override _read(): void {
    this.#controller?.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Destroying an unfinished body aborts the request; undici then closes the socket, since
    // an HTTP/1.1 connection with unread response bytes cannot carry another request.
    if (!this.#complete && this.#controller !== undefined && !this.#controller.aborted) {
      this.#controller.abort(error ?? new AbortedError('response body destroyed before it ended'));
    }
    callback(error);
  }
}

/** Reads a whole body into one Buffer. */
export async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Discards the rest of a body; resolves when it ended or failed (the failure is already counted). */
export async function dumpBody(body: Readable): Promise<void> {
  if (body.readableEnded || body.destroyed) return;
  body.resume();
  try {
    await finished(body);
  } catch {
    // A body that fails while being discarded has nothing left to give the caller.
  }
}

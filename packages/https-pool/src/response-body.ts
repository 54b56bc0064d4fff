import { Readable } from 'node:stream';
import { AbortedError } from './errors.js';

/** Where a {@link ResponseBody} comes from: the exchange that feeds it. */
export interface BodySource {
  /** The consumer wants more: resume the paused parser. */
  resume(): void;
  /** The body was destroyed before it ended: abort the request (the socket is closed). */
  cancel(error: Error): void;
}

/**
 * A response body with backpressure: undici's parser is paused while the stream's buffer is
 * full (`push()` returns false) and resumed by `_read()`, as undici's own `BodyReadable`
 * does. Nothing is buffered whole unless a helper below is called.
 */
export class ResponseBody extends Readable {
  #source: BodySource | undefined;
  #complete = false;

  constructor() {
    super();
    // A body nobody reads may still fail (reset mid-body, body timeout): that failure is
    // counted and reaches every consumer that reads, but must never be an unlistened 'error'.
    this.on('error', ignore);
  }

  /** @internal Binds the body to the exchange it comes from. */
  attach(source: BodySource): void {
    this.#source = source;
  }

  /** True once the last byte arrived (it may still be buffered, unread). */
  get received(): boolean {
    return this.#complete;
  }

  /** @internal The last byte arrived. */
  complete(): void {
    this.#complete = true;
    this.push(null);
  }

  override _read(): void {
    this.#source?.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Destroying an unfinished body aborts the request; undici then closes the socket, since
    // an HTTP/1.1 connection with unread response bytes cannot carry another request.
    if (!this.#complete) this.#source?.cancel(error ?? new AbortedError('response body destroyed before it ended'));
    callback(error);
  }
}

function ignore(): void {}

/** Reads a whole body into one Buffer. */
export async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Discards the rest of a body; resolves when it ended or failed (the failure is already
 * counted). One 'close' listener instead of `stream.finished()`: a Readable with
 * `autoDestroy` (the default) emits 'close' after 'end' and after an error alike.
 */
export function dumpBody(body: Readable): Promise<void> {
  if (body.destroyed) return Promise.resolve();
  // Small responses usually arrive whole with their head: nothing is left to drain, and
  // destroying drops the buffered chunk without flowing it through 'data' and 'end'.
  if (body instanceof ResponseBody && body.received) {
    body.destroy();
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    body.once('close', resolve);
    body.resume();
  });
}

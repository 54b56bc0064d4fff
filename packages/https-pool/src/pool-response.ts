import type { ResponseData, ResponseHeaders, ResponseMeta } from '@berth/core-types';
import type { BodyHandle } from './exchange.js';
import { dumpBody, readAll } from './response-body.js';
import type { ResponseBody } from './response-body.js';

/**
 * A response whose head arrived. A class rather than an object of closures: one allocation
 * per response on the hot path, the helpers shared on the prototype. The body stream is
 * made when `body` is first read: `text()`, `json()`, `arrayBuffer()` and `dump()` of a body
 * that already arrived whole (the usual small API answer) never make one.
 */
export class PoolResponse implements ResponseData {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly meta: ResponseMeta;
  readonly #body: BodyHandle;

  constructor(status: number, headers: ResponseHeaders, body: BodyHandle, meta: ResponseMeta) {
    this.status = status;
    this.headers = headers;
    this.#body = body;
    this.meta = meta;
  }

  /** The body as a stream with backpressure (made on first access, then always the same one). */
  get body(): ResponseBody {
    return this.#body.stream();
  }

  /** Reads the whole body as UTF-8. */
  async text(): Promise<string> {
    return (this.#body.whole() ?? (await readAll(this.body))).toString('utf8');
  }

  /** Reads the whole body and parses it as JSON. */
  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }

  /** Reads the whole body into an `ArrayBuffer`. */
  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.#body.whole() ?? (await readAll(this.body));
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }

  /** Discards the rest of the body so the connection can be reused. */
  dump(): Promise<void> {
    return this.#body.discard() ? Promise.resolve() : dumpBody(this.body);
  }
}

import http2 from 'node:http2';
import type { ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { Readable } from 'node:stream';
import type { BerthError, Clock, ResponseData, ResponseHeaders, ResponseMeta, TimerHandle } from '@berth/core-types';
import { isBerthError } from '@berth/core-types';
import { BodyTimeoutError, BodyTooLargeError, ProtocolError, UpstreamResetError } from './errors.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_PROTOCOL_ERROR } = http2.constants;
/** `dump()` reads and drops a body up to this size rather than resetting its stream. */
const DUMP_DRAIN_LIMIT_BYTES = 64 * 1024;

/** What a {@link ResponseBody} needs besides its stream. */
export interface ResponseBodyOptions {
  /** Where the response came from, for error messages. */
  readonly origin: string;
  /** Largest body accepted, bytes. */
  readonly maxBytes: number | undefined;
  /** Longest silence between chunks while the consumer is reading, milliseconds. */
  readonly bodyTimeoutMs: number;
  readonly clock: Clock;
  /** Resets the stream (CANCEL) when the consumer gives up early; counted as a pending reset by the session. */
  cancel(stream: ClientHttp2Stream): void;
  /** The session's failure, when the session (not the stream) died: keep-alive timeout, close. */
  sessionFailure(): BerthError | undefined;
  /** Called once when the body ends, fails or is destroyed. */
  settled(error: BerthError | undefined): void;
}

/**
 * The response body handed to callers: a Readable fed from the HTTP/2 stream with pause/resume,
 * so a slow consumer stops nghttp2 from sending WINDOW_UPDATE (backpressure reaches the
 * server). It exists, rather than handing out the `ClientHttp2Stream` itself, so every body
 * failure is a `BerthError` with a code, `maxResponseBytes` is enforced, a stalled body times
 * out on the injected clock, and an abandoned body resets its stream.
 */
export class ResponseBody extends Readable {
  readonly #source: ClientHttp2Stream;
  readonly #options: ResponseBodyOptions;
  #received = 0;
  #lastActivity: number;
  #timer: TimerHandle | undefined;
  #ended = false;
  #settled = false;
  /** Set by `discard()`: past this many received bytes the stream is reset rather than drained. */
  #dumpLimit: number | undefined;

  constructor(source: ClientHttp2Stream, options: ResponseBodyOptions) {
    super({ highWaterMark: 64 * 1024 });
    this.#source = source;
    this.#options = options;
    this.#lastActivity = options.clock.now();
    // A body nobody reads must not crash the process when its session dies later; readers
    // (`for await`, pipeline, text()) attach their own listeners and still see the error.
    this.on('error', () => {});
    source.on('data', (chunk: Buffer) => this.#onData(chunk));
    source.once('end', () => {
      // When the socket closes, node closes open streams with CANCEL and ends their readable
      // side as if the body were complete; a reset code at 'end' means it was cut off.
      const rstCode = source.rstCode;
      if (rstCode !== undefined && rstCode !== NGHTTP2_NO_ERROR) {
        this.destroy(this.#closedError());
        return;
      }
      this.#ended = true;
      this.#stopTimer();
      this.push(null);
    });
    source.once('close', () => {
      if (!this.#ended && !this.destroyed) this.destroy(this.#closedError());
    });
    this.#armTimer(options.bodyTimeoutMs);
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
          source.once('close', () => resolve());
        });
    if (this.destroyed) return released;
    if (!this.#ended && declaredBytes !== undefined && declaredBytes - this.#received > drainLimitBytes) {
      this.destroy();
      return released;
    }
    this.#dumpLimit = this.#received + drainLimitBytes;
    this.resume();
    return released;
  }

  /** Bytes received so far. */
  get receivedBytes(): number {
    return this.#received;
  }

  override _read(): void {
    this.#lastActivity = this.#options.clock.now();
    this.#source.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#stopTimer();
    if (!this.#ended) this.#options.cancel(this.#source);
    const berthError = error === null ? undefined : isBerthError(error) ? error : this.#closedError();
    this.#settle(berthError);
    callback(error === null ? null : berthError);
  }

  #onData(chunk: Buffer): void {
    this.#received += chunk.length;
    this.#lastActivity = this.#options.clock.now();
    if (this.#dumpLimit !== undefined && this.#received > this.#dumpLimit) {
      this.destroy();
      return;
    }
    const max = this.#options.maxBytes;
    if (max !== undefined && this.#received > max) {
      this.destroy(
        new BodyTooLargeError(`response body from ${this.#options.origin} exceeded maxResponseBytes (${max})`, {
          origin: this.#options.origin,
          maxResponseBytes: max,
        }),
      );
      return;
    }
    if (!this.push(chunk)) this.#source.pause();
  }

  /**
   * One timer per silence window instead of one per chunk: when it fires it re-arms for the
   * time left since the last chunk, and never fires while the consumer holds the stream paused.
   */
  #armTimer(ms: number): void {
    this.#timer = this.#options.clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#ended || this.destroyed) return;
      const silent = this.#options.clock.now() - this.#lastActivity;
      const paused = this.#source.isPaused() && this.readableLength >= this.readableHighWaterMark;
      if (paused || silent < this.#options.bodyTimeoutMs) {
        this.#armTimer(paused ? this.#options.bodyTimeoutMs : this.#options.bodyTimeoutMs - silent);
        return;
      }
      this.destroy(
        new BodyTimeoutError(`response body from ${this.#options.origin} stalled for ${this.#options.bodyTimeoutMs} ms`, {
          origin: this.#options.origin,
          bodyTimeoutMs: this.#options.bodyTimeoutMs,
        }),
      );
    }, ms);
  }

  #stopTimer(): void {
    this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #closedError(): BerthError {
    const failure = this.#options.sessionFailure();
    if (failure !== undefined) return failure;
    const rstCode = this.#source.rstCode;
    if (rstCode === NGHTTP2_PROTOCOL_ERROR) {
      return new ProtocolError(`${this.#options.origin} broke HTTP/2 in a response body (PROTOCOL_ERROR)`, { origin: this.#options.origin, rstCode });
    }
    return new UpstreamResetError(
      `response body from ${this.#options.origin} was reset after ${this.#received} bytes (HTTP/2 error code ${rstCode ?? 'none'})`,
      { origin: this.#options.origin, rstCode, receivedBytes: this.#received },
    );
  }

  #settle(error: BerthError | undefined): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#options.settled(error);
  }
}

/** Response headers without HTTP/2 pseudo-headers. */
export function plainHeaders(headers: IncomingHttpHeaders): ResponseHeaders {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(headers)) if (!name.startsWith(':')) out[name] = value;
  return out;
}

/** Builds the {@link ResponseData} around a body. */
export function createResponse(status: number, headers: ResponseHeaders, body: ResponseBody, meta: ResponseMeta): ResponseData {
  // Events rather than `for await`: the async iterator costs a promise per chunk, a
  // measurable share of a small response.
  const readAll = (): Promise<Buffer> =>
    new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      body.on('data', (chunk: Buffer) => chunks.push(chunk));
      body.once('end', () => resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks)));
      body.once('error', reject);
      if (body.destroyed && !body.readableEnded) reject(body.errored ?? new Error('response body already destroyed'));
    });
  return {
    status,
    headers,
    body,
    text: async () => (await readAll()).toString('utf8'),
    json: async <T>() => JSON.parse((await readAll()).toString('utf8')) as T,
    arrayBuffer: async () => {
      const b = await readAll();
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
    dump: () => {
      const length = Number(headers['content-length']);
      return body.discard(Number.isFinite(length) ? length : undefined, DUMP_DRAIN_LIMIT_BYTES);
    },
    meta,
  };
}

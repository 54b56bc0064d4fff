/**
 * How a testkit HTTP server answers one request. Set a default with `server.behave()`, per
 * path with `server.route()`, or per request with the `x-berth-behaviour` header (JSON),
 * which lets concurrent requests in one test each get their own answer.
 */
export interface Behaviour {
  /** Status code. Default 200. */
  readonly status?: number;
  /** Extra response headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Milliseconds to wait before sending the response head. */
  readonly delayMs?: number;
  /** Body to send. Default: `ok`. Ignored when `bodyBytes` is set. */
  readonly body?: string;
  /** Send this many bytes of generated body instead of `body`. */
  readonly bodyBytes?: number;
  /** Write the body in chunks of this many bytes … */
  readonly chunkBytes?: number;
  /** … waiting this many milliseconds between chunks (a slow drip). */
  readonly chunkIntervalMs?: number;
  /** Echo the request (method, path, headers, body) as JSON instead of a body. */
  readonly echo?: boolean;
  /** HTTP/1.1: send `Connection: close` (the server closes after the response). */
  readonly connectionClose?: boolean;
  /** Destroy the connection right after the response is written (no `Connection: close` warning). */
  readonly closeAfterResponse?: boolean;
  /** Send the head and half of the body, then reset (HTTP/1.1: destroy the socket; HTTP/2: RST_STREAM). */
  readonly resetMidBody?: boolean;
  /** Reset before any response byte. */
  readonly resetBeforeResponse?: boolean;
  /** HTTP/2: answer with RST_STREAM REFUSED_STREAM (RFC 9113 §8.7). */
  readonly refuseStream?: boolean;
  /** HTTP/2: send GOAWAY (NO_ERROR) on the session right after this response. */
  readonly goawayAfter?: boolean;
}

/** A request as the server saw it. */
export interface RecordedRequest {
  /** Method. */
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  /** Headers (lower-case names; HTTP/2 pseudo-headers removed). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Request body (first 1 MiB), UTF-8. */
  readonly body: string;
  /** Index of the connection (order of acceptance, from 0) the request came on. */
  readonly connection: number;
  /** `http/1.1` or `h2`. */
  readonly protocol: 'http/1.1' | 'h2';
}

/** Resolves the behaviour of one request: header > route > default. */
export class BehaviourTable {
  #default: Behaviour | ((request: RecordedRequest) => Behaviour) = {};
  readonly #routes = new Map<string, Behaviour>();

  setDefault(behaviour: Behaviour | ((request: RecordedRequest) => Behaviour)): void {
    this.#default = behaviour;
  }

  route(path: string, behaviour: Behaviour): void {
    this.#routes.set(path, behaviour);
  }

  resolve(request: RecordedRequest): Behaviour {
    const header = request.headers['x-berth-behaviour'];
    if (typeof header === 'string') return JSON.parse(header) as Behaviour;
    const pathOnly = request.path.split('?')[0] ?? request.path;
    const routed = this.#routes.get(pathOnly);
    if (routed !== undefined) return routed;
    return typeof this.#default === 'function' ? this.#default(request) : this.#default;
  }
}

/** The body bytes a behaviour sends. */
export function bodyOf(behaviour: Behaviour, request: RecordedRequest): Buffer {
  if (behaviour.echo === true) {
    return Buffer.from(
      JSON.stringify({ method: request.method, path: request.path, headers: request.headers, body: request.body }),
    );
  }
  if (behaviour.bodyBytes !== undefined) return Buffer.alloc(behaviour.bodyBytes, 0x61);
  return Buffer.from(behaviour.body ?? 'ok');
}

/** Splits a body into the chunks a behaviour writes. */
export function chunksOf(body: Buffer, behaviour: Behaviour): Buffer[] {
  const size = behaviour.chunkBytes ?? (body.length > 0 ? body.length : 1);
  const chunks: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) chunks.push(body.subarray(i, i + size));
  return chunks;
}

/** Waits `ms` milliseconds with a real timer (or not at all for 0/undefined). */
export function pause(ms: number | undefined): Promise<void> {
  if (ms === undefined || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export const MAX_RECORDED_BODY = 1024 * 1024;

import http from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBerth } from 'berth';
import type { Berth, BerthStats } from 'berth';
import { ConfigError, silentLogger } from '@berth/core-types';
import type { ConfigProblem, ErrorCode, Logger } from '@berth/core-types';
import { failureOf } from './errors.js';
import type { GatewayFailure } from './errors.js';
import { forwardRequestHeaders, forwardResponseHeaders } from './headers.js';
import { resolveGatewayConfig } from './options.js';
import type { GatewayConfig, ResolvedGatewayConfig } from './options.js';

/** Options of {@link startGateway} that do not belong in a config file. */
export interface StartGatewayOptions {
  /** Environment for overrides (`BERTH_GATEWAY_*`). Default: none (pass `process.env` to honour them). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Logger for the gateway and every Berth client. Default silent. */
  readonly logger?: Logger;
}

/** Counters of the gateway itself (what Berth's own metrics cannot see). */
export interface GatewayCounters {
  /** Requests answered, by HTTP status. */
  readonly responses: Readonly<Record<string, number>>;
  /** Requests refused or failed, by Berth error code. */
  readonly errors: Readonly<Partial<Record<ErrorCode, number>>>;
  /** Requests being forwarded right now. */
  readonly inFlight: number;
}

/** Warm-up of one upstream: `ready()` pending, done, or failed (retried by the next `/readyz`). */
type Warmth = { readonly t: 'warming' } | { readonly t: 'warm' } | { readonly t: 'failed'; readonly error: string };

type GatewayState = { readonly t: 'serving' } | { readonly t: 'closing'; readonly done: Promise<void> } | { readonly t: 'closed' };

interface Upstream {
  readonly name: string;
  readonly berth: Berth;
  warmth: Warmth;
}

/**
 * Creates the Berth clients (one per upstream), validating every upstream's options, and
 * starts listening. Throws one `ERR_BERTH_CONFIG` listing the gateway's problems and every
 * upstream's (under `upstreams.<name>.`), after closing any client it had made.
 */
export async function startGateway(config: GatewayConfig, options: StartGatewayOptions = {}): Promise<Gateway> {
  const resolved = resolveGatewayConfig(config, options.env);
  const logger = options.logger ?? silentLogger;
  const clients = new Map<string, Berth>();
  const problems: ConfigProblem[] = [];
  let metricsOwner: string | undefined;
  for (const [name, upstream] of Object.entries(resolved.upstreams)) {
    // Diagnostics channels are process-wide: one collector sees every client's events (each
    // labelled with its client name), and a second one would collide in the registry.
    const collect = resolved.metrics && metricsOwner === undefined;
    try {
      clients.set(name, createBerth({ name, ...upstream, logger, ...(collect ? { metrics: true } : {}) }));
      if (collect) metricsOwner = name;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems.map((p) => ({ ...p, path: `upstreams.${name}.${p.path}` })));
    }
  }
  if (problems.length > 0) {
    await Promise.allSettled([...clients.values()].map((c) => c.close()));
    throw new ConfigError('gateway', problems);
  }
  const gateway = new Gateway(resolved, clients, metricsOwner, logger);
  await gateway.listen();
  return gateway;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** A JSON body for one failure (`{ error: { code, message } }`). */
function errorBody(failure: GatewayFailure): string {
  return JSON.stringify({ error: { code: failure.code, message: failure.message } });
}

/** Renders a raw HTTP/1.1 error response for a socket Node has not parsed a request from. */
function rawErrorResponse(status: number, failure: GatewayFailure): string {
  const body = errorBody(failure);
  const reason = http.STATUS_CODES[status] ?? 'Error';
  return `HTTP/1.1 ${status} ${reason}\r\ncontent-type: ${JSON_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

/** JSON.stringify replacer for stats trees: Maps as objects, bigints as strings, Infinity as null. */
function statsReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/**
 * An egress gateway: local clients call `http://host:port/<upstream>/<path>` and the gateway
 * forwards through that upstream's Berth client. Only configured upstreams are reachable;
 * absolute-form targets and `CONNECT` are refused, so it is never an open proxy. Built by
 * {@link startGateway}.
 */
export class Gateway {
  readonly #config: ResolvedGatewayConfig;
  readonly #upstreams = new Map<string, Upstream>();
  readonly #metricsOwner: string | undefined;
  readonly #logger: Logger;
  readonly #server: Server;
  readonly #perClient = new Map<string, number>();
  readonly #responses = new Map<number, number>();
  readonly #errors = new Map<ErrorCode, number>();
  #inFlight = 0;
  #drained: (() => void) | undefined;
  #state: GatewayState = { t: 'serving' };

  /** @internal Use {@link startGateway}. */
  constructor(config: ResolvedGatewayConfig, clients: ReadonlyMap<string, Berth>, metricsOwner: string | undefined, logger: Logger) {
    this.#config = config;
    this.#metricsOwner = metricsOwner;
    this.#logger = logger;
    for (const [name, berth] of clients) this.#upstreams.set(name, { name, berth, warmth: { t: 'warming' } });
    const limits = config.limits;
    this.#server = http.createServer(
      {
        maxHeaderSize: limits.maxHeaderBytes,
        // Node's deadline for receiving a whole request; the upstream deadline is separate.
        requestTimeout: limits.requestTimeoutMs,
        headersTimeout: Math.min(limits.requestTimeoutMs, 60_000),
      },
      (req, res) => {
        this.#handle(req, res).catch((error: unknown) => {
          this.#logger.error('gateway handler failed', { error: String(error) });
          res.destroy();
        });
      },
    );
    // No Node limit (0): past its own count Node answers a bare 400; the gateway counts the
    // fields itself to answer 431 with a JSON body. maxHeaderSize still bounds the memory.
    this.#server.maxHeadersCount = 0;
    this.#server.on('connect', (_req: IncomingMessage, socket: Socket) => {
      this.#count(405, 'ERR_BERTH_INVALID_REQUEST');
      socket.on('error', () => {});
      socket.end(
        rawErrorResponse(405, {
          status: 405,
          code: 'ERR_BERTH_INVALID_REQUEST',
          message: 'CONNECT is refused: this gateway forwards only /<upstream>/<path> to configured upstreams',
        }),
      );
    });
    this.#server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      socket.on('error', () => {});
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      const overflow = error.code === 'HPE_HEADER_OVERFLOW';
      const status = overflow ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const code: ErrorCode = status === 408 ? 'ERR_BERTH_TIMEOUT' : 'ERR_BERTH_INVALID_REQUEST';
      this.#count(status, code);
      const message = overflow ? `request head larger than ${limits.maxHeaderBytes} bytes` : `malformed request: ${error.code ?? error.message}`;
      socket.end(rawErrorResponse(status, { status, code, message }));
    });
  }

  /** `http://host:port` the gateway listens on. */
  get url(): string {
    const address = this.#server.address() as AddressInfo | null;
    if (address === null) return `http://${this.#config.host}:${this.#config.port}`;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** The Berth client of an upstream (for embedding and tests). */
  client(upstream: string): Berth | undefined {
    return this.#upstreams.get(upstream)?.berth;
  }

  /** @internal Starts listening and warming every upstream. Called by {@link startGateway}. */
  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#config.port, this.#config.host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    for (const upstream of this.#upstreams.values()) this.#warm(upstream);
  }

  #warm(upstream: Upstream): void {
    upstream.warmth = { t: 'warming' };
    upstream.berth.ready().then(
      () => {
        upstream.warmth = { t: 'warm' };
      },
      (error: unknown) => {
        upstream.warmth = { t: 'failed', error: String(error) };
        this.#logger.warn('upstream failed to warm up', { upstream: upstream.name, error: String(error) });
      },
    );
  }

  /** The gateway's own counters. */
  counters(): GatewayCounters {
    return {
      responses: Object.fromEntries([...this.#responses].map(([k, v]) => [String(k), v])),
      errors: Object.fromEntries(this.#errors),
      inFlight: this.#inFlight,
    };
  }

  /** Every upstream's stats tree, by upstream name. */
  stats(): Record<string, BerthStats> {
    return Object.fromEntries([...this.#upstreams].map(([name, u]) => [name, u.berth.stats()]));
  }

  #count(status: number, code?: ErrorCode): void {
    this.#responses.set(status, (this.#responses.get(status) ?? 0) + 1);
    if (code !== undefined) this.#errors.set(code, (this.#errors.get(code) ?? 0) + 1);
  }

  #send(res: ServerResponse, status: number, body: string, type = JSON_TYPE): void {
    if (this.#state.t !== 'serving') res.setHeader('connection', 'close');
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  #fail(res: ServerResponse, failure: GatewayFailure): void {
    this.#count(failure.status, failure.code);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    this.#send(res, failure.status, errorBody(failure));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '';
    if (!target.startsWith('/')) {
      // Absolute-form (`GET http://host/ HTTP/1.1`) is how clients speak to forward proxies.
      this.#fail(res, {
        status: 400,
        code: 'ERR_BERTH_INVALID_REQUEST',
        message: 'absolute-form request targets are refused: this gateway is not an open proxy; call /<upstream>/<path>',
      });
      return;
    }
    if (req.rawHeaders.length / 2 > this.#config.limits.maxHeaderCount) {
      this.#fail(res, {
        status: 431,
        code: 'ERR_BERTH_INVALID_REQUEST',
        message: `more than ${this.#config.limits.maxHeaderCount} request header fields`,
      });
      return;
    }
    let end = target.length;
    for (const stop of ['/', '?']) {
      const at = target.indexOf(stop, 1);
      if (at !== -1 && at < end) end = at;
    }
    const segment = target.slice(1, end);
    const rest = target.slice(end);
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (segment === 'healthz' && rest === '') return this.#health(res);
      if (segment === 'readyz' && rest === '') return this.#ready(res);
      if (segment === 'metrics' && rest === '') return this.#metrics(res);
      if (segment === 'stats' && rest === '') return this.#stats(res);
    }
    const upstream = this.#upstreams.get(segment);
    if (upstream === undefined) {
      this.#fail(res, {
        status: 404,
        code: 'ERR_BERTH_INVALID_REQUEST',
        message: `unknown upstream ${JSON.stringify(segment)}; configured: ${[...this.#upstreams.keys()].join(', ')}`,
      });
      return;
    }
    if (this.#state.t !== 'serving') {
      this.#fail(res, { status: 503, code: 'ERR_BERTH_CLOSED', message: 'the gateway is shutting down' });
      return;
    }
    const client = req.socket.remoteAddress ?? 'unknown';
    const active = this.#perClient.get(client) ?? 0;
    if (active >= this.#config.limits.maxConcurrentPerClient) {
      this.#fail(res, {
        status: 429,
        code: 'ERR_BERTH_QUEUE_FULL',
        message: `client ${client} already has ${active} requests in flight (limit ${this.#config.limits.maxConcurrentPerClient})`,
      });
      return;
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > this.#config.limits.maxBodyBytes) {
      // Closing is the only safe answer: reading the body to keep the connection would cost what the limit protects.
      res.setHeader('connection', 'close');
      this.#fail(res, {
        status: 413,
        code: 'ERR_BERTH_BODY_TOO_LARGE',
        message: `request body of ${declared} bytes exceeds the limit of ${this.#config.limits.maxBodyBytes}`,
      });
      return;
    }
    this.#perClient.set(client, active + 1);
    this.#inFlight += 1;
    try {
      await this.#forward(upstream, req, res, rest.startsWith('/') ? rest.replace(/^\/+/, '/') : `/${rest}`);
    } finally {
      const left = (this.#perClient.get(client) ?? 1) - 1;
      if (left === 0) this.#perClient.delete(client);
      else this.#perClient.set(client, left);
      this.#inFlight -= 1;
      if (this.#inFlight === 0) this.#drained?.();
    }
  }

  async #forward(upstream: Upstream, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const limit = this.#config.limits.maxBodyBytes;
    const controller = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) controller.abort();
    };
    res.on('close', onClose);
    let tooLarge = false;
    let body: Readable | undefined;
    const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
    if (hasBody) {
      let seen = 0;
      // Counts while streaming (a chunked body declares no length); backpressure flows through
      // the Transform from Berth's writes back to the client's socket.
      const limiter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          seen += chunk.length;
          if (seen > limit) {
            tooLarge = true;
            controller.abort();
            callback(new Error('request body too large'));
            return;
          }
          callback(null, chunk);
        },
      });
      pipeline(req, limiter).catch(() => {
        // Surfaces through the upstream request (aborted or body error).
      });
      body = limiter;
    } else {
      req.resume();
    }
    try {
      const response = await upstream.berth.request({
        method: req.method ?? 'GET',
        path,
        headers: forwardRequestHeaders(req.headers, req.socket.remoteAddress),
        ...(body === undefined ? {} : { body }),
        signal: controller.signal,
        timeoutMs: this.#config.limits.requestTimeoutMs,
      });
      const headers = forwardResponseHeaders(response.headers);
      // Where and how the answer came, for clients and the demo's reuse rate; never secrets.
      if (response.meta.region !== undefined) headers['x-berth-region'] = response.meta.region;
      headers['x-berth-reused'] = String(response.meta.reused);
      headers['x-berth-attempts'] = String(response.meta.attempts);
      if (this.#state.t !== 'serving') headers.connection = 'close';
      res.writeHead(response.status, headers);
      this.#count(response.status);
      await pipeline(response.body, res);
    } catch (error) {
      if (tooLarge) {
        res.setHeader('connection', 'close');
        this.#fail(res, {
          status: 413,
          code: 'ERR_BERTH_BODY_TOO_LARGE',
          message: `request body exceeds the limit of ${limit} bytes`,
        });
      } else if (res.headersSent || res.destroyed) {
        // The response had started (or the client left): all that is left is to cut it.
        res.destroy();
      } else {
        const failure = failureOf(error);
        this.#fail(res, failure);
      }
    } finally {
      res.off('close', onClose);
    }
  }

  #health(res: ServerResponse): void {
    this.#count(200);
    this.#send(res, 200, JSON.stringify({ status: this.#state.t === 'serving' ? 'ok' : 'closing' }));
  }

  #ready(res: ServerResponse): void {
    const upstreams: Record<string, { warm: boolean; healthyRegions: number; error?: string }> = {};
    let ready = this.#state.t === 'serving';
    for (const upstream of this.#upstreams.values()) {
      if (upstream.warmth.t === 'failed') this.#warm(upstream);
      const router = upstream.berth.stats().router;
      const healthyRegions = Object.values(router.regions).filter((r) => r.healthy).length;
      const warm = upstream.warmth.t === 'warm';
      if (!warm || healthyRegions === 0) ready = false;
      upstreams[upstream.name] = { warm, healthyRegions };
    }
    const status = ready ? 200 : 503;
    this.#count(status);
    this.#send(res, status, JSON.stringify({ ready, upstreams }));
  }

  async #metrics(res: ServerResponse): Promise<void> {
    const owner = this.#metricsOwner === undefined ? undefined : this.#upstreams.get(this.#metricsOwner)?.berth.metrics;
    if (owner === undefined) {
      this.#fail(res, { status: 404, code: 'ERR_BERTH_INVALID_REQUEST', message: 'metrics are off (metrics: false)' });
      return;
    }
    const text = (await owner.registry.metrics()) + this.#ownMetrics();
    this.#count(200);
    this.#send(res, 200, text, owner.registry.contentType);
  }

  /** The gateway's own counters in Prometheus text format (Berth's registry knows nothing of them). */
  #ownMetrics(): string {
    const lines = [
      '# HELP berth_gateway_responses_total Responses the gateway sent, by HTTP status.',
      '# TYPE berth_gateway_responses_total counter',
      ...[...this.#responses].map(([status, n]) => `berth_gateway_responses_total{status="${status}"} ${n}`),
      '# HELP berth_gateway_errors_total Requests the gateway refused or failed, by Berth error code.',
      '# TYPE berth_gateway_errors_total counter',
      ...[...this.#errors].map(([code, n]) => `berth_gateway_errors_total{code="${code}"} ${n}`),
      '# HELP berth_gateway_in_flight Requests being forwarded.',
      '# TYPE berth_gateway_in_flight gauge',
      `berth_gateway_in_flight ${this.#inFlight}`,
    ];
    return `${lines.join('\n')}\n`;
  }

  #stats(res: ServerResponse): void {
    const body = JSON.stringify({ gateway: this.counters(), upstreams: this.stats() }, statsReplacer);
    this.#count(200);
    this.#send(res, 200, body);
  }

  /**
   * Graceful shutdown: stops accepting, lets in-flight requests finish for up to
   * `shutdownTimeoutMs` (then cuts them), and closes every Berth client. Idempotent.
   */
  close(): Promise<void> {
    if (this.#state.t === 'closing') return this.#state.done;
    if (this.#state.t === 'closed') return Promise.resolve();
    const done = (async () => {
      const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#server.closeIdleConnections();
      if (this.#inFlight > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => (this.#drained = resolve)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#config.shutdownTimeoutMs))),
        ]);
        clearTimeout(timer);
      }
      this.#server.closeAllConnections();
      await stopped;
      await Promise.allSettled([...this.#upstreams.values()].map((u) => u.berth.close()));
      this.#state = { t: 'closed' };
    })();
    this.#state = { t: 'closing', done };
    return done;
  }
}

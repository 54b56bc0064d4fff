import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { BerthError } from '@berth/core-types';
import type { LifecycleState, RequestOptions, ResponseData, Transport, TransportStats } from '@berth/core-types';

/** Options of {@link createTestTransport}. */
export interface TestTransportOptions {
  /** e.g. `https://127.0.0.1:40123` or `http://…`. */
  readonly origin: string;
  /** Trusted CA (PEM) for https origins. */
  readonly ca?: string;
  /** Name reported in stats. Default: the origin. */
  readonly name?: string;
}

/**
 * A small real {@link Transport} over `node:https`/`node:http` keep-alive agents, for the
 * tests of packages that route over or wrap transports (geo-router, resilience, metrics,
 * adaptive-scaler) and may not depend on the real pools. Errors are mapped to a few Berth
 * codes only (refused, reset, timeout, aborted); the real pools classify fully.
 */
export function createTestTransport(options: TestTransportOptions): Transport & { readonly origin: string } {
  const url = new URL(options.origin);
  const secure = url.protocol === 'https:';
  const agent = secure
    ? new https.Agent({ keepAlive: true, ...(options.ca === undefined ? {} : { ca: options.ca }) })
    : new http.Agent({ keepAlive: true });
  const name = options.name ?? options.origin;
  let state: LifecycleState = 'ready';
  let requests = 0;
  let inFlight = 0;
  let errors = 0;
  const used = new WeakSet<object>();

  function mapError(error: Error & { code?: string }): BerthError {
    const code = error.code;
    if (code === 'ECONNREFUSED') return new BerthError('ERR_BERTH_CONNECT_REFUSED', `connect to ${options.origin} refused`, { cause: error });
    if (code === 'ABORT_ERR') return new BerthError('ERR_BERTH_ABORTED', `request to ${options.origin} aborted`, { cause: error });
    if (code === 'ERR_BERTH_TIMEOUT') return error as unknown as BerthError;
    return new BerthError('ERR_BERTH_UPSTREAM_RESET', `request to ${options.origin} failed: ${error.message}`, { cause: error });
  }

  return {
    origin: options.origin,
    request(req: RequestOptions): Promise<ResponseData> {
      if (state !== 'ready') return Promise.reject(new BerthError('ERR_BERTH_CLOSED', `test transport ${name} is closed`));
      requests += 1;
      inFlight += 1;
      const started = performance.now();
      return new Promise<ResponseData>((resolve, reject) => {
        const headers: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(req.headers ?? {})) headers[k] = typeof v === 'string' ? v : [...v];
        const outgoing = (secure ? https : http).request(
          {
            host: url.hostname,
            port: url.port,
            path: req.path,
            method: req.method ?? 'GET',
            headers,
            agent,
            ...(req.signal === undefined ? {} : { signal: req.signal }),
            ...(secure ? { servername: 'localhost' } : {}),
          },
          (res) => {
            const socket = res.socket;
            const reused = used.has(socket);
            used.add(socket);
            res.on('close', () => (inFlight -= 1));
            const readAll = async (): Promise<Buffer> => {
              const chunks: Buffer[] = [];
              for await (const chunk of res) chunks.push(chunk as Buffer);
              return Buffer.concat(chunks);
            };
            const ttfb = performance.now() - started;
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: res,
              text: async () => (await readAll()).toString('utf8'),
              json: async <T>() => JSON.parse((await readAll()).toString('utf8')) as T,
              arrayBuffer: async () => {
                const b = await readAll();
                return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
              },
              dump: async () => {
                res.resume();
                if (!res.complete) await new Promise((r) => res.once('close', r));
              },
              meta: {
                protocol: 'http/1.1',
                reused,
                connectionId: `${name}#${socket.localPort ?? 0}`,
                attempts: 1,
                timings: { queuedMs: 0, ttfbMs: ttfb, totalMs: ttfb },
              },
            });
          },
        );
        let timer: NodeJS.Timeout | undefined;
        if (req.timeoutMs !== undefined) {
          timer = setTimeout(() => {
            outgoing.destroy(new BerthError('ERR_BERTH_TIMEOUT', `request to ${options.origin} timed out after ${req.timeoutMs} ms`));
          }, req.timeoutMs);
          outgoing.once('response', () => clearTimeout(timer));
        }
        outgoing.on('error', (error: Error & { code?: string }) => {
          clearTimeout(timer);
          inFlight -= 1;
          errors += 1;
          reject(mapError(error));
        });
        const body = req.body;
        if (body === undefined) outgoing.end();
        else if (typeof body === 'string' || body instanceof Uint8Array) outgoing.end(body);
        else Readable.from(body as AsyncIterable<Uint8Array>).pipe(outgoing);
      });
    },
    stats(): TransportStats {
      return { kind: 'test-transport', name, origin: options.origin, state, requests, inFlight, queued: 0, errors };
    },
    close(): Promise<void> {
      state = 'closed';
      agent.destroy();
      return Promise.resolve();
    },
  };
}

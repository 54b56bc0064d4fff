import { BerthError } from '@berth/core-types';
import type {
  CloseOptions,
  LifecycleState,
  Protocol,
  RequestOptions,
  ResponseData,
  Transport,
  TransportStats,
} from '@berth/core-types';
import type { AdaptiveScaler } from '@berth/adaptive-scaler';
import type { H2Multiplexer } from '@berth/h2-multiplexer';
import type { HttpsPool } from '@berth/https-pool';
import type { ResolvedRegion } from './options.js';

/** What a region turned out to be served by. */
export type RegionBackend =
  | { readonly protocol: 'http/1.1'; readonly pool: HttpsPool; readonly scaler: AdaptiveScaler | undefined }
  | { readonly protocol: 'h2'; readonly pool: H2Multiplexer };

/** Builds the backend of a region once its protocol is known. */
export interface BackendFactory {
  /** Chooses the protocol (ALPN probe when `auto`, cached by tls-config). */
  choose(region: ResolvedRegion): Promise<Protocol>;
  /** Creates the pool for that protocol. */
  create(region: ResolvedRegion, protocol: Protocol): RegionBackend;
}

type State =
  | { readonly t: 'idle' }
  | { readonly t: 'resolving'; readonly promise: Promise<RegionBackend> }
  | { readonly t: 'ready'; readonly backend: RegionBackend }
  | { readonly t: 'failed'; readonly error: Error; readonly at: number }
  | { readonly t: 'closed' };

/** Stats of a region's transport: the backend's, plus what the facade knows. */
export interface RegionTransportStats extends TransportStats {
  /** The protocol chosen, once known. */
  readonly protocol: Protocol | undefined;
}

/**
 * A region's transport before and after its protocol is known. The first request (or
 * `ready()`) asks tls-config's cached ALPN probe which protocol the origin speaks, then builds
 * an https-pool or an h2-multiplexer for it: one single-flight resolution per region, so a
 * cold burst never dials once per request (undici#5362). A failed probe is retried by the
 * next request after `retryAfterMs`, never cached forever.
 */
export class RegionTransport implements Transport {
  readonly region: ResolvedRegion;
  readonly #factory: BackendFactory;
  readonly #now: () => number;
  readonly #retryAfterMs: number;
  #state: State = { t: 'idle' };

  constructor(region: ResolvedRegion, factory: BackendFactory, now: () => number, retryAfterMs = 1000) {
    this.region = region;
    this.#factory = factory;
    this.#now = now;
    this.#retryAfterMs = retryAfterMs;
  }

  /** The backend, once resolved. */
  get backend(): RegionBackend | undefined {
    return this.#state.t === 'ready' ? this.#state.backend : undefined;
  }

  /** Resolves the backend (single-flight). */
  resolve(): Promise<RegionBackend> {
    const state = this.#state;
    switch (state.t) {
      case 'ready':
        return Promise.resolve(state.backend);
      case 'resolving':
        return state.promise;
      case 'closed':
        return Promise.reject(new BerthError('ERR_BERTH_CLOSED', `region ${this.region.name} is closed`));
      case 'failed':
        if (this.#now() - state.at < this.#retryAfterMs) return Promise.reject(state.error);
        break;
      case 'idle':
        break;
    }
    const promise = this.#factory.choose(this.region).then(
      (protocol) => {
        if (this.#state.t === 'closed') throw new BerthError('ERR_BERTH_CLOSED', `region ${this.region.name} is closed`);
        const backend = this.#factory.create(this.region, protocol);
        this.#state = { t: 'ready', backend };
        return backend;
      },
      (error: unknown) => {
        const failure = error instanceof Error ? error : new BerthError('ERR_BERTH_INTERNAL', String(error));
        if (this.#state.t !== 'closed') this.#state = { t: 'failed', error: failure, at: this.#now() };
        throw failure;
      },
    );
    this.#state = { t: 'resolving', promise };
    return promise;
  }

  async request(options: RequestOptions): Promise<ResponseData> {
    const backend = await this.resolve();
    return backend.pool.request(options);
  }

  /** Pre-warms: resolves the protocol and, for HTTP/1.1, waits for `minIdle` connections. */
  async ready(): Promise<void> {
    const backend = await this.resolve();
    if (backend.protocol === 'http/1.1') await backend.pool.ready();
  }

  stats(): RegionTransportStats {
    const state = this.#state;
    if (state.t === 'ready') return { ...state.backend.pool.stats(), protocol: state.backend.protocol };
    const lifecycle: LifecycleState =
      state.t === 'closed' ? 'closed' : state.t === 'failed' ? 'errored' : 'connecting';
    return {
      kind: 'region',
      name: this.region.name,
      origin: this.region.origin,
      state: lifecycle,
      requests: 0,
      inFlight: 0,
      queued: 0,
      errors: 0,
      protocol: undefined,
    };
  }

  async close(options?: CloseOptions): Promise<void> {
    const state = this.#state;
    this.#state = { t: 'closed' };
    let backend: RegionBackend | undefined;
    if (state.t === 'ready') backend = state.backend;
    else if (state.t === 'resolving') backend = await state.promise.catch(() => undefined);
    if (backend === undefined) return;
    if (backend.protocol === 'http/1.1') backend.scaler?.stop();
    await backend.pool.close(options);
  }
}

import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { BerthError, GEO_CHANNELS } from '@berth/core-types';
import type {
  CloseOptions,
  ConnectionInfo,
  GeoEjectedMessage,
  Protocol,
  RequestOptions,
  ResponseData,
  Transport,
  TransportStats,
} from '@berth/core-types';
import { createAdaptiveScaler } from '@berth/adaptive-scaler';
import type { AdaptiveScaler } from '@berth/adaptive-scaler';
import { createGeoRouter } from '@berth/geo-router';
import type { GeoRouter, GeoRouterStats } from '@berth/geo-router';
import { createH2Multiplexer } from '@berth/h2-multiplexer';
import { createHttpsPool } from '@berth/https-pool';
import type { MetricsCollector, RequestTracer } from '@berth/metrics';
import { withResilience } from '@berth/resilience';
import type { ResilienceStats, ResilientTransport } from '@berth/resilience';
import { TlsConfig, createTlsConfig } from '@berth/tls-config';
import type { TlsConfigStats } from '@berth/tls-config';
import { createWsPool } from '@berth/ws-pool';
import type { WsPool, WsPoolOptions } from '@berth/ws-pool';
import type { ResolvedConfig, ResolvedRegion } from './options.js';
import { RegionTransport } from './region-transport.js';
import { BerthWebSocket } from './websocket.js';
import { sharedCollector, sharedTracer } from './shared-observers.js';
import type { BackendFactory, RegionBackend, RegionTransportStats } from './region-transport.js';

/** One region in the stats tree. */
export interface RegionStatsNode {
  /** Origin of the region. */
  readonly origin: string;
  /** Protocol chosen (undefined until the first request or `ready()`). */
  readonly protocol: Protocol | undefined;
  /** The region's pool (PoolStats for HTTP/1.1, session stats for HTTP/2). */
  readonly transport: RegionTransportStats;
  /** Live connections of an HTTP/1.1 pool. */
  readonly connections?: readonly ConnectionInfo[];
  /** The scaler's last decisions, for an HTTP/1.1 pool with scaling on. */
  readonly scaler?: ReturnType<AdaptiveScaler['history']>;
  /** The region's circuit breaker and what it wraps. */
  readonly guard?: ResilienceStats;
}

/** The whole client in one tree: regions → transports → connections, plus router, policies and TLS. */
export interface BerthStats {
  /** Client name. */
  readonly name: string;
  /** Lifecycle state. */
  readonly state: 'ready' | 'closing' | 'closed';
  /** Per region. */
  readonly regions: Readonly<Record<string, RegionStatsNode>>;
  /** Region choice, estimates, ejections. */
  readonly router: GeoRouterStats;
  /** Retry, rate limit and bulkhead above the router (absent when off). */
  readonly resilience?: ResilienceStats;
  /** Handshakes, resumption, probes. */
  readonly tls: TlsConfigStats;
  /** Open WebSocket pools. */
  readonly websockets: number;
}

interface Region {
  readonly resolved: ResolvedRegion;
  readonly transport: RegionTransport;
  readonly guard: ResilientTransport | undefined;
}

/**
 * The facade: one client over every region of an upstream. Built by {@link createBerth}.
 *
 * Wiring (DESIGN.md): one tls-config (one SecureContext) for every connection; per region an
 * https-pool or h2-multiplexer chosen by a cached ALPN probe, each https-pool sized by an
 * adaptive scaler (on the pool's own service time, see the factory); a circuit breaker per
 * region below the geo-router (an open region fails over); retry, rate limit and bulkhead
 * above it; metrics and tracing shared per registry / tracer provider across clients.
 */
export class Berth {
  readonly name: string;
  readonly #o: ResolvedConfig;
  readonly #tls: TlsConfig;
  readonly #ownsTls: boolean;
  readonly #regions = new Map<string, Region>();
  readonly #router: GeoRouter;
  readonly #top: Transport;
  readonly #topStats: (() => ResilienceStats) | undefined;
  readonly #metrics: MetricsCollector | undefined;
  readonly #tracer: RequestTracer | undefined;
  readonly #sockets = new Set<BerthWebSocket>();
  #state: 'ready' | 'closing' | 'closed' = 'ready';
  #closed: Promise<void> | undefined;

  /** @internal Use {@link createBerth}. */
  constructor(resolved: ResolvedConfig) {
    this.#o = resolved;
    this.name = resolved.name;
    const config = resolved.config;
    const common = { logger: resolved.logger, clock: resolved.clock };
    if (config.tls instanceof TlsConfig) {
      this.#tls = config.tls;
      this.#ownsTls = false;
    } else {
      this.#tls = createTlsConfig({ name: resolved.name, logger: resolved.logger, clock: resolved.clock, ...config.tls });
      this.#ownsTls = true;
    }
    // Subscribe before any component publishes, so the first connection is counted.
    this.#metrics =
      config.metrics === undefined || config.metrics === false
        ? undefined
        : sharedCollector({ logger: resolved.logger, ...(config.metrics === true ? {} : config.metrics) });
    this.#tracer =
      config.tracing === undefined || config.tracing === false
        ? undefined
        : sharedTracer({ logger: resolved.logger, ...(config.tracing === true ? {} : config.tracing) });

    const factory = this.#backendFactory();
    const resilience = config.resilience === false ? undefined : (config.resilience ?? {});
    const routed: Record<string, { transport: Transport; priority: number; weight: number }> = {};
    for (const region of resolved.regions) {
      const transport = new RegionTransport(region, factory, () => resolved.clock.now());
      const guard =
        resilience === undefined || resilience.breaker === false
          ? undefined
          : withResilience(transport, {
              ...common,
              random: resolved.random,
              name: `${resolved.name}/${region.name}`,
              origin: region.origin,
              region: region.name,
              retry: false,
              ...(resilience.breaker === undefined ? {} : { breaker: resilience.breaker }),
            });
      this.#regions.set(region.name, { resolved: region, transport, guard });
      routed[region.name] = { transport: guard ?? transport, priority: region.priority, weight: region.weight };
    }
    this.#router = createGeoRouter({
      ...common,
      random: resolved.random,
      name: resolved.name,
      // Active probes keep unused regions measured; with one region there is nothing to compare.
      ...(resolved.single ? { probe: false } : {}),
      ...config.routing,
      regions: routed,
    });
    if (resilience === undefined) {
      this.#top = this.#router;
      this.#topStats = undefined;
    } else {
      const top = withResilience(this.#router, {
        ...common,
        random: resolved.random,
        name: resolved.name,
        breaker: false,
        ...(resilience.retry === undefined ? {} : { retry: resilience.retry }),
        ...(resilience.limiter === undefined ? {} : { limiter: resilience.limiter }),
        ...(resilience.bulkhead === undefined ? {} : { bulkhead: resilience.bulkhead }),
      });
      this.#top = top;
      this.#topStats = () => top.stats();
    }
  }

  #backendFactory(): BackendFactory {
    const o = this.#o;
    const config = o.config;
    return {
      choose: async (region) => {
        if (region.protocol === 'h1') return 'http/1.1';
        if (region.protocol === 'h2') return 'h2';
        // Cleartext has no ALPN; prior-knowledge h2c must be asked for with protocol: 'h2'.
        if (region.url.protocol === 'http:') return 'http/1.1';
        const probe = await this.#tls.probe(region.origin);
        return probe.alpn === 'h2' ? 'h2' : 'http/1.1';
      },
      create: (region, protocol): RegionBackend => {
        const common = {
          name: `${o.name}/${region.name}`,
          region: region.name,
          allowCleartext: o.allowCleartext,
          clock: o.clock,
          random: o.random,
          logger: o.logger,
        };
        if (protocol === 'h2') {
          const pool = createH2Multiplexer(region.origin, { ...config.http2, ...common, tls: this.#tls });
          return { protocol: 'h2', pool };
        }
        const pool = createHttpsPool(region.origin, { ...config.pool, ...common, tls: this.#tls });
        let scaler: AdaptiveScaler | undefined;
        if (config.scaling !== false) {
          scaler = createAdaptiveScaler(pool, {
            ...config.scaling,
            name: common.name,
            region: region.name,
            clock: o.clock,
            logger: o.logger,
            // No `latency` signal: the router's estimate includes this pool's own queueing, so
            // under a spike it rises exactly when the pool is too small and the congestion guard
            // would hold growth. Without it the scaler uses the connection hold time (Little's
            // law), which is the upstream's service time and excludes the queue.
          });
          scaler.start();
        }
        return { protocol: 'http/1.1', pool, scaler };
      },
    };
  }

  /** The Prometheus collector when `metrics` is on: `berth.metrics?.registry.metrics()` renders the exposition. */
  get metrics(): MetricsCollector | undefined {
    return this.#metrics;
  }

  /** The shared TLS configuration (one SecureContext for every connection this client makes). */
  get tls(): TlsConfig {
    return this.#tls;
  }

  /** Sends a request to the best allowed region; resolves when the response head arrives. */
  request(options: RequestOptions): Promise<ResponseData> {
    if (this.#state !== 'ready') {
      return Promise.reject(new BerthError('ERR_BERTH_CLOSED', `berth client ${this.name} is closed`));
    }
    return this.#top.request(options);
  }

  /**
   * Pre-warms every region: probes its protocol and opens its minimum connections. Resolves
   * when every region is warm; rejects with the first failure only if no region could be warmed.
   */
  async ready(): Promise<void> {
    const results = await Promise.allSettled([...this.#regions.values()].map((r) => r.transport.ready()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length === results.length && failed[0] !== undefined) throw failed[0].reason;
    for (const f of failed) this.#o.logger.warn('region failed to warm up', { error: String(f.reason) });
  }

  /**
   * Opens a WebSocket pool to `path` on the router's current region, over the shared TLS
   * configuration. When that region is ejected, the pool moves (make-before-break, channels
   * included) to the router's next choice. The client closes it on `close()`.
   */
  websocket(path: string, options: Omit<WsPoolOptions, 'tls'> = {}): BerthWebSocket {
    if (this.#state !== 'ready') throw new BerthError('ERR_BERTH_CLOSED', `berth client ${this.name} is closed`);
    if (!path.startsWith('/')) {
      throw new BerthError('ERR_BERTH_INVALID_REQUEST', `websocket path must start with "/", received ${JSON.stringify(path)}`);
    }
    const regionName = this.#router.currentRegion() ?? this.#o.regions[0]?.name;
    if (regionName === undefined || !this.#regions.has(regionName)) {
      throw new BerthError('ERR_BERTH_REGION_UNAVAILABLE', `no region for websocket ${path}`);
    }
    const open = (name: string): WsPool => {
      const region = this.#regions.get(name);
      if (region === undefined) throw new BerthError('ERR_BERTH_INTERNAL', `unknown region ${name}`);
      const url = new URL(path, region.resolved.origin);
      url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
      return createWsPool(url, {
        name: `${this.name}/${name}${path}`,
        region: name,
        allowCleartext: this.#o.allowCleartext,
        clock: this.#o.clock,
        random: this.#o.random,
        logger: this.#o.logger,
        ...this.#o.config.ws,
        ...options,
        tls: this.#tls,
      });
    };
    const socket = new BerthWebSocket(path, regionName, open, this.#o.logger);
    this.#sockets.add(socket);
    if (this.#sockets.size === 1) subscribe(GEO_CHANNELS.ejected, this.#onEjected);
    const close = socket.close.bind(socket);
    socket.close = () => {
      this.#forget(socket);
      return close();
    };
    return socket;
  }

  // Moves the WebSockets of an ejected region to the router's next choice.
  readonly #onEjected = (message: unknown): void => {
    const ejected = message as GeoEjectedMessage;
    if (ejected.component.name !== this.name) return;
    for (const socket of this.#sockets) {
      if (socket.region !== ejected.regionName) continue;
      const stats = this.#router.stats();
      const next =
        [this.#router.currentRegion(), ...Object.keys(stats.regions)].find(
          (name) => name !== undefined && name !== ejected.regionName && stats.regions[name]?.health === 'healthy',
        ) ?? undefined;
      if (next !== undefined) void socket.moveTo(next).catch(() => undefined);
    }
  };

  #forget(socket: BerthWebSocket): void {
    if (this.#sockets.delete(socket) && this.#sockets.size === 0) unsubscribe(GEO_CHANNELS.ejected, this.#onEjected);
  }

  /** One synchronous snapshot of everything. */
  stats(): BerthStats {
    const regions: Record<string, RegionStatsNode> = {};
    for (const [name, region] of this.#regions) {
      const backend = region.transport.backend;
      regions[name] = {
        origin: region.resolved.origin,
        protocol: backend?.protocol,
        transport: region.transport.stats(),
        ...(backend?.protocol === 'http/1.1' ? { connections: backend.pool.connections() } : {}),
        ...(backend?.protocol === 'http/1.1' && backend.scaler !== undefined ? { scaler: backend.scaler.history() } : {}),
        ...(region.guard === undefined ? {} : { guard: region.guard.stats() }),
      };
    }
    const resilience = this.#topStats?.();
    return {
      name: this.name,
      state: this.#state,
      regions,
      router: this.#router.stats(),
      ...(resilience === undefined ? {} : { resilience }),
      tls: this.#tls.stats(),
      websockets: this.#sockets.size,
    };
  }

  /** The router's current transport stats (for code that treats the client as a Transport). */
  transportStats(): TransportStats {
    return this.#top.stats();
  }

  /**
   * Graceful close: refuses new work, lets in-flight requests finish up to the deadline, closes
   * every pool, socket, scaler and subscription, and the TLS configuration if it made it.
   */
  close(options?: CloseOptions): Promise<void> {
    this.#closed ??= (async () => {
      this.#state = 'closing';
      await Promise.allSettled([...this.#sockets].map((s) => s.close()));
      await this.#top.close(options);
      if (this.#ownsTls) this.#tls.close();
      this.#metrics?.stop();
      this.#tracer?.stop();
      this.#state = 'closed';
    })();
    return this.#closed;
  }
}

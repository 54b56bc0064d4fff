import { ConfigError, OptionChecker, silentLogger, systemClock, systemRandom } from '@berth/core-types';
import type { Clock, ConfigProblem, Logger, Random } from '@berth/core-types';
import type { ScalerOptions } from '@berth/adaptive-scaler';
import type { GeoRouterOptions } from '@berth/geo-router';
import type { H2MultiplexerOptions } from '@berth/h2-multiplexer';
import type { HttpsPoolOptions } from '@berth/https-pool';
import type { CollectMetricsOptions, TraceRequestsOptions } from '@berth/metrics';
import type { BulkheadOptions, CircuitBreakerOptions, RateLimiterOptions, RetryOptions } from '@berth/resilience';
import type { TlsConfig, TlsConfigOptions } from '@berth/tls-config';
import type { WsPoolOptions } from '@berth/ws-pool';

/** How a region's origin is spoken to: HTTP/1.1, HTTP/2, or whatever ALPN negotiates. */
export type ProtocolChoice = 'h1' | 'h2' | 'auto';

/** One region of an upstream. */
export interface RegionOptions {
  /** `https://host[:port]` (or `http://` with `allowCleartext`). */
  readonly origin: string;
  /** Envoy-style priority level: 0 is preferred, higher levels take traffic when lower ones are unhealthy. Default 0. */
  readonly priority?: number;
  /** Relative weight within its priority level. Default 1. */
  readonly weight?: number;
  /** Overrides the top-level `protocol` for this region. */
  readonly protocol?: ProtocolChoice;
}

/** Options the facade fills in itself (TLS, names, clock …) are left out of each section. */
type Owned = 'tls' | 'name' | 'region' | 'clock' | 'random' | 'logger' | 'allowCleartext';

/** Retry, breaker, limiter and bulkhead for the whole client; `false` turns a policy off. */
export interface BerthResilienceOptions {
  /** Retries above the router (backoff with full jitter, budget). Default on. */
  readonly retry?: RetryOptions | false;
  /** Circuit breaker per region, below the router (so an open region fails over). Default on. */
  readonly breaker?: CircuitBreakerOptions | false;
  /** Token-bucket rate limit above the router. Default off. */
  readonly limiter?: RateLimiterOptions | false;
  /** Concurrency limit above the router. Default off. */
  readonly bulkhead?: BulkheadOptions | false;
}

/** Configuration of {@link createBerth}. Every section is optional; defaults come from each package. */
export interface BerthConfig {
  /** Name used in stats and metric labels. Default: the origin, or `berth` with regions. */
  readonly name?: string;
  /** A single upstream origin. Give this or `regions`, not both. */
  readonly origin?: string;
  /** Several regions of one upstream, by name. Give this or `origin`, not both. */
  readonly regions?: Readonly<Record<string, RegionOptions>>;
  /** Protocol for every region unless the region says otherwise. Default `auto` (ALPN probe, cached). */
  readonly protocol?: ProtocolChoice;
  /** Allows `http://` origins (tests, sidecars). Default false. */
  readonly allowCleartext?: boolean;
  /** TLS options, or an existing `TlsConfig` to share with other clients. */
  readonly tls?: TlsConfigOptions | TlsConfig;
  /** HTTP/1.1 pool options (per region). */
  readonly pool?: Omit<HttpsPoolOptions, Owned>;
  /** HTTP/2 options (per region). */
  readonly http2?: Omit<H2MultiplexerOptions, Owned>;
  /** Defaults for `websocket()`. */
  readonly ws?: Omit<WsPoolOptions, Owned>;
  /** Region choice, failover and hedging. */
  readonly routing?: Omit<GeoRouterOptions, 'regions' | 'name' | 'clock' | 'random' | 'logger'>;
  /** Adaptive sizing of each HTTP/1.1 pool; `false` keeps pools at their configured size. Default on. */
  readonly scaling?: Omit<ScalerOptions, 'name' | 'region' | 'latency' | 'clock' | 'logger'> | false;
  /** Retry, breaker, rate limit, bulkhead; `false` turns all of them off. */
  readonly resilience?: BerthResilienceOptions | false;
  /** Prometheus metrics from Berth's events (`true` for the defaults). Default off. */
  readonly metrics?: CollectMetricsOptions | boolean;
  /** OpenTelemetry client spans and W3C trace context (`true` for the defaults). Default off. */
  readonly tracing?: TraceRequestsOptions | boolean;
  /** Logger for every component. Default silent. */
  readonly logger?: Logger;
  /** Clock for every component (tests). Default the process clock. */
  readonly clock?: Clock;
  /** Randomness for every component (tests). Default `Math.random`. */
  readonly random?: Random;
}

/** A region after validation. */
export interface ResolvedRegion {
  readonly name: string;
  readonly origin: string;
  readonly url: URL;
  readonly priority: number;
  readonly weight: number;
  readonly protocol: ProtocolChoice;
}

/** The configuration after validation. */
export interface ResolvedConfig {
  readonly name: string;
  readonly regions: readonly ResolvedRegion[];
  readonly single: boolean;
  readonly allowCleartext: boolean;
  readonly config: BerthConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly random: Random;
}

/** The region name used when the config gives a single `origin`. */
export const DEFAULT_REGION = 'default';

const SECTIONS = ['tls', 'pool', 'http2', 'ws', 'routing', 'scaling', 'resilience', 'metrics', 'tracing'] as const;

/**
 * A section validator: calls one package's own option resolver and returns its problems.
 * The facade re-homes them under the section's path, so one `ERR_BERTH_CONFIG` lists every
 * problem across all sections.
 */
export type SectionCheck = (config: BerthConfig, region: ResolvedRegion | undefined) => void;

/** Runs `check`, turning a thrown `ConfigError` into problems under `prefix`. */
export function collectProblems(prefix: string, check: () => void): ConfigProblem[] {
  try {
    check();
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => ({ ...p, path: `${prefix}.${p.path}` }));
    return [{ path: prefix, expected: 'valid options', received: error instanceof Error ? error.message : String(error) }];
  }
}

function parseOrigin(c: OptionChecker, path: string, value: unknown, allowCleartext: boolean): URL | undefined {
  if (typeof value !== 'string') {
    c.problem(path, 'an origin string such as "https://api.example.com"', value);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    c.problem(path, 'an absolute URL such as "https://api.example.com"', value);
    return undefined;
  }
  const scheme = allowCleartext ? '"https:" (or "http:", allowCleartext is on)' : '"https:" (set allowCleartext for "http:")';
  if (url.protocol !== 'https:' && !(allowCleartext && url.protocol === 'http:')) {
    c.problem(path, `an origin with scheme ${scheme}`, value);
    return undefined;
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' || url.username !== '') {
    c.problem(path, 'an origin only (scheme, host, port; no path, query or credentials)', value);
    return undefined;
  }
  return url;
}

/**
 * Validates the facade's own fields and, through `sectionChecks`, every package section;
 * throws one `ERR_BERTH_CONFIG` listing every problem found.
 */
export function resolveConfig(config: BerthConfig, sectionChecks: Readonly<Record<string, SectionCheck>>): ResolvedConfig {
  const c = new OptionChecker('berth');
  if (typeof config !== 'object' || config === null) {
    c.problem('(config)', 'an object', config);
    c.done();
  }
  const allowCleartext = c.boolean('allowCleartext', config.allowCleartext, false);
  const protocol = c.oneOf('protocol', config.protocol, ['h1', 'h2', 'auto'] as const, 'auto');
  const name = c.string('name', config.name, undefined);
  for (const section of SECTIONS) {
    const value: unknown = config[section];
    const ok = value === undefined || typeof value === 'boolean' || (typeof value === 'object' && value !== null);
    if (!ok) c.problem(section, 'an options object', value);
  }
  const regions: ResolvedRegion[] = [];
  if (config.origin !== undefined && config.regions !== undefined) {
    c.problem('origin', 'either `origin` or `regions`, not both', config.origin);
  } else if (config.origin === undefined && config.regions === undefined) {
    c.problem('origin', 'an origin, or `regions`', undefined);
  } else if (config.origin !== undefined) {
    const url = parseOrigin(c, 'origin', config.origin, allowCleartext);
    if (url !== undefined) {
      regions.push({ name: DEFAULT_REGION, origin: url.origin, url, priority: 0, weight: 1, protocol });
    }
  } else if (typeof config.regions !== 'object' || config.regions === null || Object.keys(config.regions).length === 0) {
    c.problem('regions', 'a non-empty map of region name to { origin }', config.regions);
  } else {
    for (const [regionName, region] of Object.entries(config.regions)) {
      const path = `regions.${regionName}`;
      if (typeof region !== 'object' || (region as unknown) === null) {
        c.problem(path, 'an object with an origin', region);
        continue;
      }
      const url = parseOrigin(c, `${path}.origin`, region.origin, allowCleartext);
      const priority = c.number(`${path}.priority`, region.priority, { min: 0, max: 100, integer: true, default: 0 });
      const weight = c.number(`${path}.weight`, region.weight, { min: 0, exclusiveMin: true, default: 1 });
      const regionProtocol = c.oneOf(`${path}.protocol`, region.protocol, ['h1', 'h2', 'auto'] as const, protocol);
      if (url !== undefined) {
        regions.push({ name: regionName, origin: url.origin, url, priority, weight, protocol: regionProtocol });
      }
    }
  }
  const problems: ConfigProblem[] = [...c.problems];
  for (const [section, check] of Object.entries(sectionChecks)) {
    if (regions.length === 0) {
      problems.push(...collectProblems(section, () => check(config, undefined)));
      continue;
    }
    // Per-region sections are checked against the first region: options do not vary by region.
    problems.push(...collectProblems(section, () => check(config, regions[0])));
  }
  if (problems.length > 0) throw new ConfigError('berth', problems);
  const single = config.origin !== undefined;
  return {
    name: name ?? (single ? (regions[0]?.origin ?? 'berth') : 'berth'),
    regions,
    single,
    allowCleartext,
    config,
    logger: config.logger ?? silentLogger,
    clock: config.clock ?? systemClock,
    random: config.random ?? systemRandom,
  };
}

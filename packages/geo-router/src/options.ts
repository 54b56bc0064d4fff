import { OptionChecker, silentLogger, systemClock, systemRandom } from '@berth/core-types';
import type { Clock, Logger, Random, RequestHeaders, Transport } from '@berth/core-types';

/** How the router picks a region among the healthy ones of the chosen priority level. */
export type RoutingStrategy = 'lowest-latency' | 'p2c' | 'ordered';

/** One region the router may send requests to. */
export interface RegionConfig {
  /** The transport that serves the region (an https-pool, an h2-multiplexer, a resilience wrapper …). */
  readonly transport: Transport;
  /**
   * Priority level, 0 the most preferred (Envoy's priority levels). Lower levels take traffic
   * as higher ones lose health, by Envoy's spill formula with `overProvisioningFactor`. Default 0.
   */
  readonly priority?: number;
  /** Relative capacity: `p2c` divides a region's load by it. A number > 0. Default 1. */
  readonly weight?: number;
}

/** Active latency and health probes: one request per region every interval, so unused regions stay measured. */
export interface ProbeOptions {
  /** Path probed. Default `/`. */
  readonly path?: string;
  /** Method of the probe. Default `GET`. */
  readonly method?: 'GET' | 'HEAD' | 'OPTIONS';
  /** Extra headers of the probe request. Default none. */
  readonly headers?: RequestHeaders;
  /** Milliseconds between the end of a probe and the next one to the same region. Default 5000. */
  readonly intervalMs?: number;
  /** Milliseconds a probe may take before it counts as a failure. Default 2000. */
  readonly timeoutMs?: number;
  /** Each interval is spread by ± this percentage (0–100) so regions are not probed in lockstep. Default 10. */
  readonly jitterPct?: number;
  /** Milliseconds before the first probe of each region (jittered too). Default 0: probe at once to replace the prior. */
  readonly initialDelayMs?: number;
}

/** Outlier detection (Envoy `outlier_detection.proto`, gRFC A50), per region. */
export interface OutlierOptions {
  /** Consecutive failures (connect errors, resets, 5xx, failed probes) that eject a region. Default 5 (Envoy `consecutive_5xx`). */
  readonly consecutiveFailures?: number;
  /** Milliseconds of one success-rate window; the sweep also decays the ejection multiplier. Default 10 000 (Envoy `interval`). */
  readonly intervalMs?: number;
  /** First ejection time in milliseconds; the n-th lasts n × this. Default 30 000 (Envoy `base_ejection_time`). */
  readonly baseEjectionMs?: number;
  /** Longest ejection in milliseconds. Default 300 000 (Envoy `max_ejection_time`). */
  readonly maxEjectionMs?: number;
  /** Ejection time is spread by + up to this percentage (0–100) so regions do not come back in lockstep. Default 10. */
  readonly ejectionJitterPct?: number;
  /** Most regions ejected at once, as a percentage of all; at least one may always be ejected, the last healthy one never. Default 100. */
  readonly maxEjectionPct?: number;
  /** Requests a region needs in one window before its success rate is judged. Default 50 (Envoy `failure_percentage_minimum_request_volume`). */
  readonly minRequests?: number;
  /** Eject when a region's success rate is this many points (0–100) below the pooled rate of the other regions. Default 10. */
  readonly successRateMarginPct?: number;
  /** Eject whatever the others do when a region's failure percentage (0–100) reaches this. Default 85 (Envoy `failure_percentage_threshold`). */
  readonly failurePct?: number;
}

/** Hedging ("The Tail at Scale", Dean & Barroso, CACM 2013): a copy to the next region when the first is slow. */
export interface HedgeOptions {
  /** Milliseconds after which the copy is sent. Default: the chosen region's observed p95 time to headers. */
  readonly delayMs?: number;
  /** Lower bound of the p95-based delay, in milliseconds. Default 5. */
  readonly minDelayMs?: number;
  /** Extra requests allowed, as a percentage (0–100) of requests sent. Default 5. */
  readonly budgetPct?: number;
}

/** Options of {@link createGeoRouter}. */
export interface GeoRouterOptions {
  /** The regions, by name. At least one. */
  readonly regions: Readonly<Record<string, RegionConfig>>;
  /** Name in stats and events. Default `geo-router`. */
  readonly name?: string;
  /** How a region is chosen within a priority level. Default `lowest-latency`. */
  readonly strategy?: RoutingStrategy;
  /** Region that takes traffic only when no other allowed region is healthy. Default none. */
  readonly fallbackRegion?: string;
  /** `lowest-latency`: another region must be better by this percentage (≥ 0) to take over. Default 20. */
  readonly switchMarginPct?: number;
  /** `lowest-latency`: … and stay better for this many milliseconds. Default 3000. */
  readonly switchAfterMs?: number;
  /** Peak-EWMA decay time τ in milliseconds (Finagle, tower). Default 10 000. */
  readonly decayMs?: number;
  /** Prior latency estimate of a region with no sample yet, in milliseconds. Default 30 (Linkerd's `default_rtt`). */
  readonly defaultRttMs?: number;
  /** A failed attempt is recorded as a latency peak of this factor (≥ 1) × the current estimate (Linkerd's failure penalty). Default 2. */
  readonly failurePenalty?: number;
  /** Envoy's over-provisioning factor for priority spill. A number ≥ 1. Default 1.4. */
  readonly overProvisioningFactor?: number;
  /** Attempts per request over distinct regions, the first included. Default 3. */
  readonly maxAttempts?: number;
  /** Milliseconds an attempt may wait for response headers before a replayable request moves on to another region. Default: no router limit (the transport's apply). */
  readonly attemptTimeoutMs?: number;
  /**
   * Milliseconds a region has, from the router's creation, to answer once (a request or a
   * probe); a region tried but still silent then is ejected (`init-timeout`) and its waiting requests move
   * on, as grpc-go's priority balancer moves on after `DefaultPriorityInitTimeout`. Default 10 000.
   */
  readonly initTimeoutMs?: number;
  /** Active probes, or `false` for none. Default: on with the defaults of {@link ProbeOptions}. */
  readonly probe?: ProbeOptions | false;
  /** Outlier detection settings. */
  readonly outlier?: OutlierOptions;
  /** Hedging of replayable requests, or `false`. Default `false` (opt-in). */
  readonly hedge?: HedgeOptions | false;
  /** Time source. Default the process clock. */
  readonly clock?: Clock;
  /** Randomness for P2C, spill draws and jitter. Default `Math.random`. */
  readonly random?: Random;
  /** Logger. Default silent. */
  readonly logger?: Logger;
}

/** @internal Options with every default applied. */
export interface ResolvedRegion {
  readonly name: string;
  readonly transport: Transport;
  readonly priority: number;
  readonly weight: number;
}

/** @internal */
export interface ResolvedProbe {
  readonly path: string;
  readonly method: 'GET' | 'HEAD' | 'OPTIONS';
  readonly headers: RequestHeaders | undefined;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly jitterPct: number;
  readonly initialDelayMs: number;
}

/** @internal */
export interface ResolvedOutlier {
  readonly consecutiveFailures: number;
  readonly intervalMs: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly ejectionJitterPct: number;
  readonly maxEjectionPct: number;
  readonly minRequests: number;
  readonly successRateMarginPct: number;
  readonly failurePct: number;
}

/** @internal */
export interface ResolvedHedge {
  readonly delayMs: number | undefined;
  readonly minDelayMs: number;
  readonly budgetPct: number;
}

/** @internal */
export interface ResolvedOptions {
  readonly name: string;
  readonly regions: readonly ResolvedRegion[];
  readonly strategy: RoutingStrategy;
  readonly fallbackRegion: string | undefined;
  readonly switchMarginPct: number;
  readonly switchAfterMs: number;
  readonly decayMs: number;
  readonly defaultRttMs: number;
  readonly failurePenalty: number;
  readonly overProvisioningFactor: number;
  readonly maxAttempts: number;
  readonly attemptTimeoutMs: number | undefined;
  readonly initTimeoutMs: number;
  readonly probe: ResolvedProbe | undefined;
  readonly outlier: ResolvedOutlier;
  readonly hedge: ResolvedHedge | undefined;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
}

export const DEFAULT_SWITCH_MARGIN_PCT = 20; // ANCHORS §5: switch only when better by ≥ 20 %
export const DEFAULT_SWITCH_AFTER_MS = 3000; // longer than a probe interval's decay swing (see selector.ts)
export const DEFAULT_DECAY_MS = 10_000; // τ of Finagle's PeakEwma and tower's peak_ewma
export const DEFAULT_RTT_MS = 30; // Linkerd overrides tower's 1 s prior with 30 ms
export const DEFAULT_FAILURE_PENALTY = 2;
export const DEFAULT_OVER_PROVISIONING_FACTOR = 1.4; // Envoy priority.rst
export const DEFAULT_MAX_ATTEMPTS = 3; // Envoy max_retries 3 → up to 3 regions tried
export const DEFAULT_INIT_TIMEOUT_MS = 10_000; // grpc-go DefaultPriorityInitTimeout
export const DEFAULT_PROBE_INTERVAL_MS = 5000; // fresher than Route 53's 10 s fast checks
export const DEFAULT_PROBE_TIMEOUT_MS = 2000;
export const DEFAULT_JITTER_PCT = 10;
export const DEFAULT_CONSECUTIVE_FAILURES = 5; // Envoy consecutive_5xx
export const DEFAULT_OUTLIER_INTERVAL_MS = 10_000; // Envoy interval
export const DEFAULT_BASE_EJECTION_MS = 30_000; // Envoy base_ejection_time
export const DEFAULT_MAX_EJECTION_MS = 300_000; // Envoy max_ejection_time
export const DEFAULT_MIN_REQUESTS = 50; // Envoy failure_percentage_minimum_request_volume
export const DEFAULT_SUCCESS_RATE_MARGIN_PCT = 10;
export const DEFAULT_FAILURE_PCT = 85; // Envoy failure_percentage_threshold
export const DEFAULT_HEDGE_BUDGET_PCT = 5; // The Tail at Scale: hedging at p95 costs ≈ 5 % more requests
export const DEFAULT_HEDGE_MIN_DELAY_MS = 5;

const COMPONENT = 'geo-router';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTransport(value: unknown): value is Transport {
  return (
    isObject(value) &&
    typeof value['request'] === 'function' &&
    typeof value['stats'] === 'function' &&
    typeof value['close'] === 'function'
  );
}

/** Validates `input` and fills every default; throws one `ERR_BERTH_CONFIG` listing every problem. */
export function resolveOptions(input: GeoRouterOptions): ResolvedOptions {
  const c = new OptionChecker(COMPONENT);
  const raw = input as unknown;
  const o: Record<string, unknown> = isObject(raw) ? raw : {};
  if (!isObject(raw)) c.problem('options', 'an object', raw);

  const regions: ResolvedRegion[] = [];
  const regionMap = o['regions'];
  if (!isObject(regionMap) || Object.keys(regionMap).length === 0) {
    c.problem('regions', 'an object with at least one region', regionMap);
  } else {
    for (const [name, value] of Object.entries(regionMap)) {
      const path = `regions.${name}`;
      if (!isObject(value)) {
        c.problem(path, 'an object { transport, priority?, weight? }', value);
        continue;
      }
      const transport = value['transport'];
      c.expect(isTransport(transport), `${path}.transport`, 'a Transport (request, stats, close)', transport);
      const priority = c.number(`${path}.priority`, value['priority'], { min: 0, max: 1000, integer: true, default: 0 });
      const weight = c.number(`${path}.weight`, value['weight'], { min: 0, exclusiveMin: true, default: 1 });
      if (isTransport(transport)) regions.push({ name, transport, priority, weight });
    }
  }
  const names = new Set(regions.map((r) => r.name));

  const fallbackRegion = c.string('fallbackRegion', o['fallbackRegion'], undefined);
  if (fallbackRegion !== undefined && isObject(regionMap)) {
    c.expect(Object.hasOwn(regionMap, fallbackRegion), 'fallbackRegion', `one of the regions (${[...names].join(', ')})`, fallbackRegion);
  }
  if (fallbackRegion !== undefined && regions.length === 1 && names.has(fallbackRegion)) {
    c.problem('fallbackRegion', 'a region other than the only one', fallbackRegion);
  }

  const probeInput = o['probe'];
  let probe: ResolvedProbe | undefined;
  if (probeInput !== false) {
    const p: Record<string, unknown> = isObject(probeInput) ? probeInput : {};
    if (probeInput !== undefined && !isObject(probeInput)) c.problem('probe', 'an object or false', probeInput);
    const headers = p['headers'];
    if (headers !== undefined) c.expect(isObject(headers), 'probe.headers', 'an object of header values', headers);
    probe = {
      path: c.string('probe.path', p['path'], '/', { regex: /^\//, expected: 'a path starting with "/"' }),
      method: c.oneOf('probe.method', p['method'], ['GET', 'HEAD', 'OPTIONS'] as const, 'GET'),
      headers: isObject(headers) ? (headers as RequestHeaders) : undefined,
      intervalMs: c.number('probe.intervalMs', p['intervalMs'], { min: 10, default: DEFAULT_PROBE_INTERVAL_MS }),
      timeoutMs: c.number('probe.timeoutMs', p['timeoutMs'], { min: 1, default: DEFAULT_PROBE_TIMEOUT_MS }),
      jitterPct: c.number('probe.jitterPct', p['jitterPct'], { min: 0, max: 100, default: DEFAULT_JITTER_PCT }),
      initialDelayMs: c.number('probe.initialDelayMs', p['initialDelayMs'], { min: 0, default: 0 }),
    };
  }

  const outlierInput = o['outlier'];
  if (outlierInput !== undefined && !isObject(outlierInput)) c.problem('outlier', 'an object', outlierInput);
  const q: Record<string, unknown> = isObject(outlierInput) ? outlierInput : {};
  const outlier: ResolvedOutlier = {
    consecutiveFailures: c.number('outlier.consecutiveFailures', q['consecutiveFailures'], { min: 1, integer: true, default: DEFAULT_CONSECUTIVE_FAILURES }),
    intervalMs: c.number('outlier.intervalMs', q['intervalMs'], { min: 10, default: DEFAULT_OUTLIER_INTERVAL_MS }),
    baseEjectionMs: c.number('outlier.baseEjectionMs', q['baseEjectionMs'], { min: 1, default: DEFAULT_BASE_EJECTION_MS }),
    maxEjectionMs: c.number('outlier.maxEjectionMs', q['maxEjectionMs'], { min: 1, default: DEFAULT_MAX_EJECTION_MS }),
    ejectionJitterPct: c.number('outlier.ejectionJitterPct', q['ejectionJitterPct'], { min: 0, max: 100, default: DEFAULT_JITTER_PCT }),
    maxEjectionPct: c.number('outlier.maxEjectionPct', q['maxEjectionPct'], { min: 0, max: 100, default: 100 }),
    minRequests: c.number('outlier.minRequests', q['minRequests'], { min: 1, integer: true, default: DEFAULT_MIN_REQUESTS }),
    successRateMarginPct: c.number('outlier.successRateMarginPct', q['successRateMarginPct'], { min: 0, max: 100, default: DEFAULT_SUCCESS_RATE_MARGIN_PCT }),
    failurePct: c.number('outlier.failurePct', q['failurePct'], { min: 0, max: 100, exclusiveMin: true, default: DEFAULT_FAILURE_PCT }),
  };
  if (outlier.maxEjectionMs < outlier.baseEjectionMs) {
    c.problem('outlier.maxEjectionMs', `a number >= outlier.baseEjectionMs (${outlier.baseEjectionMs})`, outlier.maxEjectionMs);
  }

  const hedgeInput = o['hedge'];
  let hedge: ResolvedHedge | undefined;
  if (hedgeInput !== undefined && hedgeInput !== false) {
    const h: Record<string, unknown> = isObject(hedgeInput) ? hedgeInput : {};
    if (!isObject(hedgeInput)) c.problem('hedge', 'an object or false', hedgeInput);
    hedge = {
      delayMs: c.number('hedge.delayMs', h['delayMs'], { min: 0, default: undefined }),
      minDelayMs: c.number('hedge.minDelayMs', h['minDelayMs'], { min: 0, default: DEFAULT_HEDGE_MIN_DELAY_MS }),
      budgetPct: c.number('hedge.budgetPct', h['budgetPct'], { min: 0, max: 100, exclusiveMin: true, default: DEFAULT_HEDGE_BUDGET_PCT }),
    };
  }

  const clock = o['clock'];
  const random = o['random'];
  const logger = o['logger'];
  if (clock !== undefined) c.expect(isObject(clock) && typeof clock['now'] === 'function' && typeof clock['setTimeout'] === 'function', 'clock', 'a Clock', clock);
  if (random !== undefined) c.expect(isObject(random) && typeof random['next'] === 'function', 'random', 'a Random ({ next() })', random);
  if (logger !== undefined) c.expect(isObject(logger) && typeof logger['warn'] === 'function', 'logger', 'a Logger', logger);

  const resolved: ResolvedOptions = {
    name: c.string('name', o['name'], COMPONENT),
    regions,
    strategy: c.oneOf('strategy', o['strategy'], ['lowest-latency', 'p2c', 'ordered'] as const, 'lowest-latency'),
    fallbackRegion,
    switchMarginPct: c.number('switchMarginPct', o['switchMarginPct'], { min: 0, max: 1000, default: DEFAULT_SWITCH_MARGIN_PCT }),
    switchAfterMs: c.number('switchAfterMs', o['switchAfterMs'], { min: 0, default: DEFAULT_SWITCH_AFTER_MS }),
    decayMs: c.number('decayMs', o['decayMs'], { min: 0, exclusiveMin: true, default: DEFAULT_DECAY_MS }),
    defaultRttMs: c.number('defaultRttMs', o['defaultRttMs'], { min: 0, exclusiveMin: true, default: DEFAULT_RTT_MS }),
    failurePenalty: c.number('failurePenalty', o['failurePenalty'], { min: 1, default: DEFAULT_FAILURE_PENALTY }),
    overProvisioningFactor: c.number('overProvisioningFactor', o['overProvisioningFactor'], { min: 1, default: DEFAULT_OVER_PROVISIONING_FACTOR }),
    maxAttempts: c.number('maxAttempts', o['maxAttempts'], { min: 1, max: 100, integer: true, default: DEFAULT_MAX_ATTEMPTS }),
    attemptTimeoutMs: c.number('attemptTimeoutMs', o['attemptTimeoutMs'], { min: 0, exclusiveMin: true, default: undefined }),
    initTimeoutMs: c.number('initTimeoutMs', o['initTimeoutMs'], { min: 0, exclusiveMin: true, default: DEFAULT_INIT_TIMEOUT_MS }),
    probe,
    outlier,
    hedge,
    clock: isObject(clock) ? (clock as unknown as Clock) : systemClock,
    random: isObject(random) ? (random as unknown as Random) : systemRandom,
    logger: isObject(logger) ? (logger as unknown as Logger) : silentLogger,
  };
  c.done();
  return resolved;
}

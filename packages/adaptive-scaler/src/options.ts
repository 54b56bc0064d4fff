import { OptionChecker, silentLogger, systemClock } from '@berth/core-types';
import type { Clock, Logger, PoolBounds } from '@berth/core-types';

/** Decision period: the seed's rule, and close to HPA's 15 s sync period. */
export const DEFAULT_INTERVAL_MS = 10_000;
/** Below this a period sees too few acquires for an average wait to mean anything. */
export const MIN_INTERVAL_MS = 100;
/** Pool snapshots per decision period: utilization is averaged over them, not read once. */
export const DEFAULT_SAMPLES_PER_INTERVAL = 10;
/** The seed's lower bound, used when the pool's own bounds allow it. */
export const DEFAULT_MIN = 10;
/** The seed's upper bound, used when the pool's own bounds allow it. */
export const DEFAULT_MAX = 500;
/** The seed's growth step (×1.2). */
export const DEFAULT_UP_FACTOR = 1.2;
/** The seed's shrink step (×0.8). */
export const DEFAULT_DOWN_FACTOR = 0.8;
/** The seed's trigger: average acquire wait above 100 ms means the pool is too small. */
export const DEFAULT_WAIT_THRESHOLD_MS = 100;
/** The seed's trigger: busy / target below 30 % means the pool is too large. */
export const DEFAULT_LOW_UTILIZATION = 0.3;
/** Kubernetes HPA's default tolerance: no action while the metric is within 10 % of its threshold. */
export const DEFAULT_TOLERANCE = 0.1;
/** Kubernetes HPA's default scale-down stabilization window (5 minutes). */
export const DEFAULT_DOWN_STABILIZATION_MS = 300_000;
/** Netflix Gradient2's default tolerance: latency may reach 1.5× its long-run average before it counts as congestion. */
export const DEFAULT_CONGESTION_TOLERANCE = 1.5;
/** Span of the long latency average in decision periods (30 × 10 s = 5 minutes). */
export const DEFAULT_LONG_WINDOW = 30;
/** Little's-law headroom above the mean number of connections in use (covers the spread of in-use around its mean). */
export const DEFAULT_LITTLE_HEADROOM = 1.25;
/** A growth step must deliver at least half of its proportional throughput gain, or it is undone. */
export const DEFAULT_MIN_STEP_GAIN = 0.5;
/** How long a size found to be the upstream's ceiling blocks growth before one probe step is allowed. */
export const DEFAULT_SATURATION_HOLD_MS = 300_000;
/** Decisions kept for {@link AdaptiveScaler.history} (about 17 minutes at the default period). */
export const DEFAULT_HISTORY_SIZE = 100;

/**
 * Options of {@link createAdaptiveScaler}. Every field is optional; the defaults are the seed's
 * rules (10 s period, ×1.2 up above 100 ms acquire wait, ×0.8 down below 30 % utilization,
 * bounds 10–500) plus the guards described in the README.
 */
export interface ScalerOptions {
  /** Name used in events (metric label `name`). Default: the pool's `stats().name`. */
  readonly name?: string;
  /** Region label for events, when the pool serves one region. Default: none. */
  readonly region?: string;
  /** Milliseconds between decisions. At least 100. Default 10 000. */
  readonly intervalMs?: number;
  /** Pool snapshots per decision (integer 1–100); the sampling period is `intervalMs / samplesPerInterval`. Default 10. */
  readonly samplesPerInterval?: number;
  /** Smallest size the scaler sets (integer, within the pool's `bounds`). Default 10, raised to `bounds.min` / lowered to `bounds.max` if needed. */
  readonly min?: number;
  /** Largest size the scaler sets (integer, within the pool's `bounds`, ≥ `min`). Default 500, lowered to `bounds.max` if needed. */
  readonly max?: number;
  /** Growth factor per step, > 1 and ≤ 10; a step always adds at least one connection. Default 1.2. */
  readonly upFactor?: number;
  /** Shrink factor per step, > 0 and < 1; a step always removes at least one connection. Default 0.8. */
  readonly downFactor?: number;
  /** Average acquire wait (ms, > 0) above which the pool is too small. Default 100. */
  readonly waitThresholdMs?: number;
  /** Utilization (busy / target, in (0, 1)) below which the pool is too large. Default 0.3. */
  readonly lowUtilization?: number;
  /**
   * Dead band around both thresholds, in [0, 1): grow only when the wait exceeds
   * `waitThresholdMs × (1 + tolerance)`, shrink only when utilization is below
   * `lowUtilization × (1 − tolerance)` (Kubernetes HPA). Default 0.1.
   */
  readonly tolerance?: number;
  /** Minimum milliseconds between a resize and the next growth step (≥ 0). Default: `intervalMs` (one step per period). */
  readonly upCooldownMs?: number;
  /**
   * Milliseconds utilization must stay below `lowUtilization` (with no waiter) before the first
   * shrink step, as HPA's scale-down stabilization (≥ 0). Default 300 000.
   */
  readonly downStabilizationMs?: number;
  /**
   * Congestion guard (Gradient2): growth is held while the period's latency exceeds
   * `congestionTolerance ×` its long-run average. > 1. Default 1.5.
   */
  readonly congestionTolerance?: number;
  /** Span of the long-run latency average, in decision periods (integer 2–10 000). Default 30. */
  readonly longWindow?: number;
  /** Headroom of the Little's-law target `arrival rate × latency × headroom`, ≥ 1. Default 1.25. */
  readonly littleHeadroom?: number;
  /**
   * Fraction (in [0, 1]) of its proportional throughput gain a growth step must deliver while
   * callers still wait; a step that delivers less while latency rose instead is undone and the
   * size before it becomes a ceiling for `saturationHoldMs`. Default 0.5.
   */
  readonly minStepGain?: number;
  /** Milliseconds a discovered upstream ceiling blocks growth before one probe step (≥ 0). Default 300 000. */
  readonly saturationHoldMs?: number;
  /** Decisions kept for `history()` (integer 1–10 000). Default 100. */
  readonly historySize?: number;
  /**
   * Upstream latency in milliseconds, read at every sample: the geo-router's estimate, or the
   * pool's own. `undefined` (or leaving the option out) falls back to the pool's mean hold time
   * derived from its stats by Little's law (mean busy / throughput).
   */
  readonly latency?: () => number | undefined;
  /** Time source. Default: the process clock. */
  readonly clock?: Clock;
  /** Where resize failures are logged (warn) and decisions traced (debug). Default: silent. */
  readonly logger?: Logger;
}

/** The numbers the pure {@link decide} function works from (each as in {@link ScalerOptions}, resolved). */
export interface ScalerPolicy {
  /** Milliseconds between decisions. */
  readonly intervalMs: number;
  /** Smallest size the scaler sets. */
  readonly min: number;
  /** Largest size the scaler sets. */
  readonly max: number;
  /** Growth factor per step (> 1). */
  readonly upFactor: number;
  /** Shrink factor per step (in (0, 1)). */
  readonly downFactor: number;
  /** Mean acquire wait, ms, above which the pool is too small. */
  readonly waitThresholdMs: number;
  /** Utilization below which the pool is too large. */
  readonly lowUtilization: number;
  /** Dead band around both thresholds, as a fraction. */
  readonly tolerance: number;
  /** Minimum milliseconds between a resize and the next growth step. */
  readonly upCooldownMs: number;
  /** Milliseconds of low utilization before the first shrink step. */
  readonly downStabilizationMs: number;
  /** Multiple of its long-run average latency may reach before growth is held. */
  readonly congestionTolerance: number;
  /** Span of the long-run latency average, in periods. */
  readonly longWindow: number;
  /** Headroom of the Little's-law target. */
  readonly littleHeadroom: number;
  /** Fraction of its proportional throughput gain a growth step must deliver. */
  readonly minStepGain: number;
  /** Milliseconds a discovered ceiling blocks growth. */
  readonly saturationHoldMs: number;
}

/** {@link ScalerOptions} with every default filled in. */
export interface ResolvedScalerOptions extends ScalerPolicy {
  /** Event name; `undefined` means the pool's name. */
  readonly name: string | undefined;
  /** Event region, if any. */
  readonly region: string | undefined;
  /** Pool snapshots per decision. */
  readonly samplesPerInterval: number;
  /** Decisions kept for `history()`. */
  readonly historySize: number;
  /** The latency signal, if any. */
  readonly latency: (() => number | undefined) | undefined;
  /** Time source. */
  readonly clock: Clock;
  /** Logger. */
  readonly logger: Logger;
}

const clamp = (value: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, value));

/**
 * Fills defaults and validates every field against the pool's `bounds`; throws one
 * `ERR_BERTH_CONFIG` listing every problem. Pure.
 */
export function resolveScalerOptions(input: ScalerOptions = {}, bounds: PoolBounds): ResolvedScalerOptions {
  const c = new OptionChecker('adaptive-scaler');
  const name = c.string('name', input.name, undefined);
  const region = c.string('region', input.region, undefined);
  const intervalMs = c.number('intervalMs', input.intervalMs, { min: MIN_INTERVAL_MS, default: DEFAULT_INTERVAL_MS });
  const samplesPerInterval = c.number('samplesPerInterval', input.samplesPerInterval, {
    min: 1,
    max: 100,
    integer: true,
    default: DEFAULT_SAMPLES_PER_INTERVAL,
  });
  const min = c.number('min', input.min, {
    min: bounds.min,
    max: bounds.max,
    integer: true,
    default: clamp(DEFAULT_MIN, bounds.min, bounds.max),
  });
  const max = c.number('max', input.max, {
    min: bounds.min,
    max: bounds.max,
    integer: true,
    default: clamp(DEFAULT_MAX, bounds.min, bounds.max),
  });
  if (min > max) c.problem('min', `<= max (${max})`, min);
  const upFactor = c.number('upFactor', input.upFactor, { min: 1, exclusiveMin: true, max: 10, default: DEFAULT_UP_FACTOR });
  const downFactor = c.number('downFactor', input.downFactor, { min: 0, exclusiveMin: true, default: DEFAULT_DOWN_FACTOR });
  if (downFactor >= 1) c.problem('downFactor', 'a number > 0 and < 1', downFactor);
  const waitThresholdMs = c.number('waitThresholdMs', input.waitThresholdMs, {
    min: 0,
    exclusiveMin: true,
    default: DEFAULT_WAIT_THRESHOLD_MS,
  });
  const lowUtilization = c.number('lowUtilization', input.lowUtilization, {
    min: 0,
    exclusiveMin: true,
    default: DEFAULT_LOW_UTILIZATION,
  });
  if (lowUtilization >= 1) c.problem('lowUtilization', 'a number > 0 and < 1', lowUtilization);
  const tolerance = c.number('tolerance', input.tolerance, { min: 0, default: DEFAULT_TOLERANCE });
  if (tolerance >= 1) c.problem('tolerance', 'a number >= 0 and < 1', tolerance);
  const upCooldownMs = c.number('upCooldownMs', input.upCooldownMs, { min: 0, default: intervalMs });
  const downStabilizationMs = c.number('downStabilizationMs', input.downStabilizationMs, {
    min: 0,
    default: DEFAULT_DOWN_STABILIZATION_MS,
  });
  const congestionTolerance = c.number('congestionTolerance', input.congestionTolerance, {
    min: 1,
    exclusiveMin: true,
    default: DEFAULT_CONGESTION_TOLERANCE,
  });
  const longWindow = c.number('longWindow', input.longWindow, {
    min: 2,
    max: 10_000,
    integer: true,
    default: DEFAULT_LONG_WINDOW,
  });
  const littleHeadroom = c.number('littleHeadroom', input.littleHeadroom, { min: 1, default: DEFAULT_LITTLE_HEADROOM });
  const minStepGain = c.number('minStepGain', input.minStepGain, { min: 0, max: 1, default: DEFAULT_MIN_STEP_GAIN });
  const saturationHoldMs = c.number('saturationHoldMs', input.saturationHoldMs, {
    min: 0,
    default: DEFAULT_SATURATION_HOLD_MS,
  });
  const historySize = c.number('historySize', input.historySize, {
    min: 1,
    max: 10_000,
    integer: true,
    default: DEFAULT_HISTORY_SIZE,
  });
  const latency = c.func<() => number | undefined, undefined>('latency', input.latency, undefined);
  const clock = input.clock ?? systemClock;
  const logger = input.logger ?? silentLogger;
  c.done();
  return {
    name,
    region,
    intervalMs,
    samplesPerInterval,
    min,
    max,
    upFactor,
    downFactor,
    waitThresholdMs,
    lowUtilization,
    tolerance,
    upCooldownMs,
    downStabilizationMs,
    congestionTolerance,
    longWindow,
    littleHeadroom,
    minStepGain,
    saturationHoldMs,
    historySize,
    latency,
    clock,
    logger,
  };
}

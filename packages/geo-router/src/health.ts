import type { ResolvedOutlier } from './options.js';

/** Why a region was ejected (the `reason` of `berth:geo:ejected`). */
export type EjectReason =
  | 'consecutive-failures'
  | 'success-rate'
  | 'failure-percentage'
  | 'probe-failed'
  | 'tls-verification'
  | 'init-timeout';

/**
 * Health of one region, a tagged union: `healthy` takes traffic; `ejected` takes none until
 * `until`; `probation` (half-open, after the ejection time) is restored by its next success
 * and ejected again, for longer, by its next failure (Linkerd's probation, Envoy's
 * un-ejection followed by re-ejection with a larger multiplier).
 */
export type HealthPhase =
  | { readonly t: 'healthy' }
  | { readonly t: 'ejected'; readonly since: number; readonly until: number; readonly reason: EjectReason }
  | { readonly t: 'probation'; readonly since: number };

/** Outlier-detection counters of one region. Mutated in place by the functions below. */
export interface RegionHealth {
  phase: HealthPhase;
  /** Failures in a row (reset by any success). */
  consecutiveFailures: number;
  /** Ejection multiplier n: the next ejection lasts n + 1 base times (gRFC A50 lowers it once per clean interval). */
  multiplier: number;
  /** Ejections since creation. */
  ejections: number;
  /** Outcomes in the current success-rate window. */
  windowRequests: number;
  windowFailures: number;
  /** Whether the region was ejected during the current window (gRFC A50: no multiplier decrease then). */
  ejectedThisWindow: boolean;
}

/** A region that starts healthy, with empty counters. */
export function createRegionHealth(): RegionHealth {
  return {
    phase: { t: 'healthy' },
    consecutiveFailures: 0,
    multiplier: 0,
    ejections: 0,
    windowRequests: 0,
    windowFailures: 0,
    ejectedThisWindow: false,
  };
}

/** What one outcome asks the router to do. */
export type OutcomeVerdict = { readonly t: 'none' } | { readonly t: 'restore' } | { readonly t: 'eject'; readonly reason: EjectReason };

const NONE: OutcomeVerdict = { t: 'none' };
const RESTORE: OutcomeVerdict = { t: 'restore' };

/**
 * Records one outcome (a request attempt or a probe). Consecutive-failure ejection is Envoy's
 * `consecutive_5xx` (default 5) widened to connect errors and resets, which Envoy counts
 * separately as local-origin failures; one number is simpler and a region either answers or not.
 */
export function recordOutcome(health: RegionHealth, ok: boolean, config: ResolvedOutlier): OutcomeVerdict {
  health.windowRequests += 1;
  if (ok) {
    health.consecutiveFailures = 0;
    return health.phase.t === 'probation' ? RESTORE : NONE;
  }
  health.windowFailures += 1;
  health.consecutiveFailures += 1;
  if (health.phase.t === 'probation') return { t: 'eject', reason: 'probe-failed' };
  if (health.phase.t === 'healthy' && health.consecutiveFailures >= config.consecutiveFailures) {
    return { t: 'eject', reason: 'consecutive-failures' };
  }
  return NONE;
}

/**
 * How long the next ejection lasts: Envoy's `base_ejection_time × n` capped at
 * `max_ejection_time`, plus up to `ejectionJitterPct` % of it at random (Envoy added
 * `max_ejection_time_jitter` because regions ejected together came back together).
 * `multiplier` is n after the increment (1 for the first ejection).
 */
export function ejectionDurationMs(multiplier: number, config: ResolvedOutlier, random01: number): number {
  const base = Math.min(config.baseEjectionMs * multiplier, config.maxEjectionMs);
  return base + (base * config.ejectionJitterPct * random01) / 100;
}

/**
 * Ejects `health` at `now` with the next multiplier and returns how long it stays out,
 * from {@link ejectionDurationMs}.
 */
export function eject(health: RegionHealth, reason: EjectReason, now: number, config: ResolvedOutlier, random01: number): number {
  const cap = Math.ceil(config.maxEjectionMs / config.baseEjectionMs);
  health.multiplier = Math.min(health.multiplier + 1, cap);
  const durationMs = ejectionDurationMs(health.multiplier, config, random01);
  health.phase = { t: 'ejected', since: now, until: now + durationMs, reason };
  health.ejections += 1;
  health.ejectedThisWindow = true;
  health.consecutiveFailures = 0;
  return durationMs;
}

/** Ends an ejection whose time is up: the region goes on probation (half-open). */
export function startProbation(health: RegionHealth, now: number): void {
  health.phase = { t: 'probation', since: now };
}

/** Back to healthy after a success on probation. */
export function restore(health: RegionHealth): void {
  health.phase = { t: 'healthy' };
  health.consecutiveFailures = 0;
}

/**
 * Whether one more region may be ejected: Envoy's `max_ejection_percent` (at least one region is
 * always ejectable), and never the last healthy one — a client whose own network is down would
 * otherwise eject every region and have nowhere left to send.
 */
export function mayEject(ejectedCount: number, healthyCount: number, total: number, config: ResolvedOutlier): boolean {
  const limit = Math.max(1, Math.floor((total * config.maxEjectionPct) / 100));
  return ejectedCount < limit && healthyCount > 1;
}

/** Window counts of one region, for {@link successRateOutliers}. */
export interface WindowCounts {
  readonly requests: number;
  readonly failures: number;
}

/**
 * The success-rate sweep, once per `intervalMs`. Envoy ejects when `SR < mean − 1.9·σ` over
 * hosts with enough volume, and needs ≥ 5 of them; with n points one outlier's z-score can be at
 * most (n − 1)/√n (1.15 for 3 regions, 1.79 for 5), so that rule can never fire for a handful of
 * regions. Here a region is compared with the pooled success rate of the *other* regions with
 * volume (leave-one-out), and ejected when it is `successRateMarginPct` points below; with no
 * other region to compare to, Envoy's absolute failure-percentage rule (85 %) applies alone.
 * Returns, for each index, the reason to eject or `undefined`.
 */
export function successRateOutliers(windows: readonly WindowCounts[], config: ResolvedOutlier): (EjectReason | undefined)[] {
  let totalRequests = 0;
  let totalFailures = 0;
  for (const w of windows) {
    if (w.requests >= config.minRequests) {
      totalRequests += w.requests;
      totalFailures += w.failures;
    }
  }
  return windows.map((w) => {
    if (w.requests < config.minRequests) return undefined;
    const failurePct = (w.failures / w.requests) * 100;
    if (failurePct >= config.failurePct) return 'failure-percentage';
    const otherRequests = totalRequests - w.requests;
    if (otherRequests === 0) return undefined;
    const otherSuccessPct = ((otherRequests - (totalFailures - w.failures)) / otherRequests) * 100;
    return 100 - failurePct < otherSuccessPct - config.successRateMarginPct ? 'success-rate' : undefined;
  });
}

/** Ends a success-rate window: clears the counts and, per gRFC A50, lowers the multiplier of a region not ejected in it. */
export function endWindow(health: RegionHealth): void {
  if (!health.ejectedThisWindow && health.phase.t === 'healthy' && health.multiplier > 0) health.multiplier -= 1;
  health.windowRequests = 0;
  health.windowFailures = 0;
  health.ejectedThisWindow = false;
}

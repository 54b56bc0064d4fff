import { measureInterval } from './measure.js';
import type { IntervalMeasures, ScalerSample } from './measure.js';
import type { ScalerPolicy } from './options.js';

/**
 * Why a decision went the way it did.
 * - `acquire-wait`: callers waited longer than the threshold; grown.
 * - `low-utilization`: utilization stayed low for the stabilization window; shrunk.
 * - `no-gain`: the last growth step raised latency instead of throughput; undone.
 * - `congestion`: callers wait, but upstream latency is rising; growth held.
 * - `saturated`: callers wait, but the size is at a ceiling found by `no-gain`; growth held.
 * - `demand-cap`: callers wait, but the Little's-law target is not above the size: the pool
 *   already covers the arrival rate (typically a backlog draining); held.
 * - `cooldown`: callers wait, but the last resize is too recent; held.
 * - `bound`: the step would cross `min` or `max`; held.
 * - `tolerance`: the metric is past its threshold but inside the tolerance band; held.
 * - `stabilizing`: utilization is low, but not yet for the whole stabilization window; held.
 * - `demand-floor`: utilization is low, but the Little's-law target is not below the size; held.
 * - `steady`: nothing to do.
 * - `warmup`: no period to measure yet.
 */
export type ScalerReason =
  | 'acquire-wait'
  | 'low-utilization'
  | 'no-gain'
  | 'congestion'
  | 'saturated'
  | 'demand-cap'
  | 'cooldown'
  | 'bound'
  | 'tolerance'
  | 'stabilizing'
  | 'demand-floor'
  | 'steady'
  | 'warmup';

/** One decision of the control loop, holds included. */
export interface ScalerDecision {
  /** Clock time of the decision, milliseconds. */
  readonly at: number;
  /** What it decided. */
  readonly action: 'up' | 'down' | 'hold';
  /** The pool's target before. */
  readonly from: number;
  /** The target asked for (equal to `from` on hold). */
  readonly to: number;
  /** Why. */
  readonly reason: ScalerReason;
  /**
   * The inputs it used: `waitMs`, `utilization`, `peakUtilization`, `pending`, `arrivalRate`
   * and `throughput` (per second), `holdMs`, `latencyMs`, `longLatencyMs`, `gradient`, `littleTarget`,
   * `ruleTarget`, `ceiling`; a field is absent when it could not be measured.
   */
  readonly inputs: Readonly<Record<string, number>>;
}

/** The last resize the scaler asked for. */
interface Step {
  readonly action: 'up' | 'down';
  readonly from: number;
  readonly to: number;
  /** When it was decided. */
  readonly at: number;
  /** Throughput of the period that led to the step (for the gain check). */
  readonly throughput: number;
  /** Latency of the period that led to the step (for the gain check). */
  readonly latencyMs: number | undefined;
  /** True until the period after a growth step has been judged. */
  readonly gainCheckDue: boolean;
}

/** Everything {@link decide} remembers between periods. Treat as opaque; start from {@link initialScalerState}. */
export interface ScalerState {
  /** The sample that ended the previous period: the baseline for counter differences. */
  readonly last: ScalerSample | undefined;
  /** Long-run latency average (Gradient2's `longRtt`), milliseconds. */
  readonly longLatencyMs: number | undefined;
  /** Start of the current run of low-utilization periods. */
  readonly lowSince: number | undefined;
  /** The last resize asked for. */
  readonly step: Step | undefined;
  /** A size growth may not pass until `until`, found when a step brought no gain. */
  readonly ceiling: { readonly size: number; readonly until: number } | undefined;
}

/** What {@link decide} returns: the decision and the state to pass next time. */
export interface DecideResult {
  /** What to do now. */
  readonly decision: ScalerDecision;
  /** What to pass to the next call. */
  readonly state: ScalerState;
}

/** The state before the first sample. */
export function initialScalerState(): ScalerState {
  return { last: undefined, longLatencyMs: undefined, lowSince: undefined, step: undefined, ceiling: undefined };
}

// Gradient2 clamps its gradient to [0.5, 1] (Netflix/concurrency-limits, Gradient2Limit).
const MIN_GRADIENT = 0.5;
// Steps smaller than this change throughput by less than its period-to-period noise, so
// the gain check would judge noise.
const MIN_CHECKED_STEP = 0.05;

/**
 * The control law, as a pure function: from the samples of one period (and, on the first
 * call, the baseline sample before them), the remembered state, the policy and the time,
 * it returns the decision and the next state. The loop only samples, calls this and resizes.
 *
 * Order of the rules: callers waiting beyond the tolerance band → undo a step that brought
 * no gain, else hold on rising latency (congestion), at a known ceiling, in cooldown or when
 * the Little's-law target is already met, else grow ×`upFactor` capped by that target; utilization low for the whole
 * stabilization window with no waiter → shrink ×`downFactor`, not below the Little's-law
 * target; otherwise hold.
 */
export function decide(
  samples: readonly ScalerSample[],
  state: ScalerState,
  policy: ScalerPolicy,
  now: number,
): DecideResult {
  const baseline = state.last ?? samples[0];
  const window = state.last === undefined ? samples.slice(1) : samples;
  const last = window.at(-1);
  if (baseline === undefined || last === undefined) {
    const size = baseline?.stats.target ?? 0;
    return {
      decision: { at: now, action: 'hold', from: size, to: size, reason: 'warmup', inputs: {} },
      state: { ...state, last: baseline },
    };
  }

  const m = measureInterval(baseline, window);
  const current = m.target;
  const inputs: Record<string, number> = {
    waitMs: m.waitMs,
    utilization: m.utilization,
    peakUtilization: m.peakUtilization,
    pending: m.pending,
    arrivalRate: m.arrivalRate,
    throughput: m.throughput,
  };

  // Gradient2 (Netflix/concurrency-limits): shortRtt is this period's average, longRtt an
  // exponential average over `longWindow` periods; gradient = clamp(tolerance·long/short, 0.5, 1).
  const short = m.latencyMs;
  const long = state.longLatencyMs;
  let gradient = 1;
  if (short !== undefined && long !== undefined && short > 0) {
    gradient = Math.min(1, Math.max(MIN_GRADIENT, (policy.congestionTolerance * long) / short));
  }
  if (m.holdMs !== undefined) inputs['holdMs'] = m.holdMs;
  if (short !== undefined) inputs['latencyMs'] = short;
  if (long !== undefined) inputs['longLatencyMs'] = long;
  inputs['gradient'] = gradient;
  // Netflix/concurrency-limits#134: Gradient2 kept adding its queue term while the gradient
  // was ~0.8, so the limit crept up under steady overload. Growth here is allowed only at a
  // gradient of exactly 1, never merely "above some fraction".
  const congested = gradient < 1;

  const littleTarget = littlesLawTarget(m, policy);
  if (littleTarget !== undefined) inputs['littleTarget'] = littleTarget;

  const ceiling = state.ceiling !== undefined && now < state.ceiling.until ? state.ceiling : undefined;
  if (ceiling !== undefined) inputs['ceiling'] = ceiling.size;

  // The pool's target is the truth: a step that did not land (resize threw, or someone else
  // resized) neither starts a cooldown nor gets its gain judged, so it is simply retried.
  const landed = state.step !== undefined && state.step.to === current ? state.step : undefined;

  const pressure = m.waitMs > policy.waitThresholdMs * (1 + policy.tolerance) || m.failed > 0;
  const low = m.utilization < policy.lowUtilization && m.peakPending === 0 && m.failed === 0 && m.waitMs <= policy.waitThresholdMs;

  let action: ScalerDecision['action'] = 'hold';
  let to = current;
  let reason: ScalerReason;
  let newCeiling = ceiling;
  let lowSince: number | undefined;

  if (pressure) {
    const noGain = landed !== undefined && landed.gainCheckDue && stepBroughtNoGain(landed, m, policy);
    if (noGain) {
      // HikariCP's "About Pool Sizing": past the upstream's own concurrency, more connections
      // only add queueing there. Step back and remember the size that was as good.
      action = 'down';
      to = Math.max(policy.min, Math.min(landed.from, current - 1));
      reason = 'no-gain';
      newCeiling = { size: to, until: now + policy.saturationHoldMs };
      inputs['ceiling'] = to;
    } else if (congested) {
      reason = 'congestion';
    } else if (ceiling !== undefined && current >= ceiling.size) {
      reason = 'saturated';
    } else if (landed !== undefined && now - landed.at < policy.upCooldownMs) {
      reason = 'cooldown';
    } else if (current >= policy.max) {
      reason = 'bound';
    } else if (littleTarget !== undefined && littleTarget <= current) {
      // Adding connections one at a time while a cold-start backlog drains only leaves a
      // pool that then has to wait out the scale-down window.
      reason = 'demand-cap';
    } else {
      const rule = Math.max(current + 1, Math.round(current * policy.upFactor));
      inputs['ruleTarget'] = rule;
      let next = rule;
      // Little's law caps a single step: never grow past what the measured demand needs.
      if (littleTarget !== undefined) next = Math.min(next, littleTarget);
      if (ceiling !== undefined) next = Math.min(next, ceiling.size);
      action = 'up';
      to = Math.min(policy.max, next);
      reason = 'acquire-wait';
    }
  } else if (low) {
    lowSince = state.lowSince ?? baseline.at;
    if (m.utilization >= policy.lowUtilization * (1 - policy.tolerance)) {
      reason = 'tolerance';
    } else if (now - lowSince < policy.downStabilizationMs) {
      reason = 'stabilizing';
    } else if (current <= policy.min) {
      reason = 'bound';
    } else if (littleTarget !== undefined && littleTarget >= current) {
      reason = 'demand-floor';
    } else {
      const rule = Math.min(current - 1, Math.round(current * policy.downFactor));
      inputs['ruleTarget'] = rule;
      action = 'down';
      to = Math.max(policy.min, rule, littleTarget ?? 0);
      reason = 'low-utilization';
    }
  } else {
    reason = m.waitMs > policy.waitThresholdMs ? 'tolerance' : 'steady';
  }

  let step: Step | undefined = landed === undefined ? undefined : { ...landed, gainCheckDue: false };
  if (action !== 'hold') {
    step = {
      action,
      from: current,
      to,
      at: now,
      throughput: m.throughput,
      latencyMs: m.latencyMs,
      gainCheckDue: action === 'up',
    };
  }

  let longLatencyMs = long;
  if (short !== undefined) {
    longLatencyMs = long === undefined ? short : long + (2 / (policy.longWindow + 1)) * (short - long);
    // Gradient2: when latency has fallen far below the long average, decay it faster so a
    // past slowdown does not mask the next one.
    if (longLatencyMs / short > 2) longLatencyMs *= 0.95;
  }

  return {
    decision: { at: now, action, from: current, to, reason, inputs },
    state: { last, longLatencyMs, lowSince, step, ceiling: newCeiling },
  };
}

/**
 * Little's law, L = λ·W: connections the offered load keeps in use, times headroom. W is the
 * measured connection hold time, not the latency signal: a router's latency estimate may leave
 * out body transfer, and connections are held for all of it. Undefined without arrivals or W.
 */
function littlesLawTarget(m: IntervalMeasures, policy: ScalerPolicy): number | undefined {
  const holdMs = m.holdMs ?? m.latencyMs;
  if (m.arrivalRate <= 0 || holdMs === undefined) return undefined;
  return Math.ceil(((m.arrivalRate * holdMs) / 1000) * policy.littleHeadroom);
}

/**
 * True when a growth step, judged over the period after it with callers still waiting, raised
 * throughput by less than `minStepGain` of its proportional share while latency rose by the
 * rest: the signature of an upstream at its own concurrency limit (throughput = size / latency
 * stays flat as size grows). A healthy upstream that simply had enough is told apart by its flat latency.
 */
function stepBroughtNoGain(step: Step, m: IntervalMeasures, policy: ScalerPolicy): boolean {
  const growth = step.to / Math.max(1, step.from) - 1;
  if (growth < MIN_CHECKED_STEP || step.throughput <= 0) return false;
  if (step.latencyMs === undefined || m.latencyMs === undefined) return false;
  const throughputGain = m.throughput / step.throughput - 1;
  const latencyRise = m.latencyMs / step.latencyMs - 1;
  return throughputGain < policy.minStepGain * growth && latencyRise > (1 - policy.minStepGain) * growth;
}

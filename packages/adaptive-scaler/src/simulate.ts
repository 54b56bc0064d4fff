import type { PoolBounds } from '@berth/core-types';
import { decide, initialScalerState } from './decide.js';
import type { ScalerDecision, ScalerReason } from './decide.js';
import type { ScalerSample } from './measure.js';
import { resolveScalerOptions } from './options.js';
import type { ScalerOptions } from './options.js';
import { createSimulatedPool } from './simulated-pool.js';
import type { LoadModel } from './simulated-pool.js';

/** A named load scenario for {@link simulate}. */
export interface LoadProfile {
  /** Short id, e.g. `ramp`. */
  readonly name: string;
  /** One-line description for charts and docs. */
  readonly title: string;
  /** Simulated milliseconds to run. */
  readonly durationMs: number;
  /** The load and the upstream. */
  readonly model: LoadModel;
  /** Pool size at the start (a pool that was sized for the load before the scenario). Default: the scaler's `min`. */
  readonly initialSize?: number;
}

/** Options of {@link simulate}: the scaler's policy, plus how the simulated pool starts. */
export interface SimulationOptions
  extends Omit<ScalerOptions, 'clock' | 'logger' | 'latency' | 'historySize' | 'name' | 'region'> {
  /** The pool's bounds. Default `{ min: 1, max: 1000 }`. */
  readonly bounds?: PoolBounds;
  /** Size at the start. Default: the profile's `initialSize`, else the resolved `min`. */
  readonly initialSize?: number;
  /** Feed the upstream's latency to the scaler as its latency signal (else it uses the pool's hold time). Default true. */
  readonly latencySignal?: boolean;
}

/** The state of a simulation at one decision. */
export interface SimulationPoint {
  /** Milliseconds since the start. */
  readonly t: number;
  /** Offered requests per second. */
  readonly offeredRate: number;
  /** Connections the offered load needs at the upstream's uncontended latency (λ × service time). */
  readonly neededConnections: number;
  /** Pool size after the decision. */
  readonly size: number;
  /** Mean acquire wait the decision saw, milliseconds. */
  readonly waitMs: number;
  /** Upstream latency the decision saw, milliseconds (0 when unknown). */
  readonly latencyMs: number;
  /** The decision's action. */
  readonly action: ScalerDecision['action'];
  /** The decision's reason. */
  readonly reason: ScalerReason;
}

/** What {@link simulate} returns. */
export interface SimulationResult {
  /** The profile that was run. */
  readonly profile: LoadProfile;
  /** One point per decision. */
  readonly points: readonly SimulationPoint[];
  /** Every decision, in order. */
  readonly decisions: readonly ScalerDecision[];
}

/**
 * Runs `profile` through the real {@link decide} function against a {@link createSimulatedPool}
 * model, on a simulated clock: pure and deterministic (same input, same result), and fast
 * (an hour of load in milliseconds). Used by the scenario tests and the README chart.
 */
export function simulate(profile: LoadProfile, options: SimulationOptions = {}): SimulationResult {
  const { bounds = { min: 1, max: 1000 }, initialSize, latencySignal = true, ...scalerOptions } = options;
  const policy = resolveScalerOptions(scalerOptions, bounds);
  let t = 0;
  const pool = createSimulatedPool({ model: profile.model, now: () => t, initialTarget: initialSize ?? profile.initialSize ?? policy.min, bounds });
  const sample = (): ScalerSample =>
    latencySignal ? { at: t, stats: pool.stats(), latencyMs: pool.latency() } : { at: t, stats: pool.stats() };
  const periodMs = policy.intervalMs / policy.samplesPerInterval;
  let state = initialScalerState();
  let samples: ScalerSample[] = [sample()];
  const points: SimulationPoint[] = [];
  const decisions: ScalerDecision[] = [];
  for (let tick = 1; tick * periodMs <= profile.durationMs; tick += 1) {
    t = tick * periodMs;
    samples.push(sample());
    if (tick % policy.samplesPerInterval !== 0) continue;
    const result = decide(samples, state, policy, t);
    samples = [];
    state = result.state;
    const { decision } = result;
    if (decision.action !== 'hold') pool.resize(decision.to);
    decisions.push(decision);
    const offeredRate = profile.model.arrivalRate(t);
    points.push({
      t,
      offeredRate,
      neededConnections: (offeredRate * profile.model.serviceMs(t)) / 1000,
      size: decision.to,
      waitMs: decision.inputs['waitMs'] ?? 0,
      latencyMs: decision.inputs['latencyMs'] ?? 0,
      action: decision.action,
      reason: decision.reason,
    });
  }
  return { profile, points, decisions };
}

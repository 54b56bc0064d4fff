/**
 * @packageDocumentation
 * A control loop that sizes a pool to its load without scaling into a congested upstream.
 */

// The scaler
export { AdaptiveScaler, createAdaptiveScaler } from './scaler.js';
export {
  resolveScalerOptions,
  DEFAULT_CONGESTION_TOLERANCE,
  DEFAULT_DOWN_FACTOR,
  DEFAULT_DOWN_STABILIZATION_MS,
  DEFAULT_HISTORY_SIZE,
  DEFAULT_INTERVAL_MS,
  DEFAULT_LITTLE_HEADROOM,
  DEFAULT_LONG_WINDOW,
  DEFAULT_LOW_UTILIZATION,
  DEFAULT_MAX,
  DEFAULT_MIN,
  DEFAULT_MIN_STEP_GAIN,
  DEFAULT_SAMPLES_PER_INTERVAL,
  DEFAULT_SATURATION_HOLD_MS,
  DEFAULT_TOLERANCE,
  DEFAULT_UP_FACTOR,
  DEFAULT_WAIT_THRESHOLD_MS,
  MIN_INTERVAL_MS,
} from './options.js';
export type { ResolvedScalerOptions, ScalerOptions, ScalerPolicy } from './options.js';
export { ScalerResizeError } from './errors.js';

// The pure control law
export { decide, initialScalerState } from './decide.js';
export type { DecideResult, ScalerDecision, ScalerReason, ScalerState } from './decide.js';
export { measureInterval } from './measure.js';
export type { IntervalMeasures, ScalerSample } from './measure.js';

// Simulation (scenario tests, the README chart, benches)
export { simulate } from './simulate.js';
export type { LoadProfile, SimulationOptions, SimulationPoint, SimulationResult } from './simulate.js';
export { SCALER_SCENARIOS, piecewise } from './scenarios.js';
export { createSimulatedPool } from './simulated-pool.js';
export type { LoadModel, SimulatedPool, SimulatedPoolOptions } from './simulated-pool.js';
export { erlangC } from './erlang-c.js';

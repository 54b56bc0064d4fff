/**
 * Peak-EWMA latency estimate of one region, as in Finagle's `PeakEwma.scala` and tower's
 * `tower/src/load/peak_ewma.rs` (Linkerd's balancer):
 *
 * - on a sample `rtt` at time `t`: if `rtt > cost` then `cost = rtt` (jump to the peak, so a
 *   region that turns slow loses traffic at once); else `w = exp(−Δt/τ)`,
 *   `cost = rtt·(1 − w) + cost·w`, where `Δt` is the time since the last update;
 * - a read at time `t` may decay toward zero with the same weight (tower's `decay()` updates
 *   with a zero sample), so an endpoint that stopped getting samples is tried again rather than
 *   shunned forever. Only `p2c` reads it that way; `lowest-latency` compares the estimates as of
 *   their last samples, which probes keep fresh, so a rarely sampled region cannot look better
 *   between two probes just because time passed;
 * - the first sample replaces the prior outright;
 * - load (Finagle, tower) = `cost × (pending + 1)`.
 *
 * The weight depends on elapsed time, not on the number of samples, so a region seen once per
 * probe interval and one seen 200 times a second recover from a spike at the same speed.
 * A plain mutable record and pure functions: tested exactly with any clock value.
 */
export interface PeakEwma {
  /** Current estimate in milliseconds, as of `stamp`. */
  cost: number;
  /** Clock time (ms) of the last update. */
  stamp: number;
  /** Samples observed (0 while the estimate is still the prior). */
  samples: number;
}

/** A new estimate holding `priorMs` (Linkerd's `default_rtt`: 30 ms) until the first sample. */
export function createPeakEwma(priorMs: number, now: number): PeakEwma {
  return { cost: priorMs, stamp: now, samples: 0 };
}

/** Folds one sample of `rttMs` taken at `now` into `state` (in place) and returns the new cost. */
export function observePeakEwma(state: PeakEwma, rttMs: number, now: number, tauMs: number): number {
  const rtt = rttMs > 0 ? rttMs : 0;
  if (state.samples === 0 || rtt > state.cost) {
    // The first real sample replaces the prior outright: a 30 ms prior must not drag a
    // 200 ms region's estimate down for the next τ.
    state.cost = rtt;
  } else {
    const elapsed = now > state.stamp ? now - state.stamp : 0;
    const w = Math.exp(-elapsed / tauMs);
    state.cost = rtt * (1 - w) + state.cost * w;
  }
  state.stamp = now;
  state.samples += 1;
  return state.cost;
}

/** The estimate at `now`, decayed toward zero since the last update (tower's read path). Does not modify `state`. */
export function readPeakEwma(state: PeakEwma, now: number, tauMs: number): number {
  if (state.samples === 0) return state.cost;
  const elapsed = now > state.stamp ? now - state.stamp : 0;
  return elapsed === 0 ? state.cost : state.cost * Math.exp(-elapsed / tauMs);
}

/** Finagle/tower load: the estimate scaled by the requests already waiting on the region. */
export function peakEwmaLoad(costMs: number, pending: number, weight: number): number {
  return (costMs * (pending + 1)) / weight;
}

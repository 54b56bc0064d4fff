import { peakEwmaLoad } from './peak-ewma.js';

/** What a selector needs to know of one candidate region. */
export interface Candidate {
  readonly name: string;
  /** Latency estimate in ms (the Peak-EWMA cost as of its last sample). */
  readonly costMs: number;
  /** Attempts waiting for response headers. */
  readonly pending: number;
  /** Relative capacity (> 0). */
  readonly weight: number;
  /** Whether `costMs` comes from samples rather than the prior. */
  readonly measured: boolean;
}

/** Hysteresis state of `lowest-latency`: the preferred region and a challenger being timed. */
export interface Preference {
  preferred: string | undefined;
  challenger: string | undefined;
  /** Clock time (ms) since the challenger has been better by the margin. */
  challengerSince: number;
}

/** An empty preference (the first update adopts the best region at once). */
export function createPreference(): Preference {
  return { preferred: undefined, challenger: undefined, challengerSince: 0 };
}

/** Why the preferred region changed, or `undefined` when it did not. */
export type PreferenceChange = 'initial' | 'unavailable' | 'faster' | undefined;

/** The candidate with the lowest estimate; the first wins ties, so configuration order breaks them. */
export function lowestCost<C extends Candidate>(candidates: readonly C[]): C | undefined {
  let best: C | undefined;
  for (const c of candidates) if (best === undefined || c.costMs < best.costMs) best = c;
  return best;
}

/**
 * `lowest-latency` with hysteresis: the preferred region changes only when another is better
 * by `marginPct` percent and has stayed so for `afterMs` (a challenger that falls back within
 * the margin loses its clock). Without it two regions within noise of each other flap, and
 * every flap costs cold connections on the new side. A preferred region that is no longer a
 * candidate (ejected) is replaced at once. Called on every sample and health change, so a
 * challenger is re-judged whenever either estimate moves.
 */
export function updatePreference(
  state: Preference,
  candidates: readonly Candidate[],
  now: number,
  marginPct: number,
  afterMs: number,
): PreferenceChange {
  // A measured region beats a guess: an unmeasured one (still at the prior) cannot challenge a
  // measured preferred region, nor be adopted over a measured one — a 30 ms prior must not pull
  // traffic off a region known to answer in 40 ms.
  // One pass, no allocation: this runs on every sample.
  let current: Candidate | undefined;
  let challenger: Candidate | undefined;
  let bestAny: Candidate | undefined;
  let bestMeasured: Candidate | undefined;
  for (const c of candidates) {
    if (c.name === state.preferred) current = c;
    else if (c.name === state.challenger) challenger = c;
    if (bestAny === undefined || c.costMs < bestAny.costMs) bestAny = c;
    if (c.measured && (bestMeasured === undefined || c.costMs < bestMeasured.costMs)) bestMeasured = c;
  }
  const best = bestMeasured !== undefined && current?.measured !== false ? bestMeasured : bestAny;
  if (best === undefined) return undefined;
  if (current === undefined) {
    const reason = state.preferred === undefined ? 'initial' : 'unavailable';
    state.preferred = best.name;
    state.challenger = undefined;
    return reason;
  }
  if (!current.measured && best.measured && best.costMs < current.costMs) {
    // The preferred region was only the prior's pick; the first real sample that beats it wins.
    state.preferred = best.name;
    state.challenger = undefined;
    return 'faster';
  }
  const threshold = current.costMs * (1 - marginPct / 100);
  if (best.costMs >= threshold) {
    state.challenger = undefined;
    return undefined;
  }
  if (challenger === undefined || challenger.costMs >= threshold) {
    state.challenger = best.name;
    state.challengerSince = now;
  }
  if (now - state.challengerSince >= afterMs) {
    state.preferred = best.name;
    state.challenger = undefined;
    return 'faster';
  }
  return undefined;
}

/**
 * Power of two choices (Mitzenmacher; Envoy least-request, Finagle/tower P2C): two distinct
 * candidates at random, the one with the lower Peak-EWMA load `cost × (pending + 1) / weight`
 * wins. `loadCost` gives the estimate to use (decayed toward zero on read, as tower does,
 * so an idle region gets tried again). `r1`, `r2` are uniform draws in [0, 1).
 */
export function pickP2c<C extends Candidate>(candidates: readonly C[], r1: number, r2: number, loadCost: (c: C) => number): C | undefined {
  const n = candidates.length;
  if (n <= 1) return candidates[0];
  const i = Math.floor(r1 * n);
  // The second index is drawn from the n − 1 others, so the two are always distinct.
  let j = Math.floor(r2 * (n - 1));
  if (j >= i) j += 1;
  const a = candidates[i];
  const b = candidates[j];
  if (a === undefined || b === undefined) return a ?? b;
  const loadA = peakEwmaLoad(loadCost(a), a.pending, a.weight);
  const loadB = peakEwmaLoad(loadCost(b), b.pending, b.weight);
  return loadB < loadA ? b : a;
}

/**
 * The last {@link LATENCY_WINDOW_SIZE} times to headers of one region, for the p95 that sets
 * the hedge delay. A ring buffer and a sort of at most 128 numbers when the quantile is read
 * after new samples: exact, allocation-free on record, and only paid for when hedging is on.
 */
export const LATENCY_WINDOW_SIZE = 128;

/** A ring of recent samples with a cached quantile. */
export interface LatencyWindow {
  readonly samples: Float64Array;
  count: number;
  next: number;
  /** Cached p95, or `undefined` when samples arrived since it was computed. */
  p95: number | undefined;
}

/** An empty window. */
export function createLatencyWindow(): LatencyWindow {
  return { samples: new Float64Array(LATENCY_WINDOW_SIZE), count: 0, next: 0, p95: undefined };
}

/** Adds one sample in milliseconds. */
export function recordLatency(window: LatencyWindow, ms: number): void {
  window.samples[window.next] = ms;
  window.next = (window.next + 1) % LATENCY_WINDOW_SIZE;
  if (window.count < LATENCY_WINDOW_SIZE) window.count += 1;
  window.p95 = undefined;
}

/** The 95th percentile (nearest rank) of the samples held, or `undefined` with none. */
export function p95Of(window: LatencyWindow): number | undefined {
  if (window.count === 0) return undefined;
  if (window.p95 === undefined) {
    const sorted = window.samples.slice(0, window.count).sort();
    window.p95 = sorted[Math.min(window.count - 1, Math.ceil(0.95 * window.count) - 1)];
  }
  return window.p95;
}

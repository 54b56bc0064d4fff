import type { LatencySummary } from '@berth/core-types';

/**
 * The last `capacity` samples in a ring buffer: O(1) per sample on the hot path; the sort
 * happens only when someone asks for a summary (`stats()`), which dashboards do rarely.
 */
export class LatencyWindow {
  readonly #samples: Float64Array;
  #next = 0;
  #count = 0;

  constructor(capacity = 1024) {
    this.#samples = new Float64Array(capacity);
  }

  /** Records one sample, in milliseconds. */
  add(ms: number): void {
    this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#samples.length;
    if (this.#count < this.#samples.length) this.#count += 1;
  }

  /** Mean, p50, p99 and max over the window. */
  summary(): LatencySummary {
    const n = this.#count;
    if (n === 0) return { count: 0, meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
    const sorted = this.#samples.slice(0, n).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    const at = (q: number) => sorted[Math.min(n - 1, Math.ceil(q * n) - 1)] ?? 0;
    return { count: n, meanMs: sum / n, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted[n - 1] ?? 0 };
  }
}

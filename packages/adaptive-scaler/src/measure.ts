import type { PoolStats } from '@berth/core-types';

/** One snapshot the loop took: the pool's stats and, when a signal was given, upstream latency. */
export interface ScalerSample {
  /** Clock time of the snapshot, milliseconds. */
  readonly at: number;
  /** The pool's snapshot. Its counters are cumulative; the scaler works on their differences. */
  readonly stats: PoolStats;
  /** Upstream latency in milliseconds at that time, when the `latency` option gave one. */
  readonly latencyMs?: number;
}

/** What one decision period looked like, derived from its samples. */
export interface IntervalMeasures {
  /** Milliseconds between the baseline sample and the last one. */
  readonly elapsedMs: number;
  /** The pool's live size limit at the end of the period (what `resize` sets). */
  readonly target: number;
  /** Mean busy connections over the period's samples. */
  readonly meanBusy: number;
  /** Mean of busy / target over the period's samples. */
  readonly utilization: number;
  /** Highest busy / target seen in a sample. */
  readonly peakUtilization: number;
  /** Waiters in the last sample. */
  readonly pending: number;
  /** Highest number of waiters seen in a sample. */
  readonly peakPending: number;
  /** The pool's mean acquire wait at the end of the period (its recent-window summary), 0 when nothing was acquired. */
  readonly waitMs: number;
  /** Acquires that got a connection during the period. */
  readonly served: number;
  /** Acquires that timed out or were rejected during the period. */
  readonly failed: number;
  /** Offered acquires per second: served + failed + change of the waiting queue. */
  readonly arrivalRate: number;
  /** Served acquires per second. */
  readonly throughput: number;
  /** Mean time a request holds a connection, ms, by Little's law (mean busy / throughput); undefined without throughput. */
  readonly holdMs: number | undefined;
  /** Upstream latency in ms: the mean of the latency signal, else {@link IntervalMeasures.holdMs}. */
  readonly latencyMs: number | undefined;
}

const delta = (after: number, before: number): number => Math.max(0, after - before);

/**
 * Derives the period's measures from the sample that ended the previous period (`baseline`)
 * and this period's samples (at least one). Counter resets (a replaced pool) count as zero.
 */
export function measureInterval(baseline: ScalerSample, window: readonly ScalerSample[]): IntervalMeasures {
  const last = window.at(-1) ?? baseline;
  const elapsedMs = Math.max(0, last.at - baseline.at);
  const target = last.stats.target;
  let busySum = 0;
  let utilizationSum = 0;
  let peakUtilization = 0;
  let peakPending = 0;
  let latencySum = 0;
  let latencyCount = 0;
  for (const sample of window) {
    const { busy, pending } = sample.stats;
    const limit = Math.max(1, sample.stats.target);
    busySum += busy;
    utilizationSum += busy / limit;
    peakUtilization = Math.max(peakUtilization, busy / limit);
    peakPending = Math.max(peakPending, pending);
    if (sample.latencyMs !== undefined) {
      latencySum += sample.latencyMs;
      latencyCount += 1;
    }
  }
  const count = Math.max(1, window.length);
  const meanBusy = busySum / count;
  const a = last.stats.acquires;
  const b = baseline.stats.acquires;
  const served = delta(a.direct, b.direct) + delta(a.waited, b.waited);
  const failed = delta(a.timedOut, b.timedOut) + delta(a.rejected, b.rejected);
  // The queue is a gauge, not a counter: a draining queue lowers the arrival estimate.
  const queued = last.stats.pending - baseline.stats.pending;
  const seconds = elapsedMs / 1000;
  const throughput = seconds > 0 ? served / seconds : 0;
  const arrivalRate = seconds > 0 ? Math.max(0, served + failed + queued) / seconds : 0;
  // Little's law, L = λ·W, read backwards: the mean hold time is W = L / λ. It is what rises
  // when the upstream slows down, so it stands in for a missing latency signal.
  const holdMs = throughput > 0 && meanBusy > 0 ? (meanBusy / throughput) * 1000 : undefined;
  const latencyMs = latencyCount > 0 ? latencySum / latencyCount : holdMs;
  return {
    elapsedMs,
    target,
    meanBusy,
    utilization: utilizationSum / count,
    peakUtilization,
    pending: last.stats.pending,
    peakPending,
    // Exact mean over this interval from the cumulative total; the pool's own window summary
    // only when nothing completed (callers stuck the whole interval).
    waitMs:
      served > 0
        ? delta(last.stats.acquireWaitTotalMs, baseline.stats.acquireWaitTotalMs) / served
        : last.stats.pending > 0
          ? last.stats.acquireWait.meanMs
          : 0,
    served,
    failed,
    arrivalRate,
    throughput,
    holdMs,
    latencyMs,
  };
}

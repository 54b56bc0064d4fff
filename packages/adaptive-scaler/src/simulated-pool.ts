import { CLOSE_REASONS, ConfigError } from '@berth/core-types';
import type { CloseReason, PoolBounds, PoolStats, ResizablePool } from '@berth/core-types';
import { erlangC } from './erlang-c.js';

/** The load a {@link SimulatedPool} serves and the upstream behind it. */
export interface LoadModel {
  /** Offered requests per second at `tMs` milliseconds after the start. */
  readonly arrivalRate: (tMs: number) => number;
  /** Upstream service time in milliseconds at `tMs`, with no contention. */
  readonly serviceMs: (tMs: number) => number;
  /**
   * Requests the upstream serves at once before it slows down: above it, its latency grows in
   * proportion to concurrency, so its throughput stays flat however many connections are
   * opened. Default: unlimited.
   */
  readonly upstreamConcurrency?: number;
}

/** Options of {@link createSimulatedPool}. */
export interface SimulatedPoolOptions {
  /** The load and the upstream. */
  readonly model: LoadModel;
  /** Current time in milliseconds (a fake clock); the model advances to it on every `stats()`. */
  readonly now: () => number;
  /** Size limit at the start. */
  readonly initialTarget: number;
  /** Resize bounds. Default `{ min: 1, max: 1000 }`. */
  readonly bounds?: PoolBounds;
  /** Simulation step in milliseconds. Default 100. */
  readonly stepMs?: number;
  /** Waiters give up after this many milliseconds of backlog (counted as `timedOut`). Default 30 000. */
  readonly acquireTimeoutMs?: number;
  /** Window of the `acquireWait` summary, milliseconds. Default 10 000. */
  readonly waitWindowMs?: number;
  /** Name in stats. Default `simulated`. */
  readonly name?: string;
}

/** A {@link ResizablePool} driven by a load model instead of a network. */
export interface SimulatedPool extends ResizablePool {
  /** The upstream's current latency, milliseconds (what a latency signal would report). */
  latency(): number;
}

interface WaitBucket {
  readonly at: number;
  readonly count: number;
  readonly sum: number;
  readonly max: number;
}

/**
 * A pool whose stats come from a fluid queueing model, for the scaler's scenario tests and its
 * chart; nothing here touches a network. Below capacity it is an M/M/c queue (Erlang C gives
 * the share of acquires that wait and their mean wait); at or past capacity every connection
 * is busy and a backlog builds, drained at `min(size, upstreamConcurrency) / serviceMs`.
 */
export function createSimulatedPool(options: SimulatedPoolOptions): SimulatedPool {
  const { model, now } = options;
  const bounds = options.bounds ?? { min: 1, max: 1000 };
  const stepMs = options.stepMs ?? 100;
  const acquireTimeoutMs = options.acquireTimeoutMs ?? 30_000;
  const waitWindowMs = options.waitWindowMs ?? 10_000;
  const upstream = model.upstreamConcurrency ?? Number.POSITIVE_INFINITY;
  const start = now();
  let clock = 0;
  let target = options.initialTarget;
  let backlog = 0;
  let busy = 0;
  let latencyMs = model.serviceMs(0);
  let direct = 0;
  let waited = 0;
  let waitTotalMs = 0;
  let timedOut = 0;
  let created = target;
  let shrunk = 0;
  const waits: WaitBucket[] = [];

  const step = (dt: number): void => {
    const perMs = Math.max(0, model.arrivalRate(clock)) / 1000;
    const service = model.serviceMs(clock);
    const capacity = Math.min(target, upstream) / service;
    const arrivals = perMs * dt;
    let served: number;
    let waitMs: number;
    if (backlog <= 0 && perMs < capacity) {
      const offered = perMs * service;
      const pWait = erlangC(target, offered);
      // The steady-state M/M/c wait diverges as the load nears the size; no waiter stays
      // longer than its acquire timeout.
      waitMs = Math.min(acquireTimeoutMs, (pWait * service) / (target - offered));
      served = arrivals;
      direct += served * (1 - pWait);
      waited += served * pWait;
      busy = offered;
    } else {
      served = Math.min(backlog + arrivals, capacity * dt);
      backlog += arrivals - served;
      const limit = capacity * acquireTimeoutMs;
      if (backlog > limit) {
        timedOut += backlog - limit;
        backlog = limit;
      }
      // Each waiter has the backlog ahead of it to drain first.
      waitMs = backlog / capacity;
      waited += served;
      busy = target;
    }
    latencyMs = service * Math.max(1, busy / upstream);
    waits.push({ at: clock, count: served, sum: served * waitMs, max: waitMs });
    waitTotalMs += served * waitMs;
    while (waits.length > 0 && (waits[0]?.at ?? clock) <= clock - waitWindowMs) waits.shift();
    clock += dt;
  };

  const advance = (): void => {
    const until = now() - start;
    while (clock + stepMs <= until) step(stepMs);
  };

  return {
    bounds,
    latency(): number {
      advance();
      return latencyMs;
    },
    resize(next: number): void {
      if (!Number.isInteger(next) || next < bounds.min || next > bounds.max) {
        throw new ConfigError('simulated-pool', [
          { path: 'target', expected: `an integer in [${bounds.min}, ${bounds.max}]`, received: String(next) },
        ]);
      }
      advance();
      if (next > target) created += next - target;
      else shrunk += target - next;
      target = next;
    },
    stats(): PoolStats {
      advance();
      let count = 0;
      let sum = 0;
      let max = 0;
      for (const bucket of waits) {
        count += bucket.count;
        sum += bucket.sum;
        max = Math.max(max, bucket.max);
      }
      const meanMs = count > 0 ? sum / count : 0;
      const destroyed = Object.fromEntries(CLOSE_REASONS.map((r) => [r, r === 'resize' ? Math.floor(shrunk) : 0])) as Record<
        CloseReason,
        number
      >;
      const requests = Math.floor(direct + waited);
      const busyNow = Math.min(target, Math.round(busy));
      const pending = Math.max(0, Math.floor(backlog));
      return {
        kind: 'simulated-pool',
        name: options.name ?? 'simulated',
        state: 'ready',
        requests,
        inFlight: busyNow,
        queued: pending,
        errors: Math.floor(timedOut),
        size: target,
        idle: target - busyNow,
        busy: busyNow,
        connecting: 0,
        pending,
        target,
        created,
        destroyed,
        connectErrors: 0,
        acquires: { direct: Math.floor(direct), waited: Math.floor(waited), timedOut: Math.floor(timedOut), rejected: 0 },
        acquireWait: { count: Math.floor(count), meanMs, p50Ms: meanMs, p99Ms: max, maxMs: max },
        acquireWaitTotalMs: waitTotalMs,
        reusedRequests: Math.max(0, requests - created),
        reuseRate: requests > 0 ? Math.max(0, requests - created) / requests : 0,
      };
    },
  };
}

import { CLOSE_REASONS } from '@berth/core-types';
import { seededRandom } from '@berth/testkit';
import type { CloseReason, PoolStats } from '@berth/core-types';
import { describe, expect, it } from 'vitest';
import { decide, initialScalerState } from './decide.js';
import type { ScalerState } from './decide.js';
import type { ScalerSample } from './measure.js';
import { resolveScalerOptions } from './options.js';
import type { ScalerOptions } from './options.js';

const BOUNDS = { min: 1, max: 1000 };
const INTERVAL = 10_000;

interface Load {
  target: number;
  busy: number;
  pending?: number;
  waitMs?: number;
  /** Acquires served per second over the period. */
  rate?: number;
  timedOut?: number;
  latencyMs?: number;
}

function stats(load: Load, totals: { served: number; timedOut: number; waitTotalMs: number }): PoolStats {
  const destroyed = Object.fromEntries(CLOSE_REASONS.map((r) => [r, 0])) as Record<CloseReason, number>;
  return {
    kind: 'test',
    name: 'test',
    state: 'ready',
    requests: totals.served,
    inFlight: load.busy,
    queued: load.pending ?? 0,
    errors: 0,
    size: load.target,
    idle: load.target - load.busy,
    busy: load.busy,
    connecting: 0,
    pending: load.pending ?? 0,
    target: load.target,
    created: load.target,
    destroyed,
    connectErrors: 0,
    acquires: { direct: totals.served, waited: 0, timedOut: totals.timedOut, rejected: 0 },
    acquireWait: { count: 1, meanMs: load.waitMs ?? 0, p50Ms: 0, p99Ms: 0, maxMs: 0 },
    acquireWaitTotalMs: totals.waitTotalMs,
    reusedRequests: 0,
    reuseRate: 0,
  };
}

/**
 * Feeds `decide` one period at a time, like the loop does, keeping cumulative counters and
 * applying each non-hold decision to the next period's target.
 */
function driver(options: ScalerOptions = {}, first: Load = { target: 10, busy: 5 }) {
  const policy = resolveScalerOptions({ intervalMs: INTERVAL, ...options }, BOUNDS);
  let now = 0;
  let totals = { served: 0, timedOut: 0, waitTotalMs: 0 };
  let target = first.target;
  const sample = (load: Load): ScalerSample => {
    const s = stats(load, totals);
    return load.latencyMs === undefined ? { at: now, stats: s } : { at: now, stats: s, latencyMs: load.latencyMs };
  };
  let state: ScalerState = decide([sample(first)], initialScalerState(), policy, now).state;
  return {
    policy,
    get target() {
      return target;
    },
    set target(value: number) {
      target = value;
    },
    get state() {
      return state;
    },
    /** One period of `load` (its target defaults to the current one); returns the decision. */
    period(load: Partial<Load> & { busy: number }) {
      now += INTERVAL;
      const full: Load = { target, ...load };
      const served = ((full.rate ?? 100) * INTERVAL) / 1000;
      totals = {
        served: totals.served + served,
        timedOut: totals.timedOut + (full.timedOut ?? 0),
        waitTotalMs: totals.waitTotalMs + served * (full.waitMs ?? 0),
      };
      const result = decide([sample(full)], state, policy, now);
      state = result.state;
      if (result.decision.action !== 'hold') target = result.decision.to;
      return result.decision;
    },
  };
}

describe('decide', () => {
  it('holds with reason warmup until a period has been measured', () => {
    const policy = resolveScalerOptions({}, BOUNDS);
    const first = decide([], initialScalerState(), policy, 0);
    expect(first.decision).toMatchObject({ action: 'hold', reason: 'warmup', from: 0, to: 0 });
    const baselineOnly = decide([{ at: 0, stats: stats({ target: 10, busy: 1 }, { served: 0, timedOut: 0, waitTotalMs: 0 }) }], initialScalerState(), policy, 0);
    expect(baselineOnly.decision).toMatchObject({ action: 'hold', reason: 'warmup', from: 10, to: 10 });
    expect(baselineOnly.state.last?.stats.target).toBe(10);
  });

  it('grows ×1.2 when the average acquire wait exceeds 100 ms, and reports its inputs', () => {
    const d = driver();
    const decision = d.period({ busy: 10, waitMs: 150 });
    expect(decision).toMatchObject({ action: 'up', from: 10, to: 12, reason: 'acquire-wait' });
    expect(decision.inputs).toMatchObject({ waitMs: 150, utilization: 1, ruleTarget: 12, throughput: 100 });
  });

  it('always moves at least one connection, even where ×1.2 rounds back to the same size', () => {
    const d = driver({ min: 2 }, { target: 2, busy: 2 });
    expect(d.period({ busy: 2, waitMs: 500, rate: 1 })).toMatchObject({ action: 'up', from: 2, to: 3 });
    d.target = 3;
    const down = driver({ min: 1, downStabilizationMs: 0 }, { target: 3, busy: 0 });
    expect(down.period({ busy: 0, rate: 0 })).toMatchObject({ action: 'down', from: 3, to: 2 });
  });

  it('changes nothing while the wait is above the threshold but inside the tolerance band', () => {
    const d = driver();
    expect(d.period({ busy: 10, waitMs: 105 })).toMatchObject({ action: 'hold', reason: 'tolerance' });
    expect(d.period({ busy: 10, waitMs: 110 })).toMatchObject({ action: 'hold', reason: 'tolerance' });
    expect(d.period({ busy: 10, waitMs: 111 })).toMatchObject({ action: 'up' });
  });

  it('changes nothing while utilization is below the threshold but inside the tolerance band', () => {
    const d = driver({ downStabilizationMs: 0 }, { target: 100, busy: 50 });
    expect(d.period({ busy: 28, rate: 280 })).toMatchObject({ action: 'hold', reason: 'tolerance' });
    expect(d.period({ busy: 26, rate: 260 })).toMatchObject({ action: 'down', from: 100, to: 80 });
  });

  it('waits for the cooldown after a resize before the next growth step', () => {
    const d = driver({ upCooldownMs: 25_000 });
    expect(d.period({ busy: 10, waitMs: 200 })).toMatchObject({ action: 'up', to: 12 });
    expect(d.period({ busy: 12, waitMs: 200, rate: 120 })).toMatchObject({ action: 'hold', reason: 'cooldown' });
    expect(d.period({ busy: 12, waitMs: 200, rate: 120 })).toMatchObject({ action: 'hold', reason: 'cooldown' });
    expect(d.period({ busy: 12, waitMs: 200, rate: 120 })).toMatchObject({ action: 'up', from: 12, to: 14 });
  });

  it('never grows past max and never shrinks below min', () => {
    const up = driver({ max: 11 });
    expect(up.period({ busy: 10, waitMs: 500 })).toMatchObject({ action: 'up', to: 11 });
    expect(up.period({ busy: 11, waitMs: 500, rate: 110 })).toMatchObject({ action: 'hold', reason: 'bound', to: 11 });
    const down = driver({ min: 9, downStabilizationMs: 0 }, { target: 10, busy: 0 });
    expect(down.period({ busy: 0, rate: 0 })).toMatchObject({ action: 'down', to: 9 });
    expect(down.period({ busy: 0, rate: 0 })).toMatchObject({ action: 'hold', reason: 'bound', to: 9 });
  });

  it('shrinks ×0.8 only after utilization stayed low for the whole stabilization window', () => {
    const d = driver({ downStabilizationMs: 60_000 }, { target: 100, busy: 10 });
    const reasons = [];
    for (let i = 0; i < 5; i += 1) reasons.push(d.period({ busy: 10, rate: 100 }).reason);
    expect(reasons).toEqual(['stabilizing', 'stabilizing', 'stabilizing', 'stabilizing', 'stabilizing']);
    expect(d.period({ busy: 10, rate: 100 })).toMatchObject({ action: 'down', from: 100, to: 80, reason: 'low-utilization' });
    // Still low: the window is already satisfied, so the next period shrinks again.
    expect(d.period({ busy: 10, rate: 100 })).toMatchObject({ action: 'down', from: 80, to: 64 });
  });

  it('restarts the stabilization window when one period is busy', () => {
    const d = driver({ downStabilizationMs: 30_000 }, { target: 100, busy: 10 });
    d.period({ busy: 10, rate: 100 });
    d.period({ busy: 10, rate: 100 });
    expect(d.period({ busy: 60, rate: 600 })).toMatchObject({ action: 'hold', reason: 'steady' });
    expect(d.period({ busy: 10, rate: 100 })).toMatchObject({ reason: 'stabilizing' });
    expect(d.period({ busy: 10, rate: 100 })).toMatchObject({ reason: 'stabilizing' });
    expect(d.period({ busy: 10, rate: 100 })).toMatchObject({ reason: 'low-utilization' });
  });

  it('does not shrink while callers wait, whatever the utilization', () => {
    const d = driver({ downStabilizationMs: 0 }, { target: 100, busy: 10 });
    expect(d.period({ busy: 10, pending: 3, rate: 100 })).toMatchObject({ action: 'hold', reason: 'steady' });
  });

  it('does not shrink below the Little\'s-law target, and holds when that target is not below the size', () => {
    // 66 busy × 1.25 headroom = 83 connections, above the rule's 80.
    const d = driver({ downStabilizationMs: 0, lowUtilization: 0.7, tolerance: 0 }, { target: 100, busy: 66 });
    const decision = d.period({ busy: 66, rate: 660 });
    expect(decision.inputs).toMatchObject({ littleTarget: 83, ruleTarget: 80 });
    expect(decision).toMatchObject({ action: 'down', to: 83, reason: 'low-utilization' });
    const floor = driver({ downStabilizationMs: 0, lowUtilization: 0.9, tolerance: 0 }, { target: 20, busy: 17 });
    expect(floor.period({ busy: 17, rate: 170 })).toMatchObject({ action: 'hold', reason: 'demand-floor' });
  });

  it('caps a growth step at the Little\'s-law target, and holds when the size already meets it', () => {
    // 110 req/s × 100 ms × 1.25 = 14 (ceil of 13.75): a backlog is draining, not a demand to meet.
    const d = driver({}, { target: 100, busy: 100 });
    const decision = d.period({ busy: 11, waitMs: 400, rate: 110, pending: 0, target: 100 });
    expect(decision.inputs['littleTarget']).toBe(14);
    expect(decision).toMatchObject({ action: 'hold', from: 100, to: 100, reason: 'demand-cap' });
    // Bursty waits with 36 of 40 busy on average: 360 req/s × 100 ms × 1.25 = 45 < the rule's 48.
    const capped = driver({}, { target: 40, busy: 36 });
    const step = capped.period({ busy: 36, waitMs: 400, rate: 360 });
    expect(step.inputs).toMatchObject({ littleTarget: 45, ruleTarget: 48 });
    expect(step).toMatchObject({ action: 'up', to: 45 });
    // A growing queue raises the arrival rate above throughput, and the target with it.
    const queueing = driver({}, { target: 40, busy: 40 });
    expect(queueing.period({ busy: 40, waitMs: 400, rate: 400, pending: 400 }).inputs['littleTarget']).toBe(55);
  });

  it('holds growth while latency rises (congestion) and resumes once it settles', () => {
    const d = driver({ longWindow: 10 }, { target: 20, busy: 20, latencyMs: 100 });
    expect(d.period({ busy: 20, rate: 200, latencyMs: 100 })).toMatchObject({ reason: 'steady' });
    const rising = d.period({ busy: 20, waitMs: 300, rate: 200, latencyMs: 200 });
    expect(rising).toMatchObject({ action: 'hold', reason: 'congestion', to: 20 });
    expect(rising.inputs['gradient']).toBeCloseTo(0.75);
    const reasons: string[] = [];
    for (let i = 0; i < 12; i += 1) reasons.push(d.period({ busy: 20, waitMs: 300, rate: 100, latencyMs: 200 }).reason);
    // The long average catches up with the new level: the guard lets go after a few periods.
    expect(reasons.slice(0, 2)).toEqual(['congestion', 'congestion']);
    expect(reasons).toContain('acquire-wait');
    expect(reasons.indexOf('acquire-wait')).toBeLessThan(6);
  });

  it('uses the pool\'s hold time as the latency when no signal is given', () => {
    const d = driver({ longWindow: 10 }, { target: 20, busy: 10 });
    expect(d.period({ busy: 10, rate: 100 }).inputs['latencyMs']).toBe(100);
    // Same throughput, twice the connections busy: each request holds one twice as long.
    expect(d.period({ busy: 20, waitMs: 300, rate: 100 })).toMatchObject({ reason: 'congestion' });
  });

  it('undoes a growth step that raised latency instead of throughput, then holds at that ceiling', () => {
    const d = driver({ saturationHoldMs: 30_000 }, { target: 50, busy: 50 });
    // 500 req/s served at 100 ms by 50 connections; callers wait.
    expect(d.period({ busy: 50, waitMs: 400, rate: 500, latencyMs: 100 })).toMatchObject({ action: 'up', to: 60 });
    // 60 connections, still 500 req/s, latency 120 ms: the upstream is the limit.
    const undo = d.period({ busy: 60, waitMs: 400, rate: 500, latencyMs: 120 });
    expect(undo).toMatchObject({ action: 'down', from: 60, to: 50, reason: 'no-gain' });
    expect(undo.inputs['ceiling']).toBe(50);
    expect(d.period({ busy: 50, waitMs: 400, rate: 500, latencyMs: 100 })).toMatchObject({ action: 'hold', reason: 'saturated' });
    expect(d.period({ busy: 50, waitMs: 400, rate: 500, latencyMs: 100 })).toMatchObject({ action: 'hold', reason: 'saturated' });
    // After saturationHoldMs one probe step is allowed again.
    expect(d.period({ busy: 50, waitMs: 400, rate: 500, latencyMs: 100 })).toMatchObject({ action: 'up', to: 60 });
  });

  it('keeps a growth step that raised throughput', () => {
    const d = driver({}, { target: 50, busy: 50 });
    d.period({ busy: 50, waitMs: 400, rate: 500, latencyMs: 100 });
    expect(d.period({ busy: 60, waitMs: 400, rate: 600, latencyMs: 100 })).toMatchObject({ action: 'up', from: 60, to: 72 });
  });

  it('does not judge a step as no-gain when latency stayed flat (the load simply stopped growing)', () => {
    const d = driver({}, { target: 50, busy: 50 });
    d.period({ busy: 50, waitMs: 400, rate: 500, latencyMs: 100 });
    expect(d.period({ busy: 52, waitMs: 400, rate: 520, latencyMs: 100 })).toMatchObject({ action: 'up', reason: 'acquire-wait' });
  });

  it('retries a step that did not land (the pool kept its old target) without a cooldown', () => {
    const d = driver({ upCooldownMs: 60_000 });
    expect(d.period({ busy: 10, waitMs: 200 })).toMatchObject({ action: 'up', to: 12 });
    d.target = 10;
    expect(d.period({ busy: 10, waitMs: 200 })).toMatchObject({ action: 'up', from: 10, to: 12 });
  });

  it('counts acquire timeouts as pressure even when the recorded wait is low', () => {
    const d = driver();
    expect(d.period({ busy: 10, waitMs: 0, timedOut: 3 })).toMatchObject({ action: 'up', reason: 'acquire-wait' });
  });

  it('treats counters that went backwards (a replaced pool) as zero instead of negative', () => {
    const policy = resolveScalerOptions({}, BOUNDS);
    const before: ScalerSample = { at: 0, stats: stats({ target: 10, busy: 5 }, { served: 5000, timedOut: 0, waitTotalMs: 0 }) };
    const after: ScalerSample = { at: 10_000, stats: stats({ target: 10, busy: 5 }, { served: 10, timedOut: 0, waitTotalMs: 0 }) };
    const { decision } = decide([before, after], initialScalerState(), policy, 10_000);
    expect(decision.inputs['throughput']).toBe(0);
    expect(decision.inputs['arrivalRate']).toBe(0);
  });

  it('keeps every resize within [min, max] and moves by at least one, whatever the measurements', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = seededRandom(seed);
      const pick = (lo: number, hi: number) => lo + random.next() * (hi - lo);
      const d = driver({ min: 5, max: 60, downStabilizationMs: 20_000, saturationHoldMs: 30_000 }, { target: 20, busy: 10 });
      for (let i = 0; i < 300; i += 1) {
        const target = d.target;
        const decision = d.period({
          busy: Math.round(pick(0, target)),
          pending: random.next() < 0.3 ? Math.round(pick(0, 50)) : 0,
          waitMs: random.next() < 0.5 ? pick(0, 1000) : 0,
          rate: pick(0, 2000),
          timedOut: random.next() < 0.1 ? 1 : 0,
          latencyMs: pick(10, 500),
        });
        expect(decision.from).toBe(target);
        if (decision.action === 'hold') {
          expect(decision.to).toBe(target);
        } else {
          expect(decision.to).toBeGreaterThanOrEqual(5);
          expect(decision.to).toBeLessThanOrEqual(60);
          if (decision.action === 'up') expect(decision.to).toBeGreaterThan(target);
          else expect(decision.to).toBeLessThan(target);
        }
      }
    }
  });
});

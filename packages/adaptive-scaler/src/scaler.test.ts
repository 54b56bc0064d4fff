import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { SCALER_CHANNELS, systemClock } from '@berth/core-types';
import type { Clock, Logger, ResizablePool, ScalerDecisionMessage, ScalerResizeErrorMessage } from '@berth/core-types';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAdaptiveScaler } from './scaler.js';
import { piecewise } from './scenarios.js';
import { createSimulatedPool } from './simulated-pool.js';
import type { LoadModel, SimulatedPool } from './simulated-pool.js';

// Date.now() is faked by vi.useFakeTimers(); the timers go through the (faked) globals.
const clock: Clock = { ...systemClock, now: () => Date.now() };
const MINUTE = 60_000;

function pool(model: LoadModel, initialTarget = 10): SimulatedPool {
  return createSimulatedPool({ model, now: () => Date.now(), initialTarget });
}

const steady = (rate: number, serviceMs = 100): LoadModel => ({ arrivalRate: () => rate, serviceMs: () => serviceMs });

function recorder(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger = { debug: () => {}, info: () => {}, warn: (m) => warnings.push(m), error: () => {} };
  return { logger, warnings };
}

function listen<T>(name: string): { messages: T[]; stop: () => void } {
  const messages: T[] = [];
  const fn = (message: unknown): void => {
    messages.push(message as T);
  };
  subscribe(name, fn);
  return { messages, stop: () => unsubscribe(name, fn) };
}

describe('AdaptiveScaler', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ramps a pool from 10 to what the load needs in ×1.2 steps, one per interval', async () => {
    // 400 req/s × 100 ms = 40 connections busy.
    const p = pool(steady(400));
    const scaler = createAdaptiveScaler(p, { clock, latency: () => p.latency() });
    scaler.start();
    await vi.advanceTimersByTimeAsync(3 * MINUTE);
    scaler.stop();
    const ups = scaler.history().filter((d) => d.action === 'up');
    expect(ups.map((d) => d.to)).toEqual([12, 14, 17, 20, 24, 29, 35, 42, 50]);
    for (const d of ups) expect(d.to).toBe(Math.max(d.from + 1, Math.round(d.from * 1.2)));
    expect(ups.every((d) => d.reason === 'acquire-wait')).toBe(true);
    expect(p.stats().target).toBe(50);
    // Settled: no change after the need was met.
    expect(scaler.history().slice(-5).every((d) => d.action === 'hold')).toBe(true);
  });

  it('leaves no timer behind after stop(), and stop/start are idempotent', async () => {
    const scaler = createAdaptiveScaler(pool(steady(50)), { clock });
    scaler.start();
    scaler.start();
    expect(scaler.state()).toBe('running');
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(25_000);
    scaler.stop();
    scaler.stop();
    expect(scaler.state()).toBe('stopped');
    expect(vi.getTimerCount()).toBe(0);
    const decided = scaler.history().length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(scaler.history()).toHaveLength(decided);
  });

  it('decides once per interval from samplesPerInterval snapshots', async () => {
    const p = pool(steady(50));
    const stats = vi.spyOn(p, 'stats');
    const scaler = createAdaptiveScaler(p, { clock, intervalMs: 1_000, samplesPerInterval: 4 });
    stats.mockClear();
    scaler.start();
    await vi.advanceTimersByTimeAsync(3_000);
    scaler.stop();
    expect(scaler.history()).toHaveLength(3);
    // One baseline at start, then four per interval.
    expect(stats).toHaveBeenCalledTimes(1 + 3 * 4);
  });

  it('publishes every decision, holds included, with its inputs and the component identity', async () => {
    const sub = listen<ScalerDecisionMessage>(SCALER_CHANNELS.decision);
    try {
      const scaler = createAdaptiveScaler(pool(steady(400)), { clock, name: 'api', region: 'eu' });
      scaler.start();
      await vi.advanceTimersByTimeAsync(30_000);
      scaler.stop();
      expect(sub.messages).toHaveLength(3);
      const [first] = sub.messages;
      expect(first).toMatchObject({
        component: { kind: 'adaptive-scaler', name: 'api', region: 'eu' },
        action: 'up',
        from: 10,
        to: 12,
        reason: 'acquire-wait',
      });
      expect(first?.inputs['waitMs']).toBeGreaterThan(100);
      expect(Object.values(first?.inputs ?? {}).every((v) => typeof v === 'number')).toBe(true);
    } finally {
      sub.stop();
    }
  });

  it('keeps only the last historySize decisions, oldest first', async () => {
    const scaler = createAdaptiveScaler(pool(steady(50)), { clock, intervalMs: 1_000, historySize: 3 });
    scaler.start();
    await vi.advanceTimersByTimeAsync(10_000);
    scaler.stop();
    const history = scaler.history();
    expect(history).toHaveLength(3);
    expect(history.map((d) => d.at)).toEqual([...history.map((d) => d.at)].sort((a, b) => a - b));
    expect(history.at(-1)?.at).toBe(Date.now());
  });

  it('reports a resize that throws as an event and retries it at the next interval', async () => {
    const p = pool(steady(400));
    const { logger, warnings } = recorder();
    let failures = 1;
    const flaky: ResizablePool = {
      bounds: p.bounds,
      stats: () => p.stats(),
      resize: (target) => {
        if (failures > 0) {
          failures -= 1;
          throw new Error('pool is busy');
        }
        p.resize(target);
      },
    };
    const sub = listen<ScalerResizeErrorMessage>(SCALER_CHANNELS.resizeError);
    try {
      const scaler = createAdaptiveScaler(flaky, { clock, logger });
      scaler.start();
      await vi.advanceTimersByTimeAsync(10_000);
      expect(p.stats().target).toBe(10);
      expect(sub.messages).toEqual([
        {
          component: expect.objectContaining({ kind: 'adaptive-scaler', name: 'simulated' }),
          target: 12,
          error: { code: 'ERR_BERTH_INTERNAL', message: expect.stringContaining('pool is busy') },
        },
      ]);
      expect(warnings[0]).toContain('resize from 10 to 12 failed');
      await vi.advanceTimersByTimeAsync(10_000);
      scaler.stop();
      expect(p.stats().target).toBe(12);
      expect(scaler.history().map((d) => [d.from, d.to])).toEqual([
        [10, 12],
        [10, 12],
      ]);
    } finally {
      sub.stop();
    }
  });

  it('keeps the pool\'s own code when resize throws a BerthError', async () => {
    const p = pool(steady(400));
    const sub = listen<ScalerResizeErrorMessage>(SCALER_CHANNELS.resizeError);
    try {
      // The pool's bounds shrank under the scaler: resize(12) is out of range.
      const narrowed = createSimulatedPool({ model: steady(400), now: () => Date.now(), initialTarget: 10, bounds: { min: 1, max: 11 } });
      const lying: ResizablePool = { bounds: p.bounds, stats: () => narrowed.stats(), resize: (t) => narrowed.resize(t) };
      const scaler = createAdaptiveScaler(lying, { clock });
      scaler.start();
      await vi.advanceTimersByTimeAsync(10_000);
      scaler.stop();
      expect(sub.messages[0]?.error.code).toBe('ERR_BERTH_CONFIG');
    } finally {
      sub.stop();
    }
  });

  it('skips a sample when stats() throws, and falls back to hold time when the latency signal throws', async () => {
    const p = pool(steady(400));
    const { logger, warnings } = recorder();
    let calls = 0;
    const broken: ResizablePool = {
      bounds: p.bounds,
      stats: () => {
        calls += 1;
        if (calls === 3) throw new Error('stats broke');
        return p.stats();
      },
      resize: (t) => p.resize(t),
    };
    const scaler = createAdaptiveScaler(broken, {
      clock,
      logger,
      latency: () => {
        throw new Error('no estimate');
      },
    });
    scaler.start();
    await vi.advanceTimersByTimeAsync(20_000);
    scaler.stop();
    expect(warnings.some((w) => w.includes('stats() threw'))).toBe(true);
    expect(warnings.some((w) => w.includes('latency signal threw'))).toBe(true);
    expect(scaler.history()).toHaveLength(2);
    expect(scaler.history()[0]?.inputs['latencyMs']).toBeCloseTo(100, -1);
  });

  it('survives stats that break the PoolStats contract: the period is logged and skipped', async () => {
    const p = pool(steady(400));
    const errors: string[] = [];
    const logger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: (m) => errors.push(m) };
    let broken = false;
    const odd: ResizablePool = {
      bounds: p.bounds,
      stats: () => (broken ? ({ ...p.stats(), acquires: undefined } as never) : p.stats()),
      resize: (t) => p.resize(t),
    };
    const scaler = createAdaptiveScaler(odd, { clock, logger });
    scaler.start();
    broken = true;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(errors).toEqual(['adaptive-scaler: decision failed; period skipped']);
    broken = false;
    await vi.advanceTimersByTimeAsync(20_000);
    scaler.stop();
    // The failed period left no decision; the next ones measure from a fresh baseline.
    expect(scaler.history().map((d) => d.reason)).toEqual(['acquire-wait', 'acquire-wait']);
  });

  it('ignores latency readings that are not finite non-negative numbers', async () => {
    const p = pool(steady(50));
    const readings = [Number.NaN, -1, undefined, Number.POSITIVE_INFINITY];
    let i = 0;
    const scaler = createAdaptiveScaler(p, { clock, intervalMs: 1_000, samplesPerInterval: 4, latency: () => readings[i++ % 4] });
    scaler.start();
    await vi.advanceTimersByTimeAsync(1_000);
    scaler.stop();
    // No valid reading: the latency is the pool's hold time (100 ms).
    expect(scaler.history()[0]?.inputs['latencyMs']).toBeCloseTo(100, -1);
  });

  it('does not oscillate on a square-wave load', async () => {
    // 40 s at 600 req/s (60 connections busy), 40 s at 100 req/s (10 busy), for 30 minutes.
    const square: LoadModel = {
      arrivalRate: (t) => (Math.floor(t / 40_000) % 2 === 0 ? 600 : 100),
      serviceMs: () => 100,
    };
    const p = pool(square, 40);
    const scaler = createAdaptiveScaler(p, { clock, historySize: 1000 });
    scaler.start();
    await vi.advanceTimersByTimeAsync(30 * MINUTE);
    scaler.stop();
    const moves = scaler.history().filter((d) => d.action !== 'hold');
    // It may grow to cover the peaks, but never turns around: no down step after an up step.
    const directions = moves.map((d) => d.action);
    expect(directions.length).toBeGreaterThan(0);
    expect(directions.every((a) => a === 'up')).toBe(true);
    expect(moves.length).toBeLessThanOrEqual(5);
    // Each quiet half restarts the stabilization window instead of shrinking the pool.
    expect(scaler.history().some((d) => d.reason === 'stabilizing')).toBe(true);
  });

  it('stops growing when the upstream saturates, and shrinks after the load drops', async () => {
    // Needs 120 connections at 100 ms, but the upstream serves only 60 at once; then the load drops.
    const model: LoadModel = {
      arrivalRate: piecewise([
        [0, 100],
        [8, 1200],
        [14, 1200],
        [14.1, 100],
      ]),
      serviceMs: () => 100,
      upstreamConcurrency: 60,
    };
    const p = pool(model);
    const scaler = createAdaptiveScaler(p, { clock, latency: () => p.latency(), historySize: 1000 });
    scaler.start();
    await vi.advanceTimersByTimeAsync(14 * MINUTE);
    const peak = Math.max(...scaler.history().map((d) => d.to));
    expect(peak).toBeLessThanOrEqual(85);
    expect(scaler.history().some((d) => d.reason === 'no-gain')).toBe(true);
    expect(scaler.history().some((d) => d.reason === 'saturated')).toBe(true);
    const sizeUnderLoad = p.stats().target;
    expect(sizeUnderLoad).toBeLessThanOrEqual(72);
    await vi.advanceTimersByTimeAsync(16 * MINUTE);
    scaler.stop();
    expect(p.stats().target).toBeLessThan(sizeUnderLoad);
    expect(scaler.history().some((d) => d.reason === 'low-utilization')).toBe(true);
  });

  it('restarts from a fresh baseline after stop() and start()', async () => {
    const p = pool(steady(400));
    const scaler = createAdaptiveScaler(p, { clock });
    scaler.start();
    await vi.advanceTimersByTimeAsync(10_000);
    scaler.stop();
    await vi.advanceTimersByTimeAsync(MINUTE);
    scaler.start();
    await vi.advanceTimersByTimeAsync(10_000);
    scaler.stop();
    const [, second] = scaler.history();
    // Measured over the 10 s after the restart, not the idle minute before it.
    expect(second?.inputs['throughput']).toBeCloseTo(120, -1);
  });

  it('validates its options against the pool\'s bounds at construction', () => {
    expect(() => createAdaptiveScaler(pool(steady(1)), { min: 0 })).toThrow(expect.objectContaining({ code: 'ERR_BERTH_CONFIG' }));
  });
});

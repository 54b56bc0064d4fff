import { describe, expect, it } from 'vitest';
import { SCALER_SCENARIOS, piecewise } from './scenarios.js';
import { simulate } from './simulate.js';
import type { LoadProfile } from './simulate.js';

const MINUTE = 60_000;

const at = (result: ReturnType<typeof simulate>, minute: number) => {
  const point = result.points.find((p) => p.t >= minute * MINUTE);
  if (point === undefined) throw new Error(`no point at minute ${minute}`);
  return point;
};

describe('simulate', () => {
  it('is deterministic: the same profile gives the same decisions', () => {
    const a = simulate(SCALER_SCENARIOS.spike);
    const b = simulate(SCALER_SCENARIOS.spike);
    expect(a.decisions).toEqual(b.decisions);
    expect(a.points).toHaveLength(180);
  });

  it('ramp: follows a growing load with the pool just above its need and little waiting', () => {
    const r = simulate(SCALER_SCENARIOS.ramp);
    for (const minute of [10, 20, 29]) {
      const p = at(r, minute);
      expect(p.size).toBeGreaterThanOrEqual(Math.floor(p.neededConnections));
      expect(p.size).toBeLessThanOrEqual(Math.ceil(p.neededConnections * 1.5));
    }
    expect(r.decisions.filter((d) => d.action === 'down')).toEqual([]);
  });

  it('spike: grows within a minute or two, and shrinks only after the 5-minute stabilization window', () => {
    const r = simulate(SCALER_SCENARIOS.spike);
    expect(at(r, 10).size).toBeGreaterThanOrEqual(160);
    // Spike ends at 12.1 min; nothing shrinks for the next 5 minutes.
    const firstDown = r.decisions.find((d) => d.action === 'down');
    expect(firstDown?.at).toBeGreaterThanOrEqual((12.1 + 5) * MINUTE);
    expect(at(r, 29).size).toBeLessThan(at(r, 12).size);
  });

  it('drop: shrinks in ×0.8 steps after the window, never below what the load needs', () => {
    const r = simulate(SCALER_SCENARIOS.drop);
    const downs = r.decisions.filter((d) => d.action === 'down');
    expect(downs.length).toBeGreaterThan(2);
    for (const d of downs) expect(d.to).toBe(Math.min(d.from - 1, Math.round(d.from * 0.8)));
    expect(at(r, 29).size).toBeGreaterThanOrEqual(20);
    expect(at(r, 29).size).toBeLessThan(100);
  });

  it('saturated: stops growing near the upstream\'s concurrency instead of chasing the load', () => {
    const r = simulate(SCALER_SCENARIOS.saturated);
    expect(Math.max(...r.points.map((p) => p.size))).toBeLessThanOrEqual(85);
    expect(at(r, 29).size).toBeLessThanOrEqual(72);
    expect(at(r, 29).neededConnections).toBe(120);
    expect(r.decisions.filter((d) => d.reason === 'no-gain').length).toBeGreaterThan(0);
  });

  it('slowdown: holds growth while the upstream slows down, and reports why', () => {
    const r = simulate(SCALER_SCENARIOS.slowdown);
    const during = r.decisions.filter((d) => d.at > 10 * MINUTE && d.at < 17 * MINUTE);
    expect(during.some((d) => d.reason === 'congestion')).toBe(true);
    expect(Math.max(...during.map((d) => d.to))).toBeLessThanOrEqual(72);
  });

  it('works from the pool\'s hold time alone when no latency signal is given', () => {
    const r = simulate(SCALER_SCENARIOS.saturated, { latencySignal: false });
    expect(Math.max(...r.points.map((p) => p.size))).toBeLessThanOrEqual(85);
  });

  it('without stabilization and tolerance (the bare seed rules) a square-wave load makes the pool oscillate', () => {
    const square: LoadProfile = {
      name: 'square',
      title: 'square',
      durationMs: 30 * MINUTE,
      initialSize: 40,
      model: { arrivalRate: (t) => (Math.floor(t / 40_000) % 2 === 0 ? 600 : 100), serviceMs: () => 100 },
    };
    const bare = simulate(square, { downStabilizationMs: 0, tolerance: 0 });
    const guarded = simulate(square);
    const turns = (r: ReturnType<typeof simulate>) => {
      const moves = r.decisions.filter((d) => d.action !== 'hold').map((d) => d.action);
      return moves.filter((a, i) => i > 0 && a !== moves[i - 1]).length;
    };
    expect(turns(bare)).toBeGreaterThan(20);
    expect(turns(guarded)).toBe(0);
  });
});

describe('piecewise', () => {
  it('interpolates between points and stays flat outside them', () => {
    const f = piecewise([
      [1, 10],
      [3, 30],
    ]);
    expect(f(0)).toBe(10);
    expect(f(2 * MINUTE)).toBe(20);
    expect(f(10 * MINUTE)).toBe(30);
    expect(piecewise([])(0)).toBe(0);
    expect(piecewise([[1, 5], [1, 7]])(MINUTE)).toBe(5);
  });
});

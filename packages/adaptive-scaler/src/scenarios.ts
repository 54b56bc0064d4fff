import type { LoadProfile } from './simulate.js';

const MINUTE = 60_000;

/**
 * A piecewise-linear function of time through `[minute, value]` points, flat before the first
 * and after the last.
 */
export function piecewise(points: readonly (readonly [number, number])[]): (tMs: number) => number {
  return (tMs) => {
    const minute = tMs / MINUTE;
    let previous = points[0];
    if (previous === undefined) return 0;
    if (minute <= previous[0]) return previous[1];
    for (const point of points) {
      if (minute <= point[0]) {
        const span = point[0] - previous[0];
        return span <= 0 ? point[1] : previous[1] + ((point[1] - previous[1]) * (minute - previous[0])) / span;
      }
      previous = point;
    }
    return previous[1];
  };
}

const SERVICE_MS = 100;
const steadyService = (): number => SERVICE_MS;

/**
 * The load scenarios of the README chart (30 simulated minutes each, 100 ms upstream service
 * time, so 10 requests per second keep one connection busy):
 * - `ramp`: 100 → 1 500 req/s over 20 minutes (needs 10 → 150 connections);
 * - `spike`: 400 req/s with a 4-minute spike to 1 600 req/s;
 * - `drop`: 1 500 req/s falling to 200 req/s at minute 10;
 * - `saturated`: 100 → 1 200 req/s against an upstream that serves only 60 requests at once;
 * - `slowdown`: steady 500 req/s while an upstream that serves 60 at once gets twice as slow for 6 minutes.
 */
export const SCALER_SCENARIOS: Readonly<Record<'ramp' | 'spike' | 'drop' | 'saturated' | 'slowdown', LoadProfile>> = {
  ramp: {
    name: 'ramp',
    title: 'Ramp: 100 → 1 500 req/s over 20 min',
    durationMs: 30 * MINUTE,
    model: { arrivalRate: piecewise([[0, 100], [20, 1500]]), serviceMs: steadyService },
  },
  spike: {
    name: 'spike',
    title: 'Spike: 400 → 1 600 req/s for 4 min',
    durationMs: 30 * MINUTE,
    initialSize: 50,
    model: {
      arrivalRate: piecewise([[8, 400], [8.1, 1600], [12, 1600], [12.1, 400]]),
      serviceMs: steadyService,
    },
  },
  drop: {
    name: 'drop',
    title: 'Drop: 1 500 → 200 req/s at 10 min',
    durationMs: 30 * MINUTE,
    initialSize: 180,
    model: { arrivalRate: piecewise([[10, 1500], [10.1, 200]]), serviceMs: steadyService },
  },
  saturated: {
    name: 'saturated',
    title: 'Saturated upstream: serves 60 at once, load needs 120',
    durationMs: 30 * MINUTE,
    model: { arrivalRate: piecewise([[0, 100], [10, 1200]]), serviceMs: steadyService, upstreamConcurrency: 60 },
  },
  slowdown: {
    name: 'slowdown',
    title: 'Slowdown: upstream twice as slow from min 10 to 16',
    durationMs: 30 * MINUTE,
    initialSize: 60,
    model: {
      arrivalRate: () => 500,
      serviceMs: piecewise([[10, SERVICE_MS], [11, 2 * SERVICE_MS], [16, 2 * SERVICE_MS], [17, SERVICE_MS]]),
      upstreamConcurrency: 60,
    },
  },
};

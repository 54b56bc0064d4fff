import { isBerthError } from '@berth/core-types';
import type { ConfigError } from '@berth/core-types';
import { describe, expect, it } from 'vitest';
import { resolveScalerOptions } from './options.js';
import type { ScalerOptions } from './options.js';

const BOUNDS = { min: 1, max: 1000 };

function problemsOf(input: unknown, bounds = BOUNDS): string[] {
  try {
    resolveScalerOptions(input as ScalerOptions, bounds);
  } catch (error) {
    expect(isBerthError(error, 'ERR_BERTH_CONFIG')).toBe(true);
    return (error as ConfigError).problems.map((p) => p.path);
  }
  return [];
}

describe('resolveScalerOptions', () => {
  it('defaults to the seed rules: 10 s, ×1.2 above 100 ms wait, ×0.8 below 30 % utilization, bounds 10–500', () => {
    const o = resolveScalerOptions({}, BOUNDS);
    expect(o).toMatchObject({
      intervalMs: 10_000,
      upFactor: 1.2,
      downFactor: 0.8,
      waitThresholdMs: 100,
      lowUtilization: 0.3,
      min: 10,
      max: 500,
      tolerance: 0.1,
      upCooldownMs: 10_000,
      downStabilizationMs: 300_000,
      congestionTolerance: 1.5,
      samplesPerInterval: 10,
      historySize: 100,
    });
  });

  it('fits the default bounds inside the pool\'s own bounds', () => {
    expect(resolveScalerOptions({}, { min: 20, max: 64 })).toMatchObject({ min: 20, max: 64 });
  });

  it('ties the default cooldown to the interval', () => {
    expect(resolveScalerOptions({ intervalMs: 2_000 }, BOUNDS).upCooldownMs).toBe(2_000);
  });

  it('reports every bad option at once: min > max, factors, thresholds, interval below 100 ms', () => {
    const paths = problemsOf({
      min: 50,
      max: 40,
      upFactor: 1,
      downFactor: 1,
      waitThresholdMs: 0,
      lowUtilization: 1.5,
      tolerance: 1,
      intervalMs: 99,
      congestionTolerance: 1,
      minStepGain: 2,
      samplesPerInterval: 0.5,
      historySize: 0,
      longWindow: 1,
      littleHeadroom: 0.5,
      upCooldownMs: -1,
      downStabilizationMs: -1,
      saturationHoldMs: Number.NaN,
      latency: 'fast',
      name: '',
    });
    expect(paths).toEqual([
      'name',
      'intervalMs',
      'samplesPerInterval',
      'min',
      'upFactor',
      'downFactor',
      'waitThresholdMs',
      'lowUtilization',
      'tolerance',
      'upCooldownMs',
      'downStabilizationMs',
      'congestionTolerance',
      'longWindow',
      'littleHeadroom',
      'minStepGain',
      'saturationHoldMs',
      'historySize',
      'latency',
    ]);
  });

  it('names the expected range and the received value in the message', () => {
    expect(() => resolveScalerOptions({ upFactor: 0.9, downFactor: 1.1 }, BOUNDS)).toThrow(
      /upFactor: expected a number > 1 and <= 10, received 0\.9[\s\S]*downFactor: expected a number > 0 and < 1, received 1\.1/,
    );
  });

  it('rejects bounds the pool itself would refuse instead of clamping them', () => {
    expect(problemsOf({ min: 5, max: 2000 }, { min: 10, max: 1000 })).toEqual(['min', 'max']);
  });
});

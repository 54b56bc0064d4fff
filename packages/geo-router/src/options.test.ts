import { describe, expect, it } from 'vitest';
import { ConfigError, silentLogger, systemClock } from '@berth/core-types';
import type { Transport } from '@berth/core-types';
import { resolveOptions } from './options.js';
import type { GeoRouterOptions } from './options.js';

const transport: Transport = {
  request: () => Promise.reject(new Error('unused')),
  stats: () => ({ kind: 'x', name: 'x', state: 'ready', requests: 0, inFlight: 0, queued: 0, errors: 0 }),
  close: () => Promise.resolve(),
};

function problemsOf(input: unknown): string[] {
  try {
    resolveOptions(input as GeoRouterOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('ERR_BERTH_CONFIG');
    return (error as ConfigError).problems.map((p) => p.path);
  }
  return [];
}

describe('resolveOptions', () => {
  it('fills the documented defaults', () => {
    const o = resolveOptions({ regions: { eu: { transport } } });
    expect(o).toMatchObject({
      name: 'geo-router',
      strategy: 'lowest-latency',
      switchMarginPct: 20,
      switchAfterMs: 3000,
      decayMs: 10_000,
      defaultRttMs: 30,
      failurePenalty: 2,
      overProvisioningFactor: 1.4,
      maxAttempts: 3,
      attemptTimeoutMs: undefined,
      fallbackRegion: undefined,
      hedge: undefined,
      probe: { path: '/', method: 'GET', intervalMs: 5000, timeoutMs: 2000, jitterPct: 10, initialDelayMs: 0 },
      outlier: { consecutiveFailures: 5, intervalMs: 10_000, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPct: 100 },
    });
    expect(o.regions).toEqual([{ name: 'eu', transport, priority: 0, weight: 1 }]);
    expect(o.clock).toBe(systemClock);
    expect(o.logger).toBe(silentLogger);
  });

  it('reports every problem at once', () => {
    expect(
      problemsOf({
        regions: { eu: { transport: {}, priority: -1, weight: 0 }, us: 'x' },
        fallbackRegion: 'mars',
        switchMarginPct: -5,
        strategy: 'random',
        maxAttempts: 0,
        probe: { path: 'health', intervalMs: 1, method: 'POST', headers: 'x' },
        outlier: { baseEjectionMs: 1000, maxEjectionMs: 10 },
        hedge: { budgetPct: 0 },
        clock: {},
        random: 1,
        logger: {},
      }),
    ).toEqual([
      'regions.eu.transport',
      'regions.eu.priority',
      'regions.eu.weight',
      'regions.us',
      'fallbackRegion',
      'probe.headers',
      'probe.path',
      'probe.method',
      'probe.intervalMs',
      'outlier.maxEjectionMs',
      'hedge.budgetPct',
      'clock',
      'random',
      'logger',
      'strategy',
      'switchMarginPct',
      'maxAttempts',
    ]);
  });

  it('rejects an empty region map, a non-object and bad sub-objects', () => {
    expect(problemsOf({ regions: {} })).toEqual(['regions']);
    expect(problemsOf(null)).toEqual(['options', 'regions']);
    expect(problemsOf({ regions: { a: { transport } }, probe: 1, outlier: 2, hedge: 3 })).toEqual(['probe', 'outlier', 'hedge']);
  });

  it('rejects a fallback that is the only region', () => {
    expect(problemsOf({ regions: { a: { transport } }, fallbackRegion: 'a' })).toEqual(['fallbackRegion']);
  });

  it('turns probes and hedging on and off', () => {
    const o = resolveOptions({ regions: { a: { transport } }, probe: false, hedge: { delayMs: 40 } });
    expect(o.probe).toBeUndefined();
    expect(o.hedge).toEqual({ delayMs: 40, minDelayMs: 5, budgetPct: 5 });
    expect(resolveOptions({ regions: { a: { transport } }, hedge: false }).hedge).toBeUndefined();
  });
});

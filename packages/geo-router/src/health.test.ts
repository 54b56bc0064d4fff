import { describe, expect, it } from 'vitest';
import {
  createRegionHealth,
  eject,
  ejectionDurationMs,
  endWindow,
  mayEject,
  recordOutcome,
  restore,
  startProbation,
  successRateOutliers,
} from './health.js';
import type { ResolvedOutlier } from './options.js';

const cfg: ResolvedOutlier = {
  consecutiveFailures: 5,
  intervalMs: 10_000,
  baseEjectionMs: 30_000,
  maxEjectionMs: 300_000,
  ejectionJitterPct: 10,
  maxEjectionPct: 100,
  minRequests: 50,
  successRateMarginPct: 10,
  failurePct: 85,
};

describe('outlier detection', () => {
  it('ejects after 5 consecutive failures, and a success in between resets the count', () => {
    const h = createRegionHealth();
    for (let i = 0; i < 4; i += 1) expect(recordOutcome(h, false, cfg).t).toBe('none');
    expect(recordOutcome(h, true, cfg).t).toBe('none');
    for (let i = 0; i < 4; i += 1) recordOutcome(h, false, cfg);
    expect(recordOutcome(h, false, cfg)).toEqual({ t: 'eject', reason: 'consecutive-failures' });
  });

  it('lasts base × n, capped at max, plus up to the jitter percentage', () => {
    expect(ejectionDurationMs(1, cfg, 0)).toBe(30_000);
    expect(ejectionDurationMs(3, cfg, 0)).toBe(90_000);
    expect(ejectionDurationMs(20, cfg, 0)).toBe(300_000);
    expect(ejectionDurationMs(1, cfg, 0.5)).toBe(31_500);
  });

  it('grows the multiplier with each ejection up to the cap and records the phase', () => {
    const h = createRegionHealth();
    expect(eject(h, 'consecutive-failures', 1000, cfg, 0)).toBe(30_000);
    expect(h.phase).toEqual({ t: 'ejected', since: 1000, until: 31_000, reason: 'consecutive-failures' });
    startProbation(h, 31_000);
    expect(recordOutcome(h, false, cfg)).toEqual({ t: 'eject', reason: 'probe-failed' });
    expect(eject(h, 'probe-failed', 31_000, cfg, 0)).toBe(60_000);
    for (let i = 0; i < 20; i += 1) eject(h, 'probe-failed', 0, cfg, 0);
    expect(h.multiplier).toBe(10);
    expect(h.ejections).toBe(22);
  });

  it('restores a region on probation at its first success', () => {
    const h = createRegionHealth();
    eject(h, 'consecutive-failures', 0, cfg, 0);
    expect(recordOutcome(h, true, cfg).t).toBe('none');
    startProbation(h, 30_000);
    expect(recordOutcome(h, true, cfg).t).toBe('restore');
    restore(h);
    expect(h.phase.t).toBe('healthy');
  });

  it('does not eject an ejected region again on more failures', () => {
    const h = createRegionHealth();
    eject(h, 'consecutive-failures', 0, cfg, 0);
    for (let i = 0; i < 10; i += 1) expect(recordOutcome(h, false, cfg).t).toBe('none');
  });

  it('never ejects the last healthy region and honours max ejection percent (at least one)', () => {
    expect(mayEject(0, 1, 1, cfg)).toBe(false);
    expect(mayEject(1, 1, 2, cfg)).toBe(false);
    expect(mayEject(1, 2, 3, cfg)).toBe(true);
    const tenPct = { ...cfg, maxEjectionPct: 10 };
    expect(mayEject(0, 3, 3, tenPct)).toBe(true);
    expect(mayEject(1, 2, 3, tenPct)).toBe(false);
  });

  it('lowers the multiplier once per clean window (gRFC A50), not in a window with an ejection', () => {
    const h = createRegionHealth();
    eject(h, 'consecutive-failures', 0, cfg, 0);
    eject(h, 'consecutive-failures', 0, cfg, 0);
    restore(h);
    endWindow(h);
    expect(h.multiplier).toBe(2);
    endWindow(h);
    expect(h.multiplier).toBe(1);
    endWindow(h);
    endWindow(h);
    expect(h.multiplier).toBe(0);
    expect(h.windowRequests).toBe(0);
  });
});

describe('success-rate sweep', () => {
  it('ejects a region whose success rate is 10 points below the other regions pooled', () => {
    const verdicts = successRateOutliers(
      [
        { requests: 100, failures: 20 },
        { requests: 100, failures: 1 },
        { requests: 100, failures: 2 },
      ],
      cfg,
    );
    expect(verdicts).toEqual(['success-rate', undefined, undefined]);
  });

  it('catches an outlier among three regions, which Envoy’s mean − 1.9σ rule never can', () => {
    const rates = [0.5, 1, 1];
    const mean = rates.reduce((a, b) => a + b) / 3;
    const sigma = Math.sqrt(rates.reduce((a, r) => a + (r - mean) ** 2, 0) / 3);
    expect(rates[0]! < mean - 1.9 * sigma).toBe(false);
    expect(successRateOutliers([{ requests: 100, failures: 50 }, { requests: 100, failures: 0 }, { requests: 100, failures: 0 }], cfg)[0]).toBe(
      'success-rate',
    );
  });

  it('judges only regions with enough requests, and leaves a region alone with nobody to compare to', () => {
    expect(successRateOutliers([{ requests: 49, failures: 49 }, { requests: 100, failures: 0 }], cfg)).toEqual([undefined, undefined]);
    expect(successRateOutliers([{ requests: 100, failures: 30 }, { requests: 10, failures: 0 }], cfg)).toEqual([undefined, undefined]);
  });

  it('ejects at 85 % failures whatever the others do', () => {
    expect(successRateOutliers([{ requests: 100, failures: 85 }], cfg)).toEqual(['failure-percentage']);
  });
});

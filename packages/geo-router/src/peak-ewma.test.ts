import { describe, expect, it } from 'vitest';
import { createPeakEwma, observePeakEwma, peakEwmaLoad, readPeakEwma } from './peak-ewma.js';

const TAU = 10_000;

describe('Peak-EWMA estimator', () => {
  it('holds the prior until the first sample, then replaces it outright', () => {
    const e = createPeakEwma(30, 0);
    expect(readPeakEwma(e, 50_000, TAU)).toBe(30);
    observePeakEwma(e, 12, 1000, TAU);
    expect(e.cost).toBe(12);
    expect(e.samples).toBe(1);
  });

  it('jumps to a sample above the estimate (the peak) at once', () => {
    const e = createPeakEwma(30, 0);
    observePeakEwma(e, 20, 0, TAU);
    observePeakEwma(e, 500, 1, TAU);
    expect(e.cost).toBe(500);
  });

  it('moves toward a lower sample with weight exp(−Δt/τ)', () => {
    const e = createPeakEwma(30, 0);
    observePeakEwma(e, 100, 0, TAU);
    observePeakEwma(e, 20, 10_000, TAU);
    const w = Math.exp(-1);
    expect(e.cost).toBeCloseTo(20 * (1 - w) + 100 * w, 10);
    // A sample with no time elapsed has no weight: the estimate does not move.
    observePeakEwma(e, 0, 10_000, TAU);
    expect(e.cost).toBeCloseTo(20 * (1 - w) + 100 * w, 10);
  });

  it('recovers from a spike at the same speed whether sampled often or rarely', () => {
    const often = createPeakEwma(30, 0);
    const rarely = createPeakEwma(30, 0);
    observePeakEwma(often, 1000, 0, TAU);
    observePeakEwma(rarely, 1000, 0, TAU);
    for (let t = 5; t <= 10_000; t += 5) observePeakEwma(often, 10, t, TAU);
    observePeakEwma(rarely, 10, 10_000, TAU);
    expect(often.cost).toBeCloseTo(rarely.cost, 6);
  });

  it('decays reads toward zero while no sample arrives, without changing the state', () => {
    const e = createPeakEwma(30, 0);
    observePeakEwma(e, 80, 0, TAU);
    expect(readPeakEwma(e, 0, TAU)).toBe(80);
    expect(readPeakEwma(e, 20_000, TAU)).toBeCloseTo(80 * Math.exp(-2), 10);
    expect(e.cost).toBe(80);
    expect(readPeakEwma(e, -5, TAU)).toBe(80);
  });

  it('clamps negative samples and clock steps backwards to zero', () => {
    const e = createPeakEwma(30, 100);
    observePeakEwma(e, 50, 100, TAU);
    observePeakEwma(e, -10, 50, TAU);
    expect(e.cost).toBe(50);
  });

  it('scales load by pending + 1 and divides it by weight (Finagle, tower)', () => {
    expect(peakEwmaLoad(20, 0, 1)).toBe(20);
    expect(peakEwmaLoad(20, 4, 1)).toBe(100);
    expect(peakEwmaLoad(20, 4, 2)).toBe(50);
  });
});

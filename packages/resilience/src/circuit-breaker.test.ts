import diagnostics from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BerthError, RESILIENCE_CHANNELS, systemClock } from '@berth/core-types';
import type { BreakerStateMessage, RejectedMessage } from '@berth/core-types';
import { createInProcessBreakerStore } from './breaker-store.js';
import { createCircuitBreaker } from './circuit-breaker.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import { CircuitOpenError } from './errors.js';

const KEY = 'https://api.example.com';

async function fail(breaker: CircuitBreaker, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) {
    const permit = await breaker.admit(KEY);
    await permit.report('failure');
  }
}

async function succeed(breaker: CircuitBreaker, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) {
    const permit = await breaker.admit(KEY);
    await permit.report('success');
  }
}

describe('CircuitBreaker', () => {
  const events: BreakerStateMessage[] = [];
  const rejected: RejectedMessage[] = [];
  const onBreaker = (m: unknown): void => void events.push(m as BreakerStateMessage);
  const onRejected = (m: unknown): void => void rejected.push(m as RejectedMessage);

  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
    events.length = 0;
    rejected.length = 0;
    diagnostics.subscribe(RESILIENCE_CHANNELS.breaker, onBreaker);
    diagnostics.subscribe(RESILIENCE_CHANNELS.rejected, onRejected);
  });

  afterEach(() => {
    diagnostics.unsubscribe(RESILIENCE_CHANNELS.breaker, onBreaker);
    diagnostics.unsubscribe(RESILIENCE_CHANNELS.rejected, onRejected);
    vi.useRealTimers();
  });

  it('opens after consecutive failures and fails fast with ERR_BERTH_CIRCUIT_OPEN carrying when it will retry', async () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 3, openMs: 10_000, clock: systemClock });
    await fail(breaker, 2);
    await succeed(breaker);
    await fail(breaker, 2);
    expect(breaker.state(KEY)).toBe('closed');
    await fail(breaker);
    expect(breaker.state(KEY)).toBe('open');
    const error = await breaker.admit(KEY).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({ code: 'ERR_BERTH_CIRCUIT_OPEN', key: KEY, retryAt: Date.now() + 10_000 });
    expect((error as Error).message).toContain('in 10000 ms');
    expect(events).toEqual([expect.objectContaining({ key: KEY, from: 'closed', to: 'open', retryAt: Date.now() + 10_000 })]);
    expect(events[0]?.component.kind).toBe('resilience');
    expect(rejected).toEqual([expect.objectContaining({ key: KEY, error: expect.objectContaining({ code: 'ERR_BERTH_CIRCUIT_OPEN' }) })]);
    expect(breaker.stats().keys[KEY]).toMatchObject({ state: 'open', retryAt: Date.now() + 10_000, rejected: 1, opened: 1 });
  });

  it('opens on the failure rate over the sliding window once it holds the minimum number of requests', async () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 100, failureRate: 0.5, windowSize: 10, minimumRequests: 10, clock: systemClock });
    // 9 failures: 100 % but under the minimum.
    await fail(breaker, 9);
    expect(breaker.state(KEY)).toBe('closed');
    await fail(breaker);
    expect(breaker.state(KEY)).toBe('open');
  });

  it('does not open while failures stay at or below the rate', async () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 100, failureRate: 0.5, windowSize: 10, minimumRequests: 4, clock: systemClock });
    for (let i = 0; i < 20; i++) {
      await succeed(breaker);
      await fail(breaker);
    }
    expect(breaker.state(KEY)).toBe('closed');
    await fail(breaker);
    expect(breaker.state(KEY)).toBe('open');
  });

  it('half-opens after openMs, admits only halfOpenProbes probes at once, and closes after enough successes', async () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 1, openMs: 5_000, halfOpenProbes: 2, successesToClose: 3, clock: systemClock });
    await fail(breaker);
    await vi.advanceTimersByTimeAsync(4_999);
    await expect(breaker.admit(KEY)).rejects.toMatchObject({ code: 'ERR_BERTH_CIRCUIT_OPEN' });
    await vi.advanceTimersByTimeAsync(1);
    const p1 = await breaker.admit(KEY);
    const p2 = await breaker.admit(KEY);
    expect([p1.probe, p2.probe]).toEqual([true, true]);
    expect(breaker.state(KEY)).toBe('half-open');
    await expect(breaker.admit(KEY)).rejects.toMatchObject({ code: 'ERR_BERTH_CIRCUIT_OPEN' });
    expect(breaker.stats().keys[KEY]).toMatchObject({ state: 'half-open', probes: 2 });
    await p1.report('success');
    const p3 = await breaker.admit(KEY);
    await p2.report('success');
    expect(breaker.state(KEY)).toBe('half-open');
    await p3.report('success');
    expect(breaker.state(KEY)).toBe('closed');
    expect(events.map((e) => `${e.from}>${e.to}`)).toEqual(['closed>open', 'open>half-open', 'half-open>closed']);
  });

  it('re-opens on a failed probe for twice as long, up to maxOpenMs', async () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 1, openMs: 1_000, maxOpenMs: 3_000, halfOpenProbes: 1, clock: systemClock });
    await fail(breaker);
    const periods: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { retryAt } = (await breaker.admit(KEY).catch((e: unknown) => e)) as CircuitOpenError;
      periods.push(retryAt - Date.now());
      await vi.advanceTimersByTimeAsync(retryAt - Date.now());
      await fail(breaker);
    }
    expect(periods).toEqual([1_000, 2_000, 3_000, 3_000]);
    // A successful trial resets the period.
    await vi.advanceTimersByTimeAsync(3_000);
    await succeed(breaker);
    await fail(breaker);
    const { retryAt } = (await breaker.admit(KEY).catch((e: unknown) => e)) as CircuitOpenError;
    expect(retryAt - Date.now()).toBe(1_000);
  });

  it('ignores the outcome of a call admitted before the breaker opened (no stale close, opossum #119)', async () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 2, openMs: 1_000, halfOpenProbes: 1, clock: systemClock });
    const slow = await breaker.admit(KEY);
    await fail(breaker, 2);
    await vi.advanceTimersByTimeAsync(1_000);
    const probe = await breaker.admit(KEY);
    await slow.report('success');
    expect(breaker.state(KEY)).toBe('half-open');
    await expect(breaker.admit(KEY)).rejects.toMatchObject({ code: 'ERR_BERTH_CIRCUIT_OPEN' });
    await probe.report('failure');
    expect(breaker.state(KEY)).toBe('open');
  });

  it('frees a probe place when the probe is aborted, so half-open never gets stuck (opossum #276)', async () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 1, openMs: 1_000, halfOpenProbes: 1, clock: systemClock });
    await fail(breaker);
    await vi.advanceTimersByTimeAsync(1_000);
    const probe = await breaker.admit(KEY);
    await probe.report('ignore');
    await probe.report('failure');
    expect(breaker.state(KEY)).toBe('half-open');
    await succeed(breaker);
    expect(breaker.state(KEY)).toBe('closed');
  });

  it('reclaims probe places that never reported after openMs', async () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 1, openMs: 1_000, halfOpenProbes: 1, clock: systemClock });
    await fail(breaker);
    await vi.advanceTimersByTimeAsync(1_000);
    await breaker.admit(KEY); // never reports
    const refused = (await breaker.admit(KEY).catch((e: unknown) => e)) as CircuitOpenError;
    expect(refused.retryAt).toBe(Date.now() + 1_000);
    await vi.advanceTimersByTimeAsync(1_000);
    await succeed(breaker);
    expect(breaker.state(KEY)).toBe('closed');
  });

  it('starts fresh detectors when it closes, so old failures cannot re-open it (opossum #484)', async () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 3, openMs: 1_000, halfOpenProbes: 1, clock: systemClock });
    await fail(breaker, 3);
    await vi.advanceTimersByTimeAsync(1_000);
    await succeed(breaker);
    await fail(breaker, 2);
    expect(breaker.state(KEY)).toBe('closed');
  });

  it('counts thrown errors as failures in execute(), except aborts and local refusals', async () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 2, clock: systemClock });
    const aborted = new BerthError('ERR_BERTH_ABORTED', 'aborted');
    for (let i = 0; i < 5; i++) await expect(breaker.execute(KEY, () => Promise.reject(aborted))).rejects.toBe(aborted);
    expect(breaker.state(KEY)).toBe('closed');
    await expect(breaker.execute(KEY, () => Promise.resolve(503), (s) => (s >= 500 ? 'failure' : 'success'))).resolves.toBe(503);
    await expect(breaker.execute(KEY, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(breaker.state(KEY)).toBe('open');
    expect(await breaker.execute('other', () => Promise.resolve('ok'))).toBe('ok');
  });

  it('shares state through its store: a breaker opened by one instance refuses on another', async () => {
    const store = createInProcessBreakerStore();
    const a = createCircuitBreaker({ consecutiveFailures: 1, store, clock: systemClock });
    const b = createCircuitBreaker({ consecutiveFailures: 1, store, clock: systemClock });
    await fail(a);
    await expect(b.admit(KEY)).rejects.toMatchObject({ code: 'ERR_BERTH_CIRCUIT_OPEN' });
    expect(await store.get(KEY)).toMatchObject({ t: 'open' });
  });

  it('keeps its in-process store bounded', async () => {
    const store = createInProcessBreakerStore({ maxKeys: 2 });
    const breaker = createCircuitBreaker({ store, clock: systemClock });
    for (const key of ['a', 'b', 'c']) await (await breaker.admit(key)).report('success');
    expect(await store.get('a')).toBeUndefined();
    expect(await store.get('c')).toBeDefined();
  });
});

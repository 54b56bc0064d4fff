import diagnostics from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BerthError, RESILIENCE_CHANNELS, systemClock } from '@berth/core-types';
import type { RateAdjustedMessage, ThrottledMessage } from '@berth/core-types';
import { createInProcessLimiterStore } from './limiter-store.js';
import { createRateLimiter } from './rate-limiter.js';

const KEY = 'https://api.example.com';

describe('RateLimiter', () => {
  const rates: RateAdjustedMessage[] = [];
  const throttled: ThrottledMessage[] = [];
  const onRate = (m: unknown): void => void rates.push(m as RateAdjustedMessage);
  const onThrottled = (m: unknown): void => void throttled.push(m as ThrottledMessage);

  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
    rates.length = 0;
    throttled.length = 0;
    diagnostics.subscribe(RESILIENCE_CHANNELS.rate, onRate);
    diagnostics.subscribe(RESILIENCE_CHANNELS.throttled, onThrottled);
  });

  afterEach(() => {
    diagnostics.unsubscribe(RESILIENCE_CHANNELS.rate, onRate);
    diagnostics.unsubscribe(RESILIENCE_CHANNELS.throttled, onThrottled);
    vi.useRealTimers();
  });

  it('holds its rate within ±5 % over 10 000 acquisitions', async () => {
    const limiter = createRateLimiter({ ratePerSec: 200, burst: 20, maxWaitMs: 1_000, clock: systemClock });
    const start = Date.now();
    const grants: number[] = [];
    const worker = async (): Promise<void> => {
      for (let i = 0; i < 1_000; i++) {
        await limiter.acquire(KEY);
        grants.push(Date.now());
      }
    };
    const all = Promise.all(Array.from({ length: 10 }, worker));
    while (grants.length < 10_000) await vi.advanceTimersByTimeAsync(1_000);
    await all;
    const elapsedSec = (Math.max(...grants) - start) / 1000;
    const rate = grants.length / elapsedSec;
    expect(Math.abs(rate / 200 - 1)).toBeLessThan(0.05);
    // No one-second window after the burst ever exceeds the rate by more than the burst.
    let lo = 0;
    for (let hi = 0; hi < grants.length; hi++) {
      while (grants[hi]! - grants[lo]! >= 1_000) lo += 1;
      expect(hi - lo + 1).toBeLessThanOrEqual(200 + 20);
    }
    expect(limiter.stats().keys[KEY]).toMatchObject({ granted: 10_000, rejected: 0, ratePerSec: 200 });
  });

  it('grants a burst at once, then spaces tokens at 1/rate', async () => {
    const limiter = createRateLimiter({ ratePerSec: 10, burst: 3, maxWaitMs: 10_000, clock: systemClock });
    for (let i = 0; i < 3; i++) expect(await limiter.acquire(KEY)).toBe(0);
    const start = Date.now();
    const later = [limiter.acquire(KEY), limiter.acquire(KEY)];
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await Promise.all(later)).toEqual([100, 200]);
    expect(Date.now() - start).toBe(1_000);
  });

  it('refuses with ERR_BERTH_RATE_LIMITED when a token is further away than maxWaitMs, taking nothing', async () => {
    const limiter = createRateLimiter({ ratePerSec: 1, burst: 1, maxWaitMs: 500, clock: systemClock });
    expect(await limiter.acquire(KEY)).toBe(0);
    const error = await limiter.acquire(KEY).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_BERTH_RATE_LIMITED', details: { key: KEY, waitMs: 1_000, maxWaitMs: 500 } });
    await vi.advanceTimersByTimeAsync(600);
    const granted = limiter.acquire(KEY);
    await vi.advanceTimersByTimeAsync(400);
    expect(await granted).toBe(400);
    expect(limiter.stats().keys[KEY]).toMatchObject({ granted: 2, rejected: 1, throttled: 1 });
  });

  it('gives the token back when the waiting caller aborts', async () => {
    const limiter = createRateLimiter({ ratePerSec: 1, burst: 1, maxWaitMs: 5_000, clock: systemClock });
    await limiter.acquire(KEY);
    const controller = new AbortController();
    const waiting = limiter.acquire(KEY, controller.signal);
    const reason = new BerthError('ERR_BERTH_ABORTED', 'caller gave up');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    const next = limiter.acquire(KEY);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await next).toBe(1_000);
    const plain = new AbortController();
    const waitingToo = limiter.acquire(KEY, plain.signal);
    plain.abort();
    await expect(waitingToo).rejects.toMatchObject({ code: 'ERR_BERTH_ABORTED', message: expect.stringContaining('rate-limit token') });
  });

  it('pauses a key for a 429 Retry-After, halves its rate, then recovers slowly to the configured rate', async () => {
    const limiter = createRateLimiter({ ratePerSec: 10, burst: 10, maxWaitMs: 5_000, clock: systemClock });
    await limiter.throttled(KEY, 2_000);
    expect(limiter.rate(KEY)).toBe(5);
    expect(rates).toEqual([expect.objectContaining({ key: KEY, reason: 'throttled', ratePerSec: 5, configuredRatePerSec: 10, pausedMs: 2_000 })]);
    const first = limiter.acquire(KEY);
    await vi.advanceTimersByTimeAsync(2_200);
    // The pause, then one token at the lowered rate (1/5 s).
    expect(await first).toBe(2_200);
    expect(throttled).toEqual([expect.objectContaining({ key: KEY, waitMs: 2_200, paused: true })]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(limiter.rate(KEY)).toBeCloseTo(5 + 10 * 0.05 * 7.2, 5);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(limiter.rate(KEY)).toBe(10);
    expect(rates.at(-1)).toMatchObject({ reason: 'recovered', ratePerSec: 10 });
    expect(limiter.stats().keys[KEY]).toMatchObject({ upstream429: 1, ratePerSec: 10 });
  });

  it('lowers the rate once per cooldown for a burst of 429s, and never below minRatio', async () => {
    const limiter = createRateLimiter({ ratePerSec: 100, aimd: { decreaseFactor: 0.5, minRatio: 0.2, cooldownMs: 1_000 }, clock: systemClock });
    for (let i = 0; i < 10; i++) await limiter.throttled(KEY);
    expect(limiter.rate(KEY)).toBe(50);
    expect(rates).toHaveLength(1);
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(1_000);
      await limiter.throttled(KEY);
    }
    expect(limiter.rate(KEY)).toBe(20);
    // At the floor a further 429 changes nothing and announces nothing.
    const announced = rates.length;
    await vi.advanceTimersByTimeAsync(1_000);
    await limiter.throttled(KEY);
    expect(limiter.rate(KEY)).toBe(20);
    expect(rates).toHaveLength(announced + 1);
    await limiter.throttled(KEY);
    expect(rates).toHaveLength(announced + 1);
  });

  it('keeps the configured rate on 429 when AIMD is off, and still honours the pause', async () => {
    const limiter = createRateLimiter({ ratePerSec: 100, aimd: false, maxPauseMs: 1_000, clock: systemClock });
    await limiter.throttled(KEY, 60_000);
    expect(limiter.rate(KEY)).toBe(100);
    expect(limiter.stats().keys[KEY]?.pausedUntil).toBe(Date.now() + 1_000);
    await expect(limiter.acquire(KEY)).rejects.toMatchObject({ code: 'ERR_BERTH_RATE_LIMITED', message: expect.stringContaining('paused by the upstream') });
  });

  it('makes a request already waiting for its token wait out a pause that arrives meanwhile', async () => {
    const limiter = createRateLimiter({ ratePerSec: 10, burst: 1, maxWaitMs: 5_000, aimd: false, clock: systemClock });
    await limiter.acquire(KEY);
    const waiting = limiter.acquire(KEY);
    await limiter.throttled(KEY, 1_000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await waiting).toBe(1_000);
  });

  it('keeps buckets per key', async () => {
    const store = createInProcessLimiterStore({ maxKeys: 1 });
    const limiter = createRateLimiter({ ratePerSec: 1, burst: 1, maxWaitMs: 0, store, clock: systemClock });
    await limiter.acquire('a');
    await limiter.acquire('b');
    await expect(limiter.acquire('b')).rejects.toMatchObject({ code: 'ERR_BERTH_RATE_LIMITED' });
    // 'a' was forgotten by the bounded store: it comes back with a full bucket.
    await expect(limiter.acquire('a')).resolves.toBe(0);
    expect(limiter.rate('never-seen')).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { isBerthError } from '@berth/core-types';
import type { ConfigError } from '@berth/core-types';
import { createBulkhead } from './bulkhead.js';
import { createCircuitBreaker } from './circuit-breaker.js';
import { createRateLimiter } from './rate-limiter.js';
import { createRetryPolicy } from './retry-policy.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(isBerthError(error, 'ERR_BERTH_CONFIG')).toBe(true);
    return (error as ConfigError).problems.map((p) => p.path);
  }
  throw new Error('expected ERR_BERTH_CONFIG');
}

describe('options', () => {
  it('lists every bad retry option at once: invalid numbers, a cap below the base delay, a budget over 100 %', () => {
    const paths = problemsOf(() =>
      createRetryPolicy({
        maxAttempts: 0,
        baseDelayMs: 500,
        maxDelayMs: 100,
        attemptTimeoutMs: -1,
        retryStatuses: [503, 99],
        budget: { ratio: 1.5, minRetriesPerSec: -1, ttlMs: 10 },
        random: {} as never,
      }),
    );
    expect(paths).toEqual(
      expect.arrayContaining([
        'maxAttempts',
        'maxDelayMs',
        'attemptTimeoutMs',
        'retryStatuses',
        'budget.ratio',
        'budget.minRetriesPerSec',
        'budget.ttlMs',
        'random',
      ]),
    );
  });

  it('says what was expected and what was received', () => {
    try {
      createRetryPolicy({ baseDelayMs: 500, maxDelayMs: 100 });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toContain('maxDelayMs: expected a cap >= baseDelayMs (500), received 100');
    }
  });

  it('rejects a non-object budget and a non-object options argument', () => {
    expect(problemsOf(() => createRetryPolicy({ budget: 3 as never }))).toEqual(['budget']);
    expect(problemsOf(() => createBulkhead(7 as never))).toEqual(['options']);
  });

  it('lists every bad breaker option, including a minimum above the window and a rate outside (0, 1)', () => {
    const paths = problemsOf(() =>
      createCircuitBreaker({
        consecutiveFailures: 0,
        failureRate: 1,
        windowSize: 10,
        minimumRequests: 20,
        openMs: 5_000,
        maxOpenMs: 1_000,
        halfOpenProbes: 1.5,
        failureStatuses: 'x' as never,
        store: {} as never,
        clock: {} as never,
        logger: 'console' as never,
      }),
    );
    expect(paths).toEqual(
      expect.arrayContaining([
        'consecutiveFailures',
        'failureRate',
        'minimumRequests',
        'maxOpenMs',
        'halfOpenProbes',
        'failureStatuses',
        'store',
        'clock',
        'logger',
      ]),
    );
  });

  it('requires a rate and checks the AIMD settings', () => {
    const paths = problemsOf(() =>
      createRateLimiter({ burst: 0, maxWaitMs: -1, aimd: { decreaseFactor: 1, minRatio: 0, recoveryPerSec: 0 }, store: 1 as never } as never),
    );
    expect(paths).toEqual(
      expect.arrayContaining(['ratePerSec', 'burst', 'maxWaitMs', 'aimd.decreaseFactor', 'aimd.minRatio', 'aimd.recoveryPerSec', 'store']),
    );
    expect(problemsOf(() => createRateLimiter({ ratePerSec: 0 }))).toEqual(['ratePerSec']);
  });

  it('checks the bulkhead bounds', () => {
    expect(problemsOf(() => createBulkhead({ maxConcurrent: 0, maxQueued: -1, name: '' }))).toEqual([
      'maxConcurrent',
      'maxQueued',
      'name',
    ]);
  });

  it('accepts defaults', () => {
    expect(() => createRetryPolicy()).not.toThrow();
    expect(() => createCircuitBreaker()).not.toThrow();
    expect(() => createRateLimiter({ ratePerSec: 0.5 })).not.toThrow();
    expect(() => createBulkhead()).not.toThrow();
    expect(() => createRetryPolicy({ budget: false })).not.toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import {
  ALL_CHANNELS,
  BerthError,
  ConfigError,
  ERROR_CODES,
  MAX_TIMER_MS,
  OptionChecker,
  describeValue,
  invalidRequestTimeouts,
  isBerthError,
  systemClock,
  systemRandom,
} from './index.js';

describe('BerthError', () => {
  it('keeps the code, the cause and every detail apart from the cause', () => {
    const cause = new Error('socket hang up');
    const err = new BerthError('ERR_BERTH_UPSTREAM_RESET', 'reset by 127.0.0.1:443', { cause, host: '127.0.0.1' });
    expect(err.code).toBe('ERR_BERTH_UPSTREAM_RESET');
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ host: '127.0.0.1' });
    expect(err.name).toBe('BerthError');
    expect(err).toBeInstanceOf(Error);
  });

  it('is recognized by code even without instanceof', () => {
    const foreign = Object.assign(new Error('x'), { code: 'ERR_BERTH_QUEUE_FULL' });
    expect(isBerthError(foreign)).toBe(true);
    expect(isBerthError(foreign, 'ERR_BERTH_QUEUE_FULL')).toBe(true);
    expect(isBerthError(foreign, 'ERR_BERTH_CLOSED')).toBe(false);
    expect(isBerthError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isBerthError('ERR_BERTH_CLOSED')).toBe(false);
    expect(isBerthError(null)).toBe(false);
  });

  it('lists each code once, all with the ERR_BERTH_ prefix', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    for (const code of ERROR_CODES) expect(code).toMatch(/^ERR_BERTH_[A-Z0-9_]+$/);
  });
});

describe('invalidRequestTimeouts', () => {
  it('names every per-request timeout that is not a positive number of ms a timer can honour', () => {
    expect(invalidRequestTimeouts({ path: '/' })).toEqual([]);
    expect(invalidRequestTimeouts({ path: '/', timeoutMs: 0.4, headersTimeoutMs: 1, bodyTimeoutMs: MAX_TIMER_MS })).toEqual([]);
    expect(invalidRequestTimeouts({ path: '/', timeoutMs: 0, headersTimeoutMs: -1, bodyTimeoutMs: Number.NaN })).toEqual(['timeoutMs', 'headersTimeoutMs', 'bodyTimeoutMs']);
    expect(invalidRequestTimeouts({ path: '/', timeoutMs: Number.POSITIVE_INFINITY, bodyTimeoutMs: MAX_TIMER_MS + 1 })).toEqual(['timeoutMs', 'bodyTimeoutMs']);
    expect(invalidRequestTimeouts({ path: '/', headersTimeoutMs: '100' as unknown as number })).toEqual(['headersTimeoutMs']);
  });
});

describe('OptionChecker', () => {
  it('reports every bad field at once with path, expectation and received value', () => {
    const c = new OptionChecker('https-pool');
    expect(c.number('maxConnections', 0, { min: 1, integer: true, default: 100 })).toBe(100);
    c.number('idleTimeoutMs', 'soon', { min: 0, default: 1 });
    c.boolean('allowCleartext', 'yes', false);
    c.oneOf('protocol', 'h3', ['h1', 'h2', 'auto'] as const, 'auto');
    c.string('name', '', undefined);
    c.func('onOpen', 42, undefined);
    const err = (() => {
      try {
        c.done();
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    const config = err as ConfigError;
    expect(config.code).toBe('ERR_BERTH_CONFIG');
    expect(config.problems.map((p) => p.path)).toEqual([
      'maxConnections',
      'idleTimeoutMs',
      'allowCleartext',
      'protocol',
      'name',
      'onOpen',
    ]);
    expect(config.message).toContain('Invalid https-pool options (6 problems)');
    expect(config.message).toContain('maxConnections: expected an integer >= 1, received 0');
    expect(config.message).toContain('protocol: expected one of "h1", "h2", "auto", received "h3"');
  });

  it('returns valid values and defaults, and does not throw when all is well', () => {
    const c = new OptionChecker('x');
    expect(c.number('a', undefined, { default: 5 })).toBe(5);
    expect(c.number('b', 2.5, { min: 0, exclusiveMin: true, max: 3, default: 1 })).toBe(2.5);
    expect(c.boolean('c', true, false)).toBe(true);
    expect(c.oneOf('d', 'h2', ['h1', 'h2'] as const, 'h1')).toBe('h2');
    expect(c.string('e', 'abc', 'z', { regex: /^a/, expected: 'starts with a' })).toBe('abc');
    expect(() => c.done()).not.toThrow();
  });

  it('rejects exclusive minimums, bounds, patterns and NaN', () => {
    const c = new OptionChecker('x');
    c.number('zero', 0, { min: 0, exclusiveMin: true, default: 1 });
    c.number('big', 11, { max: 10, default: 1 });
    c.number('nan', Number.NaN, { default: 1 });
    c.string('pat', 'xyz', undefined, { regex: /^a/, expected: 'a string starting with a' });
    c.expect(false, 'cross', 'min <= max', { min: 3, max: 1 });
    expect(c.problems.map((p) => p.expected)).toEqual([
      'a number > 0',
      'a number <= 10',
      'a number',
      'a string starting with a',
      'min <= max',
    ]);
  });

  it('never prints a long string or a buffer in a message', () => {
    expect(describeValue('-----BEGIN PRIVATE KEY-----' + 'A'.repeat(100))).toBe('a string of 127 characters');
    expect(describeValue(new Uint8Array(3))).toBe('3 bytes');
    expect(describeValue([1, 2])).toBe('an array of 2');
    expect(describeValue({ a: 1 })).toBe('an object (a)');
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue(null)).toBe('null');
  });
});

describe('system clock and random', () => {
  it('wraps the globals at call time so fake timers apply', async () => {
    const { vi } = await import('vitest');
    vi.useFakeTimers();
    try {
      let fired = 0;
      systemClock.setTimeout(() => fired++, 1000);
      const interval = systemClock.setInterval(() => fired++, 400);
      vi.advanceTimersByTime(1000);
      expect(fired).toBe(3);
      systemClock.clearInterval(interval);
      const wall = systemClock.wallNow();
      vi.advanceTimersByTime(500);
      expect(systemClock.wallNow() - wall).toBe(500);
    } finally {
      vi.useRealTimers();
    }
    const r = systemRandom.next();
    expect(r).toBeGreaterThanOrEqual(0);
    expect(r).toBeLessThan(1);
  });
});

describe('channels', () => {
  it('are unique and follow berth:<package>:<event>', () => {
    expect(new Set(ALL_CHANNELS).size).toBe(ALL_CHANNELS.length);
    for (const name of ALL_CHANNELS) expect(name).toMatch(/^berth:[a-z0-9-]+:[a-z-]+$/);
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError } from '@berth/core-types';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MIN_IDLE, resolveOptions } from './options.js';

describe('resolveOptions', () => {
  it('fills the documented defaults', () => {
    const o = resolveOptions('https://api.example.com');
    expect(o).toMatchObject({
      originString: 'https://api.example.com',
      name: 'https://api.example.com',
      secure: true,
      maxConnections: DEFAULT_MAX_CONNECTIONS,
      minIdle: DEFAULT_MIN_IDLE,
      minConnections: DEFAULT_MIN_IDLE,
      targetConnections: DEFAULT_MAX_CONNECTIONS,
      maxLifetimeMs: 300_000,
      lifetimeJitter: 0.1,
      idleTimeoutMs: 90_000,
      keepAliveTimeoutMs: 4_000,
      connectTimeoutMs: 10_000,
      acquireTimeoutMs: 10_000,
      validateAfterIdleMs: 2_000,
      idleOrder: 'fifo',
      tcpNoDelay: true,
    });
    expect(o.validation).toMatchObject({ method: 'OPTIONS', path: '/', timeoutMs: 5_000 });
    expect(o.validation.acceptStatus(404)).toBe(true);
    expect(o.validation.acceptStatus(503)).toBe(false);
  });

  it('reports every invalid option at once with path, expectation and value', () => {
    let error: unknown;
    try {
      resolveOptions('ftp://x', {
        maxConnections: 5,
        minIdle: 6,
        targetConnections: 9,
        acquireTimeoutMs: -1,
        lifetimeJitter: 2,
        idleOrder: 'random' as 'fifo',
        connectBackoff: { baseMs: 500, maxMs: 100 },
        validation: { path: 'health' },
        tls: {} as never,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const paths = (error as ConfigError).problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining(['origin', 'minIdle', 'targetConnections', 'acquireTimeoutMs', 'lifetimeJitter', 'idleOrder', 'connectBackoff.maxMs', 'validation.path', 'tls']),
    );
    expect((error as ConfigError).message).toContain('acquireTimeoutMs: expected an integer >= 1');
  });

  it('rejects origins with a path or that are not URLs', () => {
    expect(() => resolveOptions('https://x/path')).toThrow(ConfigError);
    expect(() => resolveOptions('not a url')).toThrow(ConfigError);
    expect(() => resolveOptions(42)).toThrow(ConfigError);
    expect(resolveOptions('http://x:81', { allowCleartext: true }).secure).toBe(false);
  });
});

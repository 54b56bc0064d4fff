import { systemClock } from '@berth/core-types';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from './options.js';

describe('resolveOptions', () => {
  it('fills the documented defaults', () => {
    const o = resolveOptions('wss://api.example.com/ws');
    expect(o).toMatchObject({
      name: 'wss://api.example.com',
      size: 1,
      perMessageDeflate: false,
      handshakeTimeoutMs: 10_000,
      closeTimeoutMs: 5_000,
      maxPayloadBytes: 16 * 1024 * 1024,
      pingIntervalMs: 20_000,
      pongTimeoutMs: 10_000,
      backoffBaseMs: 500,
      backoffCapMs: 30_000,
      minUptimeMs: 10_000,
      maxRetries: Number.POSITIVE_INFINITY,
      maxConcurrentHandshakes: 2,
      maxBufferedMessages: 1_000,
      ttlMs: 30_000,
      overflow: 'reject',
      acks: false,
      maxAgeMs: undefined,
      lease: { max: 4, acquireTimeoutMs: 10_000, maxWaiting: 100 },
      clock: systemClock,
    });
  });

  it('reports every problem at once with path, expectation and received value', () => {
    let error: unknown;
    try {
      resolveOptions('http://x', {
        size: 1.5,
        overflow: 'drop-all' as never,
        backoffBaseMs: 100,
        backoffCapMs: 10,
        maxAgeJitter: 0.9,
        onOpen: 'auth' as never,
        protocols: [1] as never,
        tls: {} as never,
        codec: {} as never,
        lease: { max: 0 },
        maxRetries: -1,
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'ERR_BERTH_CONFIG' });
    const paths = (error as { problems: Array<{ path: string }> }).problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining(['url', 'size', 'overflow', 'backoffCapMs', 'maxAgeJitter', 'onOpen', 'protocols', 'tls', 'codec', 'lease.max', 'maxRetries']),
    );
  });

  it('rejects a URL that does not parse or carries a fragment', () => {
    expect(() => resolveOptions('not a url')).toThrow(expect.objectContaining({ code: 'ERR_BERTH_CONFIG' }));
    expect(() => resolveOptions('wss://h/#frag')).toThrow(expect.objectContaining({ code: 'ERR_BERTH_CONFIG' }));
  });
});

import { describe, expect, it } from 'vitest';
import { isBerthError, systemClock } from '@berth/core-types';
import type { TlsConnector } from '@berth/core-types';
import { BdpEstimator } from './bdp-estimator.js';
import { ConnectError, toConnectError } from './errors.js';
import { checkTarget, normalizeHeaders, priorityField } from './headers.js';
import { DEFAULT_CONNECTION_WINDOW_BYTES, DEFAULT_STREAM_WINDOW_BYTES, resolveOptions } from './options.js';
import { PriorityQueue } from './priority-queue.js';

const connector = { connect: () => undefined, handshakeInfo: () => undefined, alpnProtocols: ['h2'], handshakeTimeoutMs: 1 } as unknown as TlsConnector;

describe('resolveOptions', () => {
  it('fills documented defaults for an https origin', () => {
    const o = resolveOptions('https://api.example.com', { tls: connector });
    expect(o).toMatchObject({
      origin: 'https://api.example.com',
      secure: true,
      host: 'api.example.com',
      port: 443,
      name: 'https://api.example.com',
      maxConcurrentStreams: 100,
      maxSessions: 4,
      adaptiveWindow: true,
      initialStreamWindowBytes: DEFAULT_STREAM_WINDOW_BYTES,
      initialConnectionWindowBytes: DEFAULT_CONNECTION_WINDOW_BYTES,
      requestTimeoutMs: undefined,
      clock: systemClock,
    });
    expect(resolveOptions('http://[::1]:8080', { allowCleartext: true })).toMatchObject({ secure: false, host: '::1', port: 8080 });
    expect(resolveOptions('http://h', { allowCleartext: true }).port).toBe(80);
  });

  it('reports every invalid option at once in ERR_BERTH_CONFIG', () => {
    let error: unknown;
    try {
      resolveOptions('https://x', {
        maxConcurrentStreams: 0,
        maxSessions: 1.5,
        maxQueued: -1,
        targetStreamsPerSession: 2.5,
        initialConnectionWindowBytes: 1000,
        initialStreamWindowBytes: 2 ** 31,
        maxWindowBytes: 70_000,
        maxAgeJitter: 1,
        clock: {} as never,
        logger: 'console' as never,
        servername: '',
      });
    } catch (e) {
      error = e;
    }
    expect(isBerthError(error, 'ERR_BERTH_CONFIG')).toBe(true);
    const paths = (error as { problems: { path: string }[] }).problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'maxConcurrentStreams',
        'maxSessions',
        'maxQueued',
        'targetStreamsPerSession',
        'initialConnectionWindowBytes',
        'initialStreamWindowBytes',
        'maxAgeJitter',
        'clock',
        'logger',
        'servername',
      ]),
    );
  });

  it('requires allowCleartext for http: origins and a real origin', () => {
    expect(() => resolveOptions('http://x')).toThrow(/allowCleartext/);
    expect(() => resolveOptions('ftp://x', { tls: connector })).toThrow(/origin/);
    expect(() => resolveOptions('https://x/path', { tls: connector })).toThrow(/origin/);
    expect(() => resolveOptions('not a url', { tls: connector })).toThrow(/origin/);
    expect(() => resolveOptions(42, { tls: connector })).toThrow(/origin/);
    expect(() => resolveOptions('https://x', { tls: {} as never })).toThrow(/tls/);
    expect(() => resolveOptions('https://x', { tls: connector, maxWindowBytes: 65_535, initialStreamWindowBytes: 100_000 })).toThrow(/maxWindowBytes/);
  });
});

describe('PriorityQueue', () => {
  it('orders by urgency, FIFO within a level, with front insertion and O(1) removal', () => {
    const q = new PriorityQueue<string>();
    q.push('a7', 7, 0);
    const b3 = q.push('b3', 3, 1);
    q.push('c0', 0, 2);
    q.push('d3', 3, 3);
    q.unshift('retry3', 3, 4);
    expect(q.size).toBe(5);
    expect(q.sizes()).toEqual([1, 0, 0, 3, 0, 0, 0, 1]);
    expect(q.peek(1e9)).toBe('c0');
    q.remove(b3);
    q.remove(b3);
    expect(q.drain()).toEqual(['c0', 'retry3', 'd3', 'a7']);
    expect(q.shift(0)).toBeUndefined();
    expect(q.peek(0)).toBeUndefined();
    const only = q.unshift('x', 5, 0);
    q.remove(only);
    expect(q.size).toBe(0);
    expect(() => q.push('bad', 9 as never, 0)).toThrow(RangeError);
  });

  it('ages a waiting entry one urgency level per agingMs, so urgency 7 is served after 7 × agingMs of urgency-0 load', () => {
    const agingMs = 100;
    const q = new PriorityQueue<string>(agingMs);
    q.push('low', 7, 0);
    // Sustained urgency-0 load: a fresh u0 entry arrives every 10 ms and one entry is taken every 10 ms.
    const served: string[] = [];
    let now = 0;
    for (; now < 2000 && !served.includes('low'); now += 10) {
      q.push(`u0@${now}`, 0, now);
      served.push(q.shift(now) ?? 'none');
    }
    // Strictly below 7 × agingMs it waits; at 700 ms its effective urgency is 0 and it is the oldest there.
    expect(served.indexOf('low')).toBe(70);
    expect(now - 10).toBe(700);
  });

  it('keeps RFC 9218 order before an entry has waited agingMs, and is FIFO among equal effective urgencies', () => {
    const q = new PriorityQueue<string>(100);
    q.push('u5-old', 5, 0);
    q.push('u3-new', 3, 250);
    q.push('u1-new', 1, 250);
    // At 260 ms: u5-old has aged 2 levels (→ 3), u3-new none (3), u1-new none (1).
    expect(q.shift(260)).toBe('u1-new');
    // u5-old and u3-new are both effectively 3: the older one goes first.
    expect(q.shift(260)).toBe('u5-old');
    expect(q.shift(260)).toBe('u3-new');
    // Without aging, urgency alone decides however long an entry waited.
    const strict = new PriorityQueue<string>(0);
    strict.push('u7', 7, 0);
    strict.push('u6', 6, 1e6);
    expect(strict.shift(1e9)).toBe('u6');
  });
});

describe('BdpEstimator (hyper src/proto/h2/ping.rs, with a ⅓-window, 25 %-gain growth rule)', () => {
  it('ramps a window-limited download like node:http2 carries it (0.6 window per round trip) from 64 KiB to the path, then stops', () => {
    const bdp = new BdpEstimator({ initialWindowBytes: 65_536, maxWindowBytes: 16 * 1024 * 1024 });
    expect(bdp.pingDelayMs).toBe(0);
    // Samples measured behind node:http2 on a 20 ms path whose ceiling is ~50 MB/s (50 kB/ms):
    // each round trip carries ~½–¾ of the window until the path, not the window, is the limit.
    const windows: (number | undefined)[] = [];
    let window = 65_536;
    for (let round = 0; round < 12; round += 1) {
      const bytes = Math.min(window * 0.6, 50_000 * 20);
      const grown = bdp.sample(bytes, 20);
      windows.push(grown);
      window = grown ?? window;
    }
    // Hyper's rule (grow to 2 × sample only when the sample reaches ⅔ of 2 × the last one) stalls at the first step.
    expect(windows.slice(0, 6)).toEqual([131_072, 262_144, 524_288, 1_048_576, 2_097_152, 4_194_304]);
    // With 4 MiB the path's 1 MB per round trip is the limit: the rate stopped rising, so the window stops growing.
    expect(windows.slice(6)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(bdp.bdpBytes).toBe(4_194_304);
    expect(bdp.maxBandwidth).toBeCloseTo(50_000);
    expect(bdp.rttMs).toBe(20);
  });

  it('grows only while the window is at least a third used and the rate beats its best by 25 %, and resumes when the rate rises again', () => {
    const bdp = new BdpEstimator({ initialWindowBytes: 65_536, maxWindowBytes: 1_000_000 });
    // A third of the window or less: the reader or the server, not the window, was the limit.
    expect(bdp.sample(21_000, 20)).toBeUndefined();
    expect(bdp.maxBandwidth).toBe(0);
    expect(bdp.sample(40_000, 20)).toBe(131_072);
    expect(bdp.maxBandwidth).toBe(2_000);
    // Same bytes with a 30 % longer RTT: queueing, not a faster path.
    expect(bdp.sample(48_000, 26)).toBeUndefined();
    expect(bdp.maxBandwidth).toBe(2_000);
    expect(bdp.sample(49_000, 20)).toBeUndefined();
    expect(bdp.maxBandwidth).toBe(2_450);
    // More than one window at once (several streams): the window jumps to 2 × the sample.
    expect(bdp.sample(200_000, 20)).toBe(400_000);
    expect(bdp.sample(600_000, 20)).toBe(1_000_000);
    expect(bdp.saturated).toBe(true);
    expect(bdp.sample(900_000, 20)).toBeUndefined();
    expect(bdp.bdpBytes).toBe(1_000_000);
  });

  it('smooths the RTT with an EWMA of 1/8 and judges each sample by its own RTT', () => {
    const bdp = new BdpEstimator({ initialWindowBytes: 65_536, maxWindowBytes: 16 * 1024 * 1024 });
    expect(bdp.sample(60_000, 10)).toBe(131_072);
    // A GC pause inflates one RTT; the next clean round trip still grows the window (hyper's EWMA would block it).
    expect(bdp.sample(60_000, 90)).toBeUndefined();
    expect(bdp.rttMs).toBeCloseTo(20);
    expect(bdp.sample(120_000, 10)).toBe(262_144);
  });

  it('probes back to back while growing, then waits the initial delay and stretches it ×4 every two stable rounds, up to 10 s', () => {
    const bdp = new BdpEstimator({ initialWindowBytes: 65_536, maxWindowBytes: 16 * 1024 * 1024 });
    bdp.sample(10_000, 10);
    expect(bdp.pingDelayMs).toBe(0);
    bdp.sample(10_000, 10);
    expect(bdp.pingDelayMs).toBe(100);
    bdp.sample(10_000, 10);
    bdp.sample(10_000, 10);
    expect(bdp.pingDelayMs).toBe(400);
    for (let i = 0; i < 20; i += 1) bdp.sample(1, 10);
    expect(bdp.pingDelayMs).toBe(10_000);
    expect(bdp.sample(60_000, 10)).toBe(131_072);
    expect(bdp.pingDelayMs).toBe(0);
  });

  it('takes the initial delay and cap from its options', () => {
    const bdp = new BdpEstimator({ initialWindowBytes: 65_536, maxWindowBytes: 65_536, initialPingDelayMs: 5, maxPingDelayMs: 20 });
    expect(bdp.saturated).toBe(true);
    for (let i = 0; i < 6; i += 1) expect(bdp.sample(60_000, 10)).toBeUndefined();
    expect(bdp.pingDelayMs).toBe(20);
  });
});

describe('headers', () => {
  it('formats the RFC 9218 Priority field', () => {
    expect(priorityField(0, false)).toBe('u=0');
    expect(priorityField(5, true)).toBe('u=5, i');
  });

  it('drops te values other than trailers and keeps arrays', () => {
    expect(normalizeHeaders({ te: 'gzip', accept: ['a', 'b'] })).toEqual({ fields: { accept: ['a', 'b'] }, authority: undefined, bytes: 2 * (6 + 1 + 32) });
    expect(normalizeHeaders(undefined)).toEqual({ fields: {}, authority: undefined, bytes: 0 });
    expect(() => normalizeHeaders({ x: [1 as never] })).toThrow(/CR, LF and NUL/);
  });

  it('sizes the header list as RFC 9113 §6.5.2 does: name + value + 32 per field line, host and dropped fields excluded', () => {
    const n = normalizeHeaders({ 'X-A': 'abc', te: 'trailers', host: 'h.example', connection: 'close', cookie: ['a=1', 'b=22'] });
    expect(n.bytes).toBe(3 + 3 + 32 + (2 + 8 + 32) + (6 + 3 + 32) + (6 + 4 + 32));
    expect(n.authority).toBe('h.example');
  });

  it('accepts origin-form paths and * only', () => {
    expect(() => checkTarget('OPTIONS', '*')).not.toThrow();
    expect(() => checkTarget('GET', '/a?b=c')).not.toThrow();
    expect(() => checkTarget('GET', '/a\u0000')).toThrow(/path/);
  });
});

describe('toConnectError', () => {
  it('keeps Berth errors and classifies socket errors', () => {
    const refused = toConnectError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'https://x');
    expect(refused.code).toBe('ERR_BERTH_CONNECT_REFUSED');
    expect(toConnectError('weird', 'https://x').code).toBe('ERR_BERTH_CONNECT_FAILED');
    const own = new ConnectError('ERR_BERTH_CONNECT_FAILED', 'x');
    expect(toConnectError(own, 'https://x')).toBe(own);
  });
});

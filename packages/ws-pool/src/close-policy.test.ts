import { describe, expect, it } from 'vitest';
import { classifyClose, parseRetryAfterMs } from './close-policy.js';

const policy = { retryOnPolicyClose: false, retryLaterMs: 5_000 };

describe('classifyClose', () => {
  it.each([
    [1000, { action: 'retry' }],
    [1001, { action: 'retry-now' }],
    [1005, { action: 'retry' }],
    [1006, { action: 'retry' }],
    [1011, { action: 'retry' }],
    [1012, { action: 'retry-later', floorMs: 5_000 }],
    [1013, { action: 'retry-later', floorMs: 5_000 }],
    [1014, { action: 'retry-later', floorMs: 5_000 }],
    [4429, { action: 'retry-later', floorMs: 5_000 }],
    [1008, { action: 'stop' }],
    [4401, { action: 'stop' }],
    [4403, { action: 'stop' }],
    [1002, { action: 'stop' }],
    [1003, { action: 'stop' }],
    [1007, { action: 'stop' }],
    [1009, { action: 'stop' }],
    [4400, { action: 'stop' }],
    [4500, { action: 'retry' }],
    [3000, { action: 'retry' }],
  ])('close code %i from the server → %o', (code, decision) => {
    expect(classifyClose({ code, reason: '', byUs: false }, policy)).toEqual(decision);
  });

  it('never retries a close this side started', () => {
    expect(classifyClose({ code: 1000, reason: '', byUs: true }, policy)).toEqual({ action: 'stop' });
  });

  it('retries policy closes when configured to (e.g. the onOpen hook refreshes the token)', () => {
    const retrying = { ...policy, retryOnPolicyClose: true };
    expect(classifyClose({ code: 4401, reason: '', byUs: false }, retrying)).toEqual({ action: 'retry' });
    expect(classifyClose({ code: 1006, reason: '', byUs: false, handshakeStatus: 401 }, retrying)).toEqual({ action: 'retry' });
  });

  it.each([
    [429, 7_000, { action: 'retry-later', floorMs: 7_000 }],
    [503, undefined, { action: 'retry-later', floorMs: 5_000 }],
    [401, undefined, { action: 'stop' }],
    [403, undefined, { action: 'stop' }],
    [404, undefined, { action: 'stop' }],
    [502, undefined, { action: 'retry' }],
  ])('handshake status %i (Retry-After %o ms) → %o', (status, retryAfterMs, decision) => {
    const info = { code: 1006, reason: '', byUs: false, handshakeStatus: status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    expect(classifyClose(info, policy)).toEqual(decision);
  });
});

describe('parseRetryAfterMs', () => {
  it('reads delay-seconds and HTTP dates (RFC 9110 §10.2.3)', () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(parseRetryAfterMs('7', now)).toBe(7_000);
    expect(parseRetryAfterMs(['3', '9'], now)).toBe(3_000);
    expect(parseRetryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs(' ', now)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
  });
});

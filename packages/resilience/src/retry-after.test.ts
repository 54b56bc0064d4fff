import { describe, expect, it } from 'vitest';
import { parseRetryAfterMs } from './retry-after.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('parseRetryAfterMs (RFC 9110 §10.2.3)', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfterMs('120', NOW)).toBe(120_000);
    expect(parseRetryAfterMs(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfterMs(['3', '9'], NOW)).toBe(3_000);
  });

  it('reads an IMF-fixdate HTTP-date relative to now', () => {
    expect(parseRetryAfterMs(new Date(NOW + 5_000).toUTCString(), NOW)).toBe(5_000);
    expect(parseRetryAfterMs('Thu, 01 Jan 2026 12:01:00 GMT', NOW)).toBe(60_000);
  });

  it('reads the obsolete RFC 850 date form', () => {
    expect(parseRetryAfterMs('Thursday, 01-Jan-26 12:00:30 GMT', NOW)).toBe(30_000);
  });

  it('gives 0 for a date in the past', () => {
    expect(parseRetryAfterMs('Wed, 31 Dec 2025 12:00:00 GMT', NOW)).toBe(0);
  });

  it('ignores absent and malformed values', () => {
    for (const bad of [undefined, '', 'soon', '-5', '1.5', '12abc', 'Mon, 99 Foo 2026']) {
      expect(parseRetryAfterMs(bad, NOW)).toBeUndefined();
    }
  });
});

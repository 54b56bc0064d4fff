import { describe, expect, it } from 'vitest';
import { DEFAULT_REDACTED_HEADERS } from './options.js';
import { redactFields, redactQuery } from './redact.js';

describe('redactQuery', () => {
  it('replaces every query value and keeps names, flags and the path', () => {
    expect(redactQuery('/v1/files?sig=abc&expires=1&download&x=')).toBe('/v1/files?sig=REDACTED&expires=REDACTED&download&x=REDACTED');
    expect(redactQuery('/plain/path')).toBe('/plain/path');
  });
});

describe('redactFields', () => {
  it('cuts a top-level cycle and leaves non-secret values as they are', () => {
    const fields: Record<string, unknown> = { n: 1, ok: true, nothing: null, list: ['a', { cookie: 'c' }] };
    fields['self'] = fields;
    expect(redactFields(fields, new Set(DEFAULT_REDACTED_HEADERS))).toEqual({
      n: 1,
      ok: true,
      nothing: null,
      list: ['a', { cookie: 'REDACTED' }],
      self: '[Circular]',
    });
  });
});

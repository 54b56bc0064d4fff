import { describe, expect, it } from 'vitest';
import { validateRequest } from './request-validation.js';

describe('validateRequest', () => {
  it.each([
    ['CRLF in a header value', { path: '/', headers: { 'x-a': 'v\r\nx-b: 1' } }],
    ['LF in a header array value', { path: '/', headers: { 'x-a': ['ok', 'bad\n'] } }],
    ['a header name with a space', { path: '/', headers: { 'x a': 'v' } }],
    ['a hop-by-hop header the pool manages', { path: '/', headers: { Connection: 'close' } }],
    ['a Host header', { path: '/', headers: { host: 'evil' } }],
    ['a non-string header value', { path: '/', headers: { 'x-a': 1 as unknown as string } }],
    ['a method that is not a token', { path: '/', method: 'GET /x' }],
    ['a path without a leading slash', { path: 'http://x/' }],
    ['a path with a space', { path: '/a b' }],
    ['a zero headersTimeoutMs', { path: '/', headersTimeoutMs: 0 }],
    ['an infinite bodyTimeoutMs', { path: '/', bodyTimeoutMs: Number.POSITIVE_INFINITY }],
    ['a negative timeoutMs', { path: '/', timeoutMs: -5 }],
  ])('rejects %s with ERR_BERTH_INVALID_REQUEST', (_name, request) => {
    expect(() => validateRequest(request)).toThrow(expect.objectContaining({ code: 'ERR_BERTH_INVALID_REQUEST' }));
  });

  it('names every bad per-request timeout in one error', () => {
    expect(() => validateRequest({ path: '/', headersTimeoutMs: 0, bodyTimeoutMs: 2 ** 31 })).toThrow(
      expect.objectContaining({ code: 'ERR_BERTH_INVALID_REQUEST', details: { fields: ['headersTimeoutMs', 'bodyTimeoutMs'] } }),
    );
  });

  it('accepts ordinary requests', () => {
    expect(() => validateRequest({ path: '/v1/chat?x=1', method: 'POST', headers: { 'content-type': 'application/json', 'x-list': ['a', 'b'] } })).not.toThrow();
  });
});

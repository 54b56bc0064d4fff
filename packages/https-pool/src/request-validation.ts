import { invalidRequestTimeouts } from '@berth/core-types';
import type { RequestHeaders, RequestOptions } from '@berth/core-types';
import { InvalidRequestError } from './errors.js';

// RFC 9110 §5.6.2 token: the characters allowed in a method and a field name.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 9110 §5.5: field values must not contain CR, LF or NUL (request smuggling, CWE-113).
const BAD_VALUE = /[\r\n\0]/;
// Origin-form (RFC 9112 §3.2.1): starts with `/`, no whitespace or control characters.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const PATH = /^\/[^\s\0-\x1f\x7f]*$/;
// Set by the pool per connection; a caller sending them would desynchronize framing or reuse.
const RESERVED = new Set(['connection', 'keep-alive', 'upgrade', 'transfer-encoding', 'host']);

/**
 * Rejects a malformed request before anything is acquired or sent: CRLF/NUL in a header
 * name or value, a non-token method, a path that is not origin-form, hop-by-hop headers.
 */
export function validateRequest(request: RequestOptions): void {
  const badTimeouts = invalidRequestTimeouts(request);
  if (badTimeouts.length > 0) {
    throw new InvalidRequestError(`invalid ${badTimeouts.join(', ')}: expected milliseconds in (0, 2147483647]`, { fields: badTimeouts });
  }
  const method = request.method ?? 'GET';
  if (!TOKEN.test(method)) throw new InvalidRequestError(`invalid HTTP method ${JSON.stringify(method)}`, { method });
  if (typeof request.path !== 'string' || !PATH.test(request.path)) {
    throw new InvalidRequestError(`invalid request path ${JSON.stringify(request.path)}: expected origin-form starting with /`, { path: request.path });
  }
  if (request.headers !== undefined) validateHeaders(request.headers);
}

function validateHeaders(headers: RequestHeaders): void {
  for (const name in headers) {
    if (!TOKEN.test(name)) throw new InvalidRequestError(`invalid header name ${JSON.stringify(name)}`, { header: name });
    if (RESERVED.has(name.toLowerCase())) {
      throw new InvalidRequestError(`header "${name}" is managed by the pool and may not be set`, { header: name });
    }
    const value = headers[name];
    if (typeof value === 'string') {
      if (BAD_VALUE.test(value)) throw new InvalidRequestError(`header "${name}" contains CR, LF or NUL`, { header: name });
    } else if (Array.isArray(value)) {
      for (const v of value as readonly unknown[]) {
        if (typeof v !== 'string' || BAD_VALUE.test(v)) throw new InvalidRequestError(`header "${name}" contains CR, LF or NUL`, { header: name });
      }
    } else {
      throw new InvalidRequestError(`header "${name}" must be a string or an array of strings`, { header: name });
    }
  }
}

import { describe, expect, it } from 'vitest';
import { BerthError } from '@berth/core-types';
import { toBerthError } from './error-mapping.js';

const err = (code: string, name = 'Error') => Object.assign(new Error(`boom ${code}`), { code, name });

describe('toBerthError', () => {
  it.each([
    ['ENOTFOUND', 'connect', 'ERR_BERTH_DNS'],
    ['ECONNREFUSED', 'connect', 'ERR_BERTH_CONNECT_REFUSED'],
    ['ETIMEDOUT', 'connect', 'ERR_BERTH_CONNECT_TIMEOUT'],
    ['CERT_HAS_EXPIRED', 'connect', 'ERR_BERTH_TLS_EXPIRED'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'connect', 'ERR_BERTH_TLS_HOSTNAME'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'connect', 'ERR_BERTH_TLS_UNTRUSTED'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'connect', 'ERR_BERTH_TLS_HANDSHAKE'],
    ['EHOSTUNREACH', 'connect', 'ERR_BERTH_CONNECT_FAILED'],
    ['UND_ERR_HEADERS_TIMEOUT', 'request', 'ERR_BERTH_HEADERS_TIMEOUT'],
    ['UND_ERR_BODY_TIMEOUT', 'request', 'ERR_BERTH_BODY_TIMEOUT'],
    ['UND_ERR_RES_EXCEEDED_MAX_SIZE', 'request', 'ERR_BERTH_BODY_TOO_LARGE'],
    ['UND_ERR_ABORTED', 'request', 'ERR_BERTH_ABORTED'],
    ['UND_ERR_INVALID_ARG', 'request', 'ERR_BERTH_INVALID_REQUEST'],
    ['HPE_INVALID_CONSTANT', 'request', 'ERR_BERTH_PROTOCOL'],
    ['UND_ERR_SOCKET', 'request', 'ERR_BERTH_UPSTREAM_RESET'],
    ['ECONNRESET', 'request', 'ERR_BERTH_UPSTREAM_RESET'],
  ] as const)('maps %s during %s to %s, keeping the cause', (code, phase, expected) => {
    const original = err(code);
    const mapped = toBerthError(original, phase, 'https://x');
    expect(mapped.code).toBe(expected);
    expect(mapped.cause).toBe(original);
    expect(mapped.message).toContain('https://x');
  });

  it('passes Berth errors through and wraps non-errors', () => {
    const berth = new BerthError('ERR_BERTH_TLS_PIN_MISMATCH', 'pin');
    expect(toBerthError(berth, 'connect', 'x')).toBe(berth);
    expect(toBerthError('weird', 'request', 'x').code).toBe('ERR_BERTH_UPSTREAM_RESET');
    expect(toBerthError(err('X', 'AbortError'), 'request', 'x').code).toBe('ERR_BERTH_ABORTED');
  });
});

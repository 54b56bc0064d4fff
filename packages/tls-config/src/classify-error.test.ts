import { describe, expect, it } from 'vitest';
import { BerthError } from '@berth/core-types';
import { classifyDialError } from './classify-error.js';

const at = { host: 'api.example.test', port: 443 };
const err = (code: string | undefined, message = 'boom') => Object.assign(new Error(message), code === undefined ? {} : { code });

describe('classifyDialError', () => {
  it.each([
    ['CERT_HAS_EXPIRED', 'ERR_BERTH_TLS_EXPIRED'],
    ['CERT_NOT_YET_VALID', 'ERR_BERTH_TLS_EXPIRED'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_BERTH_TLS_HOSTNAME'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_BERTH_TLS_UNTRUSTED'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'ERR_BERTH_TLS_UNTRUSTED'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_BERTH_TLS_UNTRUSTED'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'ERR_BERTH_TLS_UNTRUSTED'],
    ['ENOTFOUND', 'ERR_BERTH_DNS'],
    ['EAI_AGAIN', 'ERR_BERTH_DNS'],
    ['ECONNREFUSED', 'ERR_BERTH_CONNECT_REFUSED'],
    ['ETIMEDOUT', 'ERR_BERTH_CONNECT_TIMEOUT'],
    ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'ERR_BERTH_TLS_HANDSHAKE'],
    ['EHOSTUNREACH', 'ERR_BERTH_CONNECT_FAILED'],
    ['EMFILE', 'ERR_BERTH_CONNECT_FAILED'],
  ])('maps %s before the handshake to %s, keeping the original as cause', (code, expected) => {
    const original = err(code);
    const classified = classifyDialError(original, { ...at, tcpConnected: false });
    expect(classified.code).toBe(expected);
    expect(classified.cause).toBe(original);
    expect(classified.message).toContain(code);
    expect(classified.details).toMatchObject(at);
  });

  it('treats a reset after the TCP connection was up as a handshake failure', () => {
    expect(classifyDialError(err('ECONNRESET'), { ...at, tcpConnected: true }).code).toBe('ERR_BERTH_TLS_HANDSHAKE');
    expect(classifyDialError(err('ECONNRESET'), { ...at, tcpConnected: false }).code).toBe('ERR_BERTH_CONNECT_FAILED');
  });

  it('passes a BerthError through and copes with values that are not errors', () => {
    const own = new BerthError('ERR_BERTH_CONNECT_TIMEOUT', 'deadline');
    expect(classifyDialError(own, { ...at, tcpConnected: true })).toBe(own);
    const odd = classifyDialError('weird', { ...at, tcpConnected: false });
    expect(odd.code).toBe('ERR_BERTH_CONNECT_FAILED');
    expect(odd.message).toBe('Connection to api.example.test:443 failed: weird');
    expect(classifyDialError(null, { ...at, tcpConnected: true }).code).toBe('ERR_BERTH_TLS_HANDSHAKE');
  });
});

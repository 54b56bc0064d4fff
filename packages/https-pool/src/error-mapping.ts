import { isBerthError } from '@berth/core-types';
import type { BerthError, ErrorCode } from '@berth/core-types';
import { HttpsPoolError } from './errors.js';

/** Where an error happened, which decides how an ambiguous low-level code is read. */
export type ErrorPhase = 'connect' | 'request';

// OpenSSL verification codes (X509_V_ERR_* as Node names them) grouped by what the user must fix.
const TLS_EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const TLS_HOSTNAME = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);
const TLS_UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
]);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED', 'ERR_STREAM_PREMATURE_CLOSE']);

/**
 * Maps a Node, undici or connector error to a coded Berth error. Errors that already carry
 * a Berth code (a connector's, or one of ours) pass through unchanged.
 */
export function toBerthError(error: unknown, phase: ErrorPhase, where: string): BerthError {
  if (isBerthError(error)) return error;
  const err = error instanceof Error ? error : new Error(String(error));
  const code = (err as { code?: unknown }).code;
  const c = typeof code === 'string' ? code : '';
  const make = (berthCode: ErrorCode, what: string) =>
    new HttpsPoolError(berthCode, `${what} (${where}): ${err.message}`, { cause: err, where });

  if (DNS_CODES.has(c)) return make('ERR_BERTH_DNS', 'host name could not be resolved');
  if (c === 'ECONNREFUSED') return make('ERR_BERTH_CONNECT_REFUSED', 'connection refused');
  if (c === 'ETIMEDOUT' || c === 'UND_ERR_CONNECT_TIMEOUT') return make('ERR_BERTH_CONNECT_TIMEOUT', 'connect timed out');
  if (TLS_EXPIRED.has(c)) return make('ERR_BERTH_TLS_EXPIRED', 'server certificate expired or not yet valid');
  if (TLS_HOSTNAME.has(c)) return make('ERR_BERTH_TLS_HOSTNAME', 'server certificate does not match the host name');
  if (TLS_UNTRUSTED.has(c)) return make('ERR_BERTH_TLS_UNTRUSTED', 'server certificate is not trusted');
  if (c.startsWith('ERR_SSL_') || c.startsWith('ERR_TLS_')) return make('ERR_BERTH_TLS_HANDSHAKE', 'TLS handshake failed');
  if (c === 'UND_ERR_HEADERS_TIMEOUT') return make('ERR_BERTH_HEADERS_TIMEOUT', 'no response headers in time');
  if (c === 'UND_ERR_BODY_TIMEOUT') return make('ERR_BERTH_BODY_TIMEOUT', 'response body stalled');
  if (c === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return make('ERR_BERTH_BODY_TOO_LARGE', 'response body too large');
  if (c === 'UND_ERR_ABORTED' || c === 'ABORT_ERR' || err.name === 'AbortError') return make('ERR_BERTH_ABORTED', 'request aborted');
  if (c === 'UND_ERR_INVALID_ARG' || c === 'UND_ERR_NOT_SUPPORTED') return make('ERR_BERTH_INVALID_REQUEST', 'invalid request');
  if (c.startsWith('HPE_') || c === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || c === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
    return make('ERR_BERTH_PROTOCOL', 'HTTP protocol error');
  }
  if (phase === 'connect') return make('ERR_BERTH_CONNECT_FAILED', 'connect failed');
  if (RESET_CODES.has(c) || c === 'UND_ERR_INFO') return make('ERR_BERTH_UPSTREAM_RESET', 'connection reset by peer');
  return make('ERR_BERTH_UPSTREAM_RESET', 'request failed');
}

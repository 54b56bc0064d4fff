import { isBerthError } from '@berth/core-types';
import type { BerthError } from '@berth/core-types';
import { ConnectError, TlsError } from './errors.js';
import type { TlsErrorCode } from './errors.js';

/** Where the dial was when it failed. */
export interface FailureContext {
  /** Host dialled. */
  readonly host: string;
  /** Port dialled. */
  readonly port: number;
  /** Whether the TCP connection was established (so a reset is a handshake failure, not a refusal). */
  readonly tcpConnected: boolean;
}

// OpenSSL X509_V_ERR_* names as Node reports them in `err.code` (openssl/include/openssl/x509_vfy.h,
// node/src/crypto/crypto_common.cc `X509ErrorCode`).
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const HOSTNAME = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH', 'IP_ADDRESS_MISMATCH']);
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'CERT_CHAIN_TOO_LONG',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
]);
const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);

const TLS_MESSAGES: Record<Exclude<TlsErrorCode, 'ERR_BERTH_TLS_PIN_MISMATCH' | 'ERR_BERTH_TLS_HANDSHAKE'>, string> = {
  ERR_BERTH_TLS_EXPIRED: 'presented a certificate that has expired or is not yet valid',
  ERR_BERTH_TLS_HOSTNAME: 'presented a certificate that does not cover the name dialled',
  ERR_BERTH_TLS_UNTRUSTED: 'presented a certificate chain that does not lead to a trusted CA',
};

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Maps a Node/OpenSSL dial error to the Berth code that says why, keeping the original as
 * `cause`. A Berth error (timeout, pin mismatch) passes through unchanged. Anything unknown
 * after the TCP connection is up is a handshake failure; before it, a connect failure.
 */
export function classifyDialError(error: unknown, context: FailureContext): BerthError {
  if (isBerthError(error)) return error;
  const where = `${context.host}:${context.port}`;
  const code = codeOf(error) ?? '';
  const details = { cause: error, host: context.host, port: context.port };
  const why = `${messageOf(error)}${code === '' ? '' : ` (${code})`}`;
  if (EXPIRED.has(code)) return new TlsError('ERR_BERTH_TLS_EXPIRED', `TLS peer ${where} ${TLS_MESSAGES.ERR_BERTH_TLS_EXPIRED}: ${why}`, details);
  if (HOSTNAME.has(code)) return new TlsError('ERR_BERTH_TLS_HOSTNAME', `TLS peer ${where} ${TLS_MESSAGES.ERR_BERTH_TLS_HOSTNAME}: ${why}`, details);
  if (UNTRUSTED.has(code)) return new TlsError('ERR_BERTH_TLS_UNTRUSTED', `TLS peer ${where} ${TLS_MESSAGES.ERR_BERTH_TLS_UNTRUSTED}: ${why}`, details);
  if (DNS.has(code)) return new ConnectError('ERR_BERTH_DNS', `Could not resolve ${context.host}: ${why}`, details);
  if (code === 'ECONNREFUSED') return new ConnectError('ERR_BERTH_CONNECT_REFUSED', `Connection to ${where} refused: ${why}`, details);
  if (code === 'ETIMEDOUT') return new ConnectError('ERR_BERTH_CONNECT_TIMEOUT', `Connection to ${where} timed out: ${why}`, details);
  if (context.tcpConnected || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return new TlsError('ERR_BERTH_TLS_HANDSHAKE', `TLS handshake with ${where} failed: ${why}`, details);
  }
  return new ConnectError('ERR_BERTH_CONNECT_FAILED', `Connection to ${where} failed: ${why}`, details);
}

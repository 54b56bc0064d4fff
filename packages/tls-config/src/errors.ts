import { BerthError } from '@berth/core-types';
import type { BerthErrorOptions, ErrorCode } from '@berth/core-types';

/** TLS verification and handshake failures raised by `@berth/tls-config`. */
export type TlsErrorCode = Extract<
  ErrorCode,
  | 'ERR_BERTH_TLS_EXPIRED'
  | 'ERR_BERTH_TLS_HOSTNAME'
  | 'ERR_BERTH_TLS_UNTRUSTED'
  | 'ERR_BERTH_TLS_PIN_MISMATCH'
  | 'ERR_BERTH_TLS_HANDSHAKE'
>;

/** Connection failures below TLS (DNS, TCP, deadline). */
export type ConnectErrorCode = Extract<
  ErrorCode,
  'ERR_BERTH_CONNECT_TIMEOUT' | 'ERR_BERTH_CONNECT_REFUSED' | 'ERR_BERTH_CONNECT_FAILED' | 'ERR_BERTH_DNS'
>;

/**
 * The peer could not be verified or the handshake failed. `code` says why; `cause` holds
 * Node's/OpenSSL's own error (with its `code`, e.g. `CERT_HAS_EXPIRED`); `details` carry
 * `host`, `port` and, for a pin mismatch, `pinSeen`.
 */
export class TlsError extends BerthError {
  constructor(code: TlsErrorCode, message: string, options: BerthErrorOptions = {}) {
    super(code, message, options);
  }
}

/**
 * The peer's public key matched none of the configured SPKI pins (RFC 7469 `pin-sha256`).
 * `details.pinSeen` is the leaf's pin, so an operator can tell a rotation from an attack.
 */
export class PinMismatchError extends TlsError {
  constructor(message: string, options: BerthErrorOptions & { readonly host: string; readonly pinSeen: string }) {
    super('ERR_BERTH_TLS_PIN_MISMATCH', message, options);
  }
}

/** DNS, TCP or deadline failure before the TLS handshake could complete. */
export class ConnectError extends BerthError {
  constructor(code: ConnectErrorCode, message: string, options: BerthErrorOptions = {}) {
    super(code, message, options);
  }
}

import type { BerthEvent, EventError } from './events.js';
import type { TlsHandshakeInfo } from './pool.js';

/** Channels of `@berth/tls-config`. */
export const TLS_CHANNELS = {
  /** {@link TlsHandshakeMessage} */
  handshake: 'berth:tls:handshake',
  /** {@link TlsHandshakeErrorMessage} */
  handshakeError: 'berth:tls:handshake-error',
  /** {@link CertExpiringMessage} */
  certExpiring: 'berth:tls:cert-expiring',
  /** {@link TlsReloadMessage} */
  reload: 'berth:tls:reload',
} as const;

/** A handshake completed. */
export interface TlsHandshakeMessage extends BerthEvent, TlsHandshakeInfo {
  /** Host dialled. */
  readonly host: string;
  /** Port dialled. */
  readonly port: number;
}

/** A handshake failed. */
export interface TlsHandshakeErrorMessage extends BerthEvent {
  /** Host dialled. */
  readonly host: string;
  /** Port dialled. */
  readonly port: number;
  /** The failure (`ERR_BERTH_TLS_*` or `ERR_BERTH_CONNECT_*`). */
  readonly error: EventError;
}

/** A certificate expires soon. */
export interface CertExpiringMessage extends BerthEvent {
  /** `peer`: a server's leaf; `client`: our mTLS certificate. */
  readonly which: 'peer' | 'client';
  /** Certificate subject (CN). */
  readonly subject: string;
  /** Expiry, wall-clock milliseconds since the epoch. */
  readonly validTo: number;
  /** Whole days left. */
  readonly daysLeft: number;
}

/** `reload()` ran. */
export interface TlsReloadMessage extends BerthEvent {
  /** Whether the new SecureContext was installed. */
  readonly ok: boolean;
  /** The failure, when it was not (the old context stays). */
  readonly error?: EventError;
}

/**
 * @packageDocumentation
 * One secure, fast TLS setup for every pool: one shared SecureContext per trust profile,
 * CA store, SPKI pinning, session resumption, an ALPN probe and adapters for undici,
 * `node:http2` and ws.
 */

export { createTlsConfig, TlsConfig } from './tls-config.js';
export type { TlsConfigStats } from './tls-config.js';
export {
  DEFAULT_ALPN,
  DEFAULT_CIPHERS,
  DEFAULT_EXPIRY_WARNING_DAYS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_CACHED_SESSIONS,
  DEFAULT_MAX_SESSION_TTL_MS,
  DEFAULT_PROBE_CACHE_TTL_MS,
  DEFAULT_PROBE_KEEP_MS,
  DEFAULT_TCP_KEEPALIVE_INITIAL_DELAY_MS,
  resolveOptions,
} from './options.js';
export type { CheckServerIdentity, ResolvedTlsOptions, TlsConfigOptions, TlsVersion } from './options.js';
export type { ClientCertificate } from './trust-material.js';
export type {
  Http2ConnectOptions,
  UndiciConnectCallback,
  UndiciConnectOptions,
  UndiciConnector,
  WsConnectOptions,
} from './adapters.js';
export { TICKET_WAIT_MS } from './probe.js';
export type { ProbeOptions, ProbeResult } from './probe.js';
export type { PeerSummary } from './peer.js';
export { FALLBACK_SESSION_TTL_MS } from './session-cache.js';
export type { SessionCacheStats } from './session-cache.js';
export { ConnectError, PinMismatchError, TlsError } from './errors.js';
export type { ConnectErrorCode, TlsErrorCode } from './errors.js';
export { classifyDialError } from './classify-error.js';
export type { FailureContext } from './classify-error.js';

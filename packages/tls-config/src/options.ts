import { getCiphers } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import { OptionChecker, silentLogger, systemClock } from '@berth/core-types';
import type { Clock, Logger } from '@berth/core-types';
import { loadTrustMaterial, readFilesSync } from './trust-material.js';
import type { ClientCertificate, TrustMaterial, TrustSources } from './trust-material.js';

/** A TLS protocol version Berth accepts. TLS 1.0 and 1.1 are deprecated by RFC 8996. */
export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

/**
 * An extra identity check run after the built-in host-name and pin checks pass (same
 * signature as `tls.checkServerIdentity`). Return an `Error` to reject the peer; it is
 * reported as `ERR_BERTH_TLS_UNTRUSTED` (a `BerthError` returned here is kept as is).
 */
export type CheckServerIdentity = (hostname: string, cert: PeerCertificate) => Error | undefined;

/** Options of {@link createTlsConfig}. One config is one trust profile (CA set + client certificate + pins). */
export interface TlsConfigOptions {
  /** Name of this trust profile, used in events and logs. Default `'default'`. */
  readonly name?: string;
  /** Lowest TLS version offered. Default `'TLSv1.2'`; `'TLSv1.3'` for 1.3 only. */
  readonly minVersion?: TlsVersion;
  /** Highest TLS version offered. Default `'TLSv1.3'`. Must not be below `minVersion`. */
  readonly maxVersion?: TlsVersion;
  /**
   * Cipher suites offered, OpenSSL names, most preferred first. Default {@link DEFAULT_CIPHERS}
   * (AEAD with ECDHE only). Must hold a `TLS_*` suite when TLS 1.3 is allowed and an
   * ECDHE/TLS 1.2 suite when TLS 1.2 is allowed (Node would otherwise narrow the version
   * range silently).
   */
  readonly ciphers?: readonly string[];
  /** ALPN protocols offered, most preferred first. Default `['h2', 'http/1.1']`. Non-empty, no duplicates. */
  readonly alpnProtocols?: readonly string[];
  /** Extra trusted CA certificates, PEM (a string may hold a bundle). Default none. */
  readonly ca?: string | readonly string[];
  /** Files of extra trusted CA certificates (PEM bundles), re-read by `reload()`. Default none. */
  readonly caFiles?: readonly string[];
  /**
   * Trust Node's bundled Mozilla roots (`tls.rootCertificates`) in addition to `ca`/`caFiles`.
   * Default `true`; `false` trusts only the CAs given (a private PKI), and then at least one is required.
   */
  readonly useSystemRoots?: boolean;
  /** Client certificate for mutual TLS, as PEM strings or files (files are re-read by `reload()`). Default none. */
  readonly clientCertificate?: ClientCertificate;
  /**
   * SPKI SHA-256 pins (RFC 7469 `pin-sha256`, base64 of 32 bytes). When set, a peer whose
   * chain holds none of these keys fails with `ERR_BERTH_TLS_PIN_MISMATCH`. List a backup
   * pin (a key not yet deployed) beside the current one so rotation needs no release
   * (RFC 7469 §4.3). Default none (no pinning).
   */
  readonly pins?: readonly string[];
  /** Extra identity check after the host-name and pin checks. Default none. */
  readonly checkServerIdentity?: CheckServerIdentity;
  /** Deadline for TCP connect + TLS handshake, in milliseconds. Default 10 000 (undici's `connectTimeout`, Go's `TLSHandshakeTimeout`). */
  readonly handshakeTimeoutMs?: number;
  /** Session tickets kept for resumption (LRU); 0 disables resumption. Default 256. */
  readonly maxCachedSessions?: number;
  /** Upper bound on how long a ticket is reused, in milliseconds, whatever lifetime the server advertises. Default 3 600 000 (1 h). */
  readonly maxSessionTtlMs?: number;
  /** Warn (Logger + `berth:tls:cert-expiring`) when a peer or client certificate expires within this many days. 0 disables. Default 14. */
  readonly expiryWarningDays?: number;
  /** TCP keep-alive initial delay, in milliseconds; 0 disables keep-alive probes. Default 60 000 (undici's). */
  readonly tcpKeepAliveInitialDelayMs?: number;
  /** How long a successful `probe()` result is cached per origin, in milliseconds. Default 600 000 (10 min). */
  readonly probeCacheTtlMs?: number;
  /**
   * How long a probe's verified connection is kept for the first `connect()` to the same
   * host, port, name and a matching ALPN offer, in milliseconds, so the pool chosen after a
   * probe starts with that connection instead of a new handshake. 0 closes it at once.
   * A kept connection does not hold the process open. Default 5000.
   */
  readonly probeKeepMs?: number;
  /**
   * Skip certificate, host-name and pin verification. Tests only: logs a warning on every
   * `createTlsConfig` and is refused when `NODE_ENV=production`. Default `false`.
   */
  readonly insecure?: boolean;
  /** Time source for deadlines, ticket lifetimes and certificate expiry. Default the system clock. */
  readonly clock?: Clock;
  /** Where warnings go (insecure mode, expiring certificates). Default silent. */
  readonly logger?: Logger;
}

/**
 * Modern AEAD suites with forward secrecy only (Mozilla "intermediate" without DHE):
 * TLS 1.3's three suites in Node's default order (AES-256-GCM first, as the baselines were
 * measured with), then TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305. No CBC (Lucky13-class
 * padding oracles), no static RSA key exchange (no forward secrecy), no DHE (slow, and
 * weak-group downgrades, RFC 7919).
 */
export const DEFAULT_CIPHERS: readonly string[] = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];
/** HTTP/2 first, so the facade can multiplex where the server agrees (RFC 7301). */
export const DEFAULT_ALPN: readonly string[] = ['h2', 'http/1.1'];
/** undici `connectTimeout` and Go `TLSHandshakeTimeout` both use 10 s. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** undici keeps 100 per origin; 256 covers a few dozen origins × ALPN variants. */
export const DEFAULT_MAX_CACHED_SESSIONS = 256;
/** TLS 1.3 allows 7 days (RFC 8446 §4.6.1); one hour bounds replay of a stolen ticket. */
export const DEFAULT_MAX_SESSION_TTL_MS = 3_600_000;
/** Two weeks is enough notice to rotate a certificate through a normal release. */
export const DEFAULT_EXPIRY_WARNING_DAYS = 14;
/** undici's TCP keep-alive initial delay. */
export const DEFAULT_TCP_KEEPALIVE_INITIAL_DELAY_MS = 60_000;
/** An origin's ALPN choice rarely changes; re-probing every 10 min catches a migration. */
export const DEFAULT_PROBE_CACHE_TTL_MS = 600_000;
/** The facade builds the pool right after the probe; 5 s covers that with a wide margin. */
export const DEFAULT_PROBE_KEEP_MS = 5_000;

/** {@link TlsConfigOptions} with defaults filled in and trust material loaded. */
export interface ResolvedTlsOptions {
  readonly name: string;
  readonly minVersion: TlsVersion;
  readonly maxVersion: TlsVersion;
  readonly ciphers: readonly string[];
  readonly alpnProtocols: readonly string[];
  readonly sources: TrustSources;
  readonly material: TrustMaterial;
  readonly pins: ReadonlySet<string>;
  readonly checkServerIdentity: CheckServerIdentity | undefined;
  readonly handshakeTimeoutMs: number;
  readonly maxCachedSessions: number;
  readonly maxSessionTtlMs: number;
  readonly expiryWarningDays: number;
  readonly tcpKeepAliveInitialDelayMs: number;
  readonly probeCacheTtlMs: number;
  readonly probeKeepMs: number;
  readonly insecure: boolean;
  readonly clock: Clock;
  readonly logger: Logger;
}

const PIN = /^[A-Za-z0-9+/]{43}=$/;
const TLS13_SUITE = /^TLS_/i;

function stringList(c: OptionChecker, path: string, value: unknown, fallback: readonly string[]): readonly string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) {
    c.problem(path, 'an array of non-empty strings', value);
    return fallback;
  }
  return value as string[];
}

function caList(c: OptionChecker, value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  return stringList(c, 'ca', value, []);
}

function resolveCiphers(c: OptionChecker, input: unknown, minVersion: TlsVersion, maxVersion: TlsVersion): readonly string[] {
  const ciphers = stringList(c, 'ciphers', input, DEFAULT_CIPHERS);
  if (ciphers === DEFAULT_CIPHERS) return ciphers;
  const known = new Set(getCiphers());
  const unknown = ciphers.filter((name) => !known.has(name.toLowerCase()));
  if (unknown.length > 0) c.problem('ciphers', 'cipher suite names known to this OpenSSL (tls.getCiphers())', unknown.join(':'));
  if (ciphers.length === 0) c.problem('ciphers', 'at least one cipher suite', ciphers);
  else if (unknown.length === 0) {
    if (maxVersion === 'TLSv1.3' && !ciphers.some((n) => TLS13_SUITE.test(n))) {
      c.problem('ciphers', 'a TLS 1.3 suite (TLS_*) while maxVersion is TLSv1.3', ciphers.join(':'));
    }
    if (minVersion === 'TLSv1.2' && !ciphers.some((n) => !TLS13_SUITE.test(n))) {
      c.problem('ciphers', 'a TLS 1.2 suite while minVersion is TLSv1.2', ciphers.join(':'));
    }
  }
  return ciphers;
}

function resolveAlpn(c: OptionChecker, input: unknown): readonly string[] {
  const alpn = stringList(c, 'alpnProtocols', input, DEFAULT_ALPN);
  if (alpn.length === 0) c.problem('alpnProtocols', 'a non-empty array such as ["h2", "http/1.1"]', alpn);
  // RFC 7301 §3.1: each protocol name is 1..255 bytes.
  for (const [i, name] of alpn.entries()) {
    if (Buffer.byteLength(name) > 255) c.problem(`alpnProtocols[${i}]`, 'at most 255 bytes (RFC 7301)', name);
  }
  if (new Set(alpn).size !== alpn.length) c.problem('alpnProtocols', 'no duplicate protocol', alpn.join(','));
  return alpn;
}

function resolvePins(c: OptionChecker, input: unknown): ReadonlySet<string> {
  const pins = stringList(c, 'pins', input, []);
  for (const [i, pin] of pins.entries()) {
    if (!PIN.test(pin)) c.problem(`pins[${i}]`, 'a base64 SHA-256 digest (44 characters ending in "=")', pin);
  }
  return new Set(pins);
}

function resolveClientCertificate(c: OptionChecker, input: unknown): ClientCertificate | undefined {
  if (input === undefined) return undefined;
  const record = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const passphrase = c.string('clientCertificate.passphrase', record['passphrase'], undefined);
  const withPass = passphrase === undefined ? {} : { passphrase };
  const inline = record['cert'] !== undefined || record['key'] !== undefined;
  const files = record['certFile'] !== undefined || record['keyFile'] !== undefined;
  if (inline === files) {
    c.problem('clientCertificate', 'either { cert, key } PEM strings or { certFile, keyFile } paths', input);
    return undefined;
  }
  if (inline) {
    const cert = c.string('clientCertificate.cert', record['cert'] ?? '', undefined);
    const key = c.string('clientCertificate.key', record['key'] ?? '', undefined);
    return cert === undefined || key === undefined ? undefined : { cert, key, ...withPass };
  }
  const certFile = c.string('clientCertificate.certFile', record['certFile'] ?? '', undefined);
  const keyFile = c.string('clientCertificate.keyFile', record['keyFile'] ?? '', undefined);
  return certFile === undefined || keyFile === undefined ? undefined : { certFile, keyFile, ...withPass };
}

/**
 * Fills defaults, validates every option and loads the trust material (CA PEM, files,
 * client certificate and key), reporting every problem at once in one `ERR_BERTH_CONFIG`.
 * `env` is the process environment (for the production guard on `insecure`).
 */
export function resolveOptions(
  input: TlsConfigOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedTlsOptions {
  const c = new OptionChecker('tls-config');
  const name = c.string('name', input.name, 'default');
  const versions = ['TLSv1.2', 'TLSv1.3'] as const;
  const minVersion = c.oneOf('minVersion', input.minVersion, versions, 'TLSv1.2');
  const maxVersion = c.oneOf('maxVersion', input.maxVersion, versions, 'TLSv1.3');
  if (minVersion === 'TLSv1.3' && maxVersion === 'TLSv1.2') {
    c.problem('minVersion', `a version not above maxVersion (${maxVersion})`, minVersion);
  }
  const ciphers = resolveCiphers(c, input.ciphers, minVersion, maxVersion);
  const alpnProtocols = resolveAlpn(c, input.alpnProtocols);
  const pins = resolvePins(c, input.pins);
  const checkServerIdentity = c.func<CheckServerIdentity, undefined>('checkServerIdentity', input.checkServerIdentity, undefined);
  const handshakeTimeoutMs = c.number('handshakeTimeoutMs', input.handshakeTimeoutMs, {
    min: 1,
    max: 600_000,
    integer: true,
    default: DEFAULT_HANDSHAKE_TIMEOUT_MS,
  });
  const maxCachedSessions = c.number('maxCachedSessions', input.maxCachedSessions, {
    min: 0,
    max: 1_000_000,
    integer: true,
    default: DEFAULT_MAX_CACHED_SESSIONS,
  });
  const maxSessionTtlMs = c.number('maxSessionTtlMs', input.maxSessionTtlMs, {
    min: 1,
    // RFC 8446 §4.6.1: a ticket lives at most 7 days.
    max: 7 * 86_400_000,
    integer: true,
    default: DEFAULT_MAX_SESSION_TTL_MS,
  });
  const expiryWarningDays = c.number('expiryWarningDays', input.expiryWarningDays, {
    min: 0,
    max: 3650,
    default: DEFAULT_EXPIRY_WARNING_DAYS,
  });
  const tcpKeepAliveInitialDelayMs = c.number('tcpKeepAliveInitialDelayMs', input.tcpKeepAliveInitialDelayMs, {
    min: 0,
    integer: true,
    default: DEFAULT_TCP_KEEPALIVE_INITIAL_DELAY_MS,
  });
  const probeCacheTtlMs = c.number('probeCacheTtlMs', input.probeCacheTtlMs, {
    min: 0,
    integer: true,
    default: DEFAULT_PROBE_CACHE_TTL_MS,
  });
  const probeKeepMs = c.number('probeKeepMs', input.probeKeepMs, {
    min: 0,
    max: 600_000,
    integer: true,
    default: DEFAULT_PROBE_KEEP_MS,
  });
  const insecure = c.boolean('insecure', input.insecure, false);
  if (insecure && env['NODE_ENV'] === 'production') {
    c.problem('insecure', 'false when NODE_ENV is "production" (verification is never skipped in production)', true);
  }
  const useSystemRoots = c.boolean('useSystemRoots', input.useSystemRoots, true);
  const sources: TrustSources = {
    ca: caList(c, input.ca),
    caFiles: stringList(c, 'caFiles', input.caFiles, []),
    useSystemRoots,
    clientCertificate: resolveClientCertificate(c, input.clientCertificate),
  };
  const material = loadTrustMaterial(sources, readFilesSync(sources), c);
  const clock = input.clock ?? systemClock;
  const logger = input.logger ?? silentLogger;
  c.done();
  return {
    name,
    minVersion,
    maxVersion,
    ciphers,
    alpnProtocols,
    sources,
    material,
    pins,
    checkServerIdentity,
    handshakeTimeoutMs,
    maxCachedSessions,
    maxSessionTtlMs,
    expiryWarningDays,
    tcpKeepAliveInitialDelayMs,
    probeCacheTtlMs,
    probeKeepMs,
    insecure,
    clock,
    logger,
  };
}

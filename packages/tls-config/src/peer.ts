import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import { spkiPinOfDer } from './pem.js';

/** What a probe reports about the server's leaf certificate. */
export interface PeerSummary {
  /** Subject common name (or the whole subject when it has no CN). */
  readonly subject: string;
  /** Issuer common name. */
  readonly issuer: string;
  /** Expiry, wall-clock milliseconds since the epoch. */
  readonly validTo: number;
  /** SPKI SHA-256 pin of the leaf's public key, base64 (RFC 7469). */
  readonly spkiPin: string;
}

function nameOf(name: Readonly<Record<string, unknown>> | undefined): string {
  if (name === undefined) return '';
  const cn = name['CN'];
  if (typeof cn === 'string') return cn;
  if (Array.isArray(cn)) return cn.join(', ');
  return Object.entries(name)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
}

/** Summarizes a peer certificate; `undefined` for the empty object Node returns on a resumed session. */
export function summarizePeer(cert: PeerCertificate): PeerSummary | undefined {
  if (cert.pubkey === undefined || cert.raw === undefined) return undefined;
  return {
    subject: nameOf(cert.subject),
    issuer: nameOf(cert.issuer),
    validTo: Date.parse(cert.valid_to),
    spkiPin: spkiPinOfDer(cert.pubkey),
  };
}

/**
 * SPKI pins of every certificate in a verified chain, leaf first. Pinning an intermediate
 * or the root is allowed, as in HPKP (RFC 7469 §2.6: a pin may match any key in the chain).
 */
export function chainPins(leaf: DetailedPeerCertificate): string[] {
  const pins: string[] = [];
  const seen = new Set<PeerCertificate>();
  let cert: DetailedPeerCertificate | undefined = leaf;
  while (cert !== undefined && !seen.has(cert) && cert.pubkey !== undefined) {
    seen.add(cert);
    pins.push(spkiPinOfDer(cert.pubkey));
    cert = cert.issuerCertificate;
  }
  return pins;
}

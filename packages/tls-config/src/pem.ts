import { X509Certificate, createHash } from 'node:crypto';

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Splits a PEM bundle into its certificates and parses each one. Throws (with the block's
 * index) on text that holds no certificate or a block OpenSSL cannot parse, so a malformed
 * bundle fails at configuration time instead of silently trusting fewer CAs.
 */
export function parseCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error('no "-----BEGIN CERTIFICATE-----" block found');
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new Error(`certificate #${index + 1} does not parse: ${(error as Error).message}`, { cause: error });
    }
  });
}

/**
 * SPKI SHA-256 pin (RFC 7469 §2.4 `pin-sha256`), base64, of a DER SubjectPublicKeyInfo. Node's
 * `PeerCertificate.pubkey` is exactly that DER (see the pinning example under
 * `tls.checkServerIdentity` in Node's docs).
 */
export function spkiPinOfDer(spkiDer: Uint8Array): string {
  return createHash('sha256').update(spkiDer).digest('base64');
}

/** The common name of a distinguished name in Node's multi-line form (`CN=x\nO=y`), or the whole name. */
export function commonName(dn: string): string {
  const match = /(?:^|\n)CN=([^\n]*)/.exec(dn);
  return match?.[1] ?? dn;
}

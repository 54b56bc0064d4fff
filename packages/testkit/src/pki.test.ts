import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { spkiPinOf, testPki } from './pki.js';

describe('testPki', () => {
  it('issues leaves that chain to the test CA, except the untrusted one', async () => {
    const pki = await testPki();
    const ca = new X509Certificate(pki.ca.cert);
    const otherCa = new X509Certificate(pki.otherCa.cert);
    for (const leaf of [pki.server, pki.serverEcdsa, pki.serverAlt, pki.expired, pki.wrongHost, pki.client]) {
      expect(new X509Certificate(leaf.cert).verify(ca.publicKey)).toBe(true);
    }
    expect(new X509Certificate(pki.untrusted.cert).verify(ca.publicKey)).toBe(false);
    expect(new X509Certificate(pki.untrusted.cert).verify(otherCa.publicKey)).toBe(true);
  });

  it('covers localhost and both loopback addresses, and the variants differ as named', async () => {
    const pki = await testPki();
    const server = new X509Certificate(pki.server.cert);
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkIP('::1')).toBe('::1');
    expect(new X509Certificate(pki.wrongHost.cert).checkHost('localhost')).toBeUndefined();
    expect(new Date(new X509Certificate(pki.expired.cert).validTo).getTime()).toBeLessThan(Date.now());
    expect(new X509Certificate(pki.serverEcdsa.cert).publicKey.asymmetricKeyType).toBe('ec');
    expect(server.publicKey.asymmetricKeyType).toBe('rsa');
  });

  it('gives the SPKI pin of each key, equal for leaves sharing a key', async () => {
    const pki = await testPki();
    expect(pki.server.spkiPin).toBe(spkiPinOf(pki.server.cert));
    expect(pki.expired.spkiPin).toBe(pki.server.spkiPin);
    expect(pki.serverAlt.spkiPin).not.toBe(pki.server.spkiPin);
    expect(Buffer.from(pki.server.spkiPin, 'base64')).toHaveLength(32);
  });
});

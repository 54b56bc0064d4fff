// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import { X509Certificate, createHash, webcrypto } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A certificate and its private key, both PEM. */
export interface CertKeyPair {
  /** Certificate, PEM. */
  readonly cert: string;
  /** PKCS#8 private key, PEM. */
  readonly key: string;
  /** SPKI SHA-256 pin of the certificate's public key, base64 (RFC 7469 `pin-sha256`). */
  readonly spkiPin: string;
}

/**
 * Test PKI generated at run time (no private key is committed). All leaves but `untrusted`
 * are signed by `ca`; `untrusted` is signed by `otherCa`, which clients are never told about.
 */
export interface TestPki {
  /** The test root CA (RSA-2048). Give `ca.cert` to clients as their trust store. */
  readonly ca: CertKeyPair;
  /** A second root that no client trusts. */
  readonly otherCa: CertKeyPair;
  /** RSA-2048 leaf for `localhost`, `127.0.0.1`, `::1`. */
  readonly server: CertKeyPair;
  /** ECDSA P-256 leaf for the same names. */
  readonly serverEcdsa: CertKeyPair;
  /** A second RSA leaf for the same names (a different key): for pin rotation tests. */
  readonly serverAlt: CertKeyPair;
  /** Expired yesterday (valid from 10 days ago). */
  readonly expired: CertKeyPair;
  /** Valid, but only for `wrong.example.test`. */
  readonly wrongHost: CertKeyPair;
  /** For the usual names, signed by `otherCa`. */
  readonly untrusted: CertKeyPair;
  /** A client certificate (`CN=berth-client`, clientAuth) for mTLS. */
  readonly client: CertKeyPair;
  /** Host names every valid leaf covers. */
  readonly names: readonly string[];
}

const RSA: webcrypto.RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};
const ECDSA: webcrypto.EcKeyGenParams & { hash: string } = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 86_400_000;
// Bump when the shape of the generated PKI changes, so stale caches are ignored.
const CACHE_VERSION = 3;

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END PRIVATE KEY-----\n`;
}

/** SPKI SHA-256 pin (base64) of a PEM certificate's public key. */
export function spkiPinOf(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

async function pair(cert: x509.X509Certificate, key: webcrypto.CryptoKey): Promise<CertKeyPair> {
  const pem = cert.toString('pem');
  return { cert: pem, key: await exportKey(key), spkiPin: spkiPinOf(pem) };
}

let serial = 1;
function nextSerial(): string {
  serial += 1;
  return serial.toString(16).padStart(2, '0');
}

async function createCa(cn: string, now: number): Promise<{ cert: x509.X509Certificate; keys: webcrypto.CryptoKeyPair }> {
  const keys = await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name: `CN=${cn}`,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 30 * DAY_MS),
    signingAlgorithm: RSA,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

interface LeafSpec {
  readonly cn: string;
  readonly dns: readonly string[];
  readonly ips: readonly string[];
  readonly notBefore: number;
  readonly notAfter: number;
  readonly usage: 'server' | 'client';
  readonly publicKey: webcrypto.CryptoKey;
}

async function createLeaf(
  issuer: { cert: x509.X509Certificate; keys: webcrypto.CryptoKeyPair },
  spec: LeafSpec,
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    serialNumber: nextSerial(),
    subject: `CN=${spec.cn}`,
    issuer: issuer.cert.subject,
    notBefore: new Date(spec.notBefore),
    notAfter: new Date(spec.notAfter),
    signingAlgorithm: RSA,
    publicKey: spec.publicKey,
    signingKey: issuer.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension(
        [spec.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
        false,
      ),
      new x509.SubjectAlternativeNameExtension([
        ...spec.dns.map((value) => ({ type: 'dns' as const, value })),
        ...spec.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.cert, false),
    ],
  });
}

async function generate(now: number): Promise<TestPki> {
  const ca = await createCa('Berth Test Root CA', now);
  const otherCa = await createCa('Berth Untrusted Root CA', now);
  const rsaKeys = await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']);
  const altKeys = await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']);
  const ecKeys = await webcrypto.subtle.generateKey(ECDSA, true, ['sign', 'verify']);
  const clientKeys = await webcrypto.subtle.generateKey(ECDSA, true, ['sign', 'verify']);
  const names = ['localhost'];
  const ips = ['127.0.0.1', '::1'];
  const valid = { notBefore: now - DAY_MS, notAfter: now + 30 * DAY_MS };
  const leaf = (publicKey: webcrypto.CryptoKey, extra: Partial<LeafSpec> = {}, issuer = ca) =>
    createLeaf(issuer, { cn: 'localhost', dns: names, ips, usage: 'server', publicKey, ...valid, ...extra });
  return {
    ca: await pair(ca.cert, ca.keys.privateKey),
    otherCa: await pair(otherCa.cert, otherCa.keys.privateKey),
    server: await pair(await leaf(rsaKeys.publicKey), rsaKeys.privateKey),
    serverEcdsa: await pair(await leaf(ecKeys.publicKey), ecKeys.privateKey),
    serverAlt: await pair(await leaf(altKeys.publicKey), altKeys.privateKey),
    expired: await pair(
      await leaf(rsaKeys.publicKey, { notBefore: now - 10 * DAY_MS, notAfter: now - DAY_MS }),
      rsaKeys.privateKey,
    ),
    wrongHost: await pair(
      await leaf(rsaKeys.publicKey, { cn: 'wrong.example.test', dns: ['wrong.example.test'], ips: [] }),
      rsaKeys.privateKey,
    ),
    untrusted: await pair(await leaf(rsaKeys.publicKey, {}, otherCa), rsaKeys.privateKey),
    client: await pair(
      await leaf(clientKeys.publicKey, { cn: 'berth-client', dns: ['berth-client'], ips: [], usage: 'client' }),
      clientKeys.privateKey,
    ),
    names: [...names, ...ips],
  };
}

let cached: Promise<TestPki> | undefined;

/**
 * The test PKI, generated once per machine and day and cached in the OS temp directory
 * (key generation costs ~0.5 s, and every test file runs in its own process). The cache
 * holds test keys only; nothing is committed.
 */
export function testPki(): Promise<TestPki> {
  cached ??= load();
  return cached;
}

async function load(): Promise<TestPki> {
  const file = join(tmpdir(), `berth-testkit-pki-v${CACHE_VERSION}.json`);
  const now = Date.now();
  if (existsSync(file)) {
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { createdAt: number; pki: TestPki };
      // Reuse for a day at most; the leaves stay valid for 30.
      if (now - saved.createdAt < DAY_MS && saved.createdAt <= now) return saved.pki;
    } catch {
      // A torn or foreign file: regenerate below.
    }
  }
  const pki = await generate(now);
  // Write then rename: concurrent test processes never read a half-written file.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ createdAt: now, pki }), { mode: 0o600 });
  renameSync(tmp, file);
  return pki;
}

import { createPrivateKey } from 'node:crypto';
import type { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { OptionChecker } from '@berth/core-types';
import { parseCertificates } from './pem.js';

/** A client certificate for mutual TLS: PEM strings, or files that `reload()` re-reads. */
export type ClientCertificate =
  | {
      /** Certificate chain, PEM (leaf first). */
      readonly cert: string;
      /** Private key, PEM (PKCS#8, PKCS#1 or SEC1; may be encrypted). */
      readonly key: string;
      /** Passphrase of an encrypted key. */
      readonly passphrase?: string;
    }
  | {
      /** Path of the certificate chain, PEM. */
      readonly certFile: string;
      /** Path of the private key, PEM. */
      readonly keyFile: string;
      /** Passphrase of an encrypted key. */
      readonly passphrase?: string;
    };

/** Where the trust material comes from (validated option values). */
export interface TrustSources {
  readonly ca: readonly string[];
  readonly caFiles: readonly string[];
  readonly useSystemRoots: boolean;
  readonly clientCertificate: ClientCertificate | undefined;
}

/** Parsed, verified trust material, ready for `tls.createSecureContext`. */
export interface TrustMaterial {
  /** Extra CA certificates (PEM, one per entry), without the system roots. */
  readonly ca: readonly string[];
  /** Whether the system roots are added. */
  readonly useSystemRoots: boolean;
  /** The client certificate, when configured. */
  readonly client?: {
    readonly cert: string;
    readonly key: string;
    readonly passphrase?: string;
    /** The parsed leaf, for expiry warnings. */
    readonly leaf: X509Certificate;
  };
}

/** File path → contents, or the error reading it. */
export type FileContents = ReadonlyMap<string, string | Error>;

function pathsOf(sources: TrustSources): string[] {
  const client = sources.clientCertificate;
  const clientFiles = client !== undefined && 'certFile' in client ? [client.certFile, client.keyFile] : [];
  return [...sources.caFiles, ...clientFiles];
}

/** Reads every file the sources name, synchronously (construction). */
export function readFilesSync(sources: TrustSources): FileContents {
  const files = new Map<string, string | Error>();
  for (const path of pathsOf(sources)) {
    try {
      files.set(path, readFileSync(path, 'utf8'));
    } catch (error) {
      files.set(path, error as Error);
    }
  }
  return files;
}

/** Reads every file the sources name, without blocking the event loop (`reload()`). */
export async function readFiles(sources: TrustSources): Promise<FileContents> {
  const paths = pathsOf(sources);
  const contents = await Promise.all(paths.map((path) => readFile(path, 'utf8').catch((error: unknown) => error as Error)));
  return new Map(paths.map((path, i) => [path, contents[i] ?? new Error('not read')]));
}

function fileText(c: OptionChecker, path: string, option: string, files: FileContents): string | undefined {
  const content = files.get(path);
  if (typeof content === 'string') return content;
  c.problem(option, `a readable file (${content?.message ?? 'not read'})`, path);
  return undefined;
}

function certificates(c: OptionChecker, option: string, pem: string, received: string): X509Certificate[] {
  try {
    return parseCertificates(pem);
  } catch (error) {
    c.problem(option, `PEM certificate(s) (${(error as Error).message})`, received);
    return [];
  }
}

/**
 * Parses every CA and the client certificate and checks that the key opens with its
 * passphrase and matches the certificate, recording each problem on `c`.
 */
export function loadTrustMaterial(sources: TrustSources, files: FileContents, c: OptionChecker): TrustMaterial {
  const ca: string[] = [];
  for (const [i, pem] of sources.ca.entries()) {
    ca.push(...certificates(c, `ca[${i}]`, pem, pem).map((x) => x.toString()));
  }
  for (const [i, path] of sources.caFiles.entries()) {
    const text = fileText(c, path, `caFiles[${i}]`, files);
    if (text !== undefined) ca.push(...certificates(c, `caFiles[${i}]`, text, path).map((x) => x.toString()));
  }
  if (!sources.useSystemRoots && sources.ca.length === 0 && sources.caFiles.length === 0) {
    c.problem('ca', 'at least one CA (ca or caFiles) when useSystemRoots is false', undefined);
  }
  const client = loadClient(sources.clientCertificate, files, c);
  return { ca, useSystemRoots: sources.useSystemRoots, ...(client === undefined ? {} : { client }) };
}

function loadClient(source: ClientCertificate | undefined, files: FileContents, c: OptionChecker): TrustMaterial['client'] {
  if (source === undefined) return undefined;
  const fromFiles = 'certFile' in source;
  const certPem = fromFiles ? fileText(c, source.certFile, 'clientCertificate.certFile', files) : source.cert;
  const keyPem = fromFiles ? fileText(c, source.keyFile, 'clientCertificate.keyFile', files) : source.key;
  const certPath = fromFiles ? 'clientCertificate.certFile' : 'clientCertificate.cert';
  const keyPath = fromFiles ? 'clientCertificate.keyFile' : 'clientCertificate.key';
  if (certPem === undefined || keyPem === undefined) return undefined;
  const [leaf] = certificates(c, certPath, certPem, fromFiles ? source.certFile : certPem);
  let key;
  try {
    key = createPrivateKey({ key: keyPem, ...(source.passphrase === undefined ? {} : { passphrase: source.passphrase }) });
  } catch (error) {
    c.problem(keyPath, `a PEM private key that opens with the given passphrase (${(error as Error).message})`, fromFiles ? source.keyFile : keyPem);
    return undefined;
  }
  if (leaf === undefined) return undefined;
  if (!leaf.checkPrivateKey(key)) {
    c.problem(keyPath, `the private key of the client certificate (subject ${leaf.subject.replaceAll('\n', ', ')})`, 'a key that does not match');
    return undefined;
  }
  return {
    cert: certPem,
    key: keyPem,
    ...(source.passphrase === undefined ? {} : { passphrase: source.passphrase }),
    leaf,
  };
}

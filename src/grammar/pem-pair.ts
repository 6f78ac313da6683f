// A certificate chain and its private key, as PEM (kubernetes.io/tls Secrets, snapshot
// certificates). Pure computation: node:crypto parses, nothing is read or fetched; expiry is not
// judged (no clock). The steps are separate so each reader can say which field is wrong.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { accept, reject, type Parsed } from './result.ts';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The certificate blocks of a chain, leaf first, as written. */
export function certificateBlocks(pem: string): string[] {
  return pem.match(PEM_CERTIFICATE) ?? [];
}

export function parseCertificate(block: string): Parsed<X509Certificate> {
  try {
    return accept(new X509Certificate(block));
  } catch (error) {
    return reject(message(error));
  }
}

/**
 * A CA bundle (upstream TLS verification): one or more PEM certificates, every one parsing.
 * The blocks, as written, are what tls is given.
 */
export function parseCaBundle(pem: string): Parsed<string[]> {
  const blocks = certificateBlocks(pem);
  if (blocks.length === 0) return reject('holds no PEM certificate');
  const bad = blocks.findIndex((block) => !parseCertificate(block).ok);
  return bad === -1 ? accept(blocks) : reject(`certificate ${bad + 1} of the CA bundle does not parse`);
}

/** Unencrypted keys only: the data plane has no passphrase to give. */
export function parsePrivateKey(pem: string): Parsed<KeyObject> {
  try {
    return accept(createPrivateKey(pem));
  } catch (error) {
    const encrypted = /ENCRYPTED/.test(pem) || (error as { code?: string }).code === 'ERR_MISSING_PASSPHRASE';
    return reject(encrypted ? 'encrypted keys are not supported' : message(error));
  }
}

/** The key serves the leaf (the first certificate of the chain). */
export function keyMatchesLeaf(leaf: X509Certificate, key: KeyObject): boolean {
  try {
    return leaf.checkPrivateKey(key);
  } catch {
    return false;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

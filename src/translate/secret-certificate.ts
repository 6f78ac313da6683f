// A kubernetes.io/tls Secret -> a certificate the data plane can load, or why not. The check is
// pure computation (node:crypto parses; nothing is read or fetched): every PEM block of the chain
// must parse, the key must parse and match the leaf. Expiry is not judged here (no clock); the
// expiry metric shows it.
import type { X509Certificate } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { certificateBlocks, keyMatchesLeaf, parseCertificate, parsePrivateKey } from '../grammar/pem-pair.ts';

export type SecretCertificate =
  | { ok: true; cert: string; key: string }
  | { ok: false; reason: 'MissingSecret' | 'InvalidCertificate'; detail: string };

function decode(data: Record<string, string> | undefined, field: string): string | undefined {
  const encoded = data?.[field];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}

/**
 * Checks remembered across translations. Informers hand back the same object while a Secret is
 * unchanged; re-checking 10,000 of them on every rebuild would cost more than the rest of
 * translation. Keyed by object, checked by content. Owned by whoever translates repeatedly (the
 * rebuild loop), so translate() itself keeps no state.
 */
export class SecretCertificateCache {
  readonly #checked = new WeakMap<V1Secret, { cert: string; key: string; result: SecretCertificate }>();

  get(secret: V1Secret, cert: string, key: string): SecretCertificate | undefined {
    const memo = this.#checked.get(secret);
    return memo !== undefined && memo.cert === cert && memo.key === key ? memo.result : undefined;
  }

  set(secret: V1Secret, cert: string, key: string, result: SecretCertificate): void {
    this.#checked.set(secret, { cert, key, result });
  }
}

export function secretCertificate(secret: V1Secret | undefined, name: string, cache?: SecretCertificateCache): SecretCertificate {
  if (secret === undefined) return { ok: false, reason: 'MissingSecret', detail: `Secret ${name} not found` };
  if (secret.type !== undefined && secret.type !== 'kubernetes.io/tls') {
    return { ok: false, reason: 'InvalidCertificate', detail: `Secret ${name} has type ${secret.type}, not kubernetes.io/tls` };
  }
  const cert = decode(secret.data, 'tls.crt');
  const key = decode(secret.data, 'tls.key');
  if (cert === undefined || key === undefined) {
    return { ok: false, reason: 'InvalidCertificate', detail: `Secret ${name} lacks ${cert === undefined ? 'tls.crt' : 'tls.key'}` };
  }
  const remembered = cache?.get(secret, cert, key);
  if (remembered !== undefined) return remembered;
  const result = checkPair(cert, key, name);
  cache?.set(secret, cert, key, result);
  return result;
}

function checkPair(cert: string, key: string, name: string): SecretCertificate {
  const blocks = certificateBlocks(cert);
  if (blocks.length === 0) return { ok: false, reason: 'InvalidCertificate', detail: `Secret ${name}: tls.crt holds no PEM certificate` };
  let leaf: X509Certificate | undefined;
  for (const [index, block] of blocks.entries()) {
    const parsed = parseCertificate(block);
    if (!parsed.ok) return { ok: false, reason: 'InvalidCertificate', detail: `Secret ${name}: certificate ${index + 1} of tls.crt does not parse` };
    leaf ??= parsed.value;
  }
  const privateKey = parsePrivateKey(key);
  if (!privateKey.ok) return { ok: false, reason: 'InvalidCertificate', detail: `Secret ${name}: tls.key is not a PEM private key` };
  if (!keyMatchesLeaf(leaf!, privateKey.value)) {
    return { ok: false, reason: 'InvalidCertificate', detail: `Secret ${name}: tls.key does not match the certificate in tls.crt` };
  }
  return { ok: true, cert, key };
}

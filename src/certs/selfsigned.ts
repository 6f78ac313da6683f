// Certificates made by wsgate itself: the default certificate served when no snapshot certificate
// matches (SPEC §3 `--default-cert-secret`, absent = self-signed made at start), the demo's, and the
// test fixtures'. @peculiar/x509 builds the DER; Node's WebCrypto does the key work.
import { KeyObject, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import type * as X509 from '@peculiar/x509';
import { InvalidArgumentError, UnsupportedKeyError } from '../common/errors.ts';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export type KeyType = 'ecdsa' | 'rsa';

export interface PemPair {
  /** PEM certificate (a single one: the leaf). */
  cert: string;
  /** PEM private key, PKCS#8. */
  key: string;
}

const crypto = webcrypto;

// ECDSA P-256 is what every TLS client accepts and is cheap to generate; RSA 2048 is the smallest
// size OpenSSL's default security level accepts.
const KEY_ALGORITHMS: Record<KeyType, webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams> = {
  ecdsa: { name: 'ECDSA', namedCurve: 'P-256' },
  rsa: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
};

const SIGNING_ALGORITHMS: Record<KeyType, webcrypto.Algorithm | webcrypto.EcdsaParams> = {
  ecdsa: { name: 'ECDSA', hash: 'SHA-256' } as webcrypto.EcdsaParams,
  rsa: { name: 'RSASSA-PKCS1-v1_5' },
};

const DAY_MS = 24 * 60 * 60 * 1000;

// @peculiar/x509 registers its algorithms through tsyringe, which needs the Reflect metadata
// API; loaded on first use so processes that never make a certificate never pay for it.
let x509Module: Promise<typeof X509> | undefined;

function loadX509(): Promise<typeof X509> {
  x509Module ??= import('reflect-metadata').then(() => import('@peculiar/x509'));
  return x509Module;
}

export async function generateKeyPair(keyType: KeyType = 'ecdsa'): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(KEY_ALGORITHMS[keyType], true, ['sign', 'verify'])) as CryptoKeyPair;
}

export interface IssueOptions {
  /** DNS names (`*.example.com` allowed) and IP addresses, as subjectAltName entries. */
  hosts: string[];
  keyType?: KeyType;
  /** A key pair to certify; a new one of `keyType` when absent. */
  keys?: CryptoKeyPair;
  /** Subject CN; defaults to the first host. */
  commonName?: string;
  /** Signer; self-signed when absent. */
  issuer?: PemPair;
  /** Make a CA certificate (basicConstraints cA, keyCertSign) instead of a server one. */
  isCa?: boolean;
  /** Validity, counted from notBefore, when notAfter is not given. Default 365. */
  days?: number;
  notBefore?: Date;
  notAfter?: Date;
}

/** A certificate for `hosts`, self-signed or signed by `issuer`; returned as PEM with its key. */
export async function issueCertificate(options: IssueOptions): Promise<PemPair> {
  const x509 = await loadX509();
  const keyType = options.keyType ?? 'ecdsa';
  const keys = options.keys ?? (await generateKeyPair(keyType));
  // Backdated a minute so a peer whose clock is slightly behind does not see "not yet valid".
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + (options.days ?? 365) * DAY_MS);
  const commonName = options.commonName ?? options.hosts[0];
  if (commonName === undefined) throw new InvalidArgumentError('issueCertificate', 'hosts or commonName is required');
  const subject = `CN=${escapeDnValue(commonName)}`;

  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(options.isCa === true, undefined, true),
    new x509.KeyUsagesExtension(keyUsages(x509.KeyUsageFlags, keyType, options.isCa === true), true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
  ];
  if (options.isCa !== true) {
    extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false));
  }
  // RFC 5280 §4.2.1.6: an empty subjectAltName is not allowed, so it is left out when there are no hosts.
  if (options.hosts.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension(options.hosts.map(generalName), false));
  }

  let certificate: X509.X509Certificate;
  if (options.issuer === undefined) {
    certificate = await x509.X509CertificateGenerator.createSelfSigned(
      { serialNumber: serialNumber(), name: subject, notBefore, notAfter, keys, extensions, signingAlgorithm: SIGNING_ALGORITHMS[keyType] },
      crypto,
    );
  } else {
    const issuerCert = new x509.X509Certificate(options.issuer.cert);
    const { key: signingKey, keyType: issuerKeyType } = await importPrivateKey(options.issuer.key);
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuerCert.publicKey, false, crypto));
    certificate = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serialNumber(),
        subject,
        issuer: issuerCert.subject,
        notBefore,
        notAfter,
        publicKey: keys.publicKey,
        signingKey,
        extensions,
        signingAlgorithm: SIGNING_ALGORITHMS[issuerKeyType],
      },
      crypto,
    );
  }
  return { cert: certificate.toString('pem') + '\n', key: exportPrivateKeyPem(keys.privateKey) };
}

/** A self-signed server certificate: SANs for `hosts` (DNS names and IP addresses), CN = first host. */
export async function generateSelfSigned(options: {
  hosts: string[];
  keyType?: KeyType;
  days?: number;
  notBefore?: Date;
  notAfter?: Date;
  commonName?: string;
}): Promise<PemPair> {
  return issueCertificate(options);
}

function generalName(host: string): X509.JsonGeneralName {
  return isIP(host) === 0 ? { type: 'dns', value: host.toLowerCase() } : { type: 'ip', value: host };
}

function keyUsages(flags: typeof X509.KeyUsageFlags, keyType: KeyType, isCa: boolean): X509.KeyUsageFlags {
  if (isCa) return flags.keyCertSign | flags.cRLSign | flags.digitalSignature;
  // keyEncipherment only means something for RSA key transport (TLS 1.2 without ECDHE); old clients expect it.
  return keyType === 'rsa' ? flags.digitalSignature | flags.keyEncipherment : flags.digitalSignature;
}

// RFC 5280 §4.1.2.2: a positive integer of at most 20 octets; the top bit is cleared to keep it positive.
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

// RFC 4514 §2.4: characters with a meaning in a DN string are escaped.
function escapeDnValue(value: string): string {
  return value.replace(/[,+"\\<>;=]/g, (c) => `\\${c}`).replace(/^[ #]|\s$/g, (c) => `\\${c}`);
}

function exportPrivateKeyPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

async function importPrivateKey(pem: string): Promise<{ key: CryptoKey; keyType: KeyType }> {
  const keyObject = createPrivateKey(pem);
  const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
  if (keyObject.asymmetricKeyType === 'rsa') {
    const key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
    return { key, keyType: 'rsa' };
  }
  if (keyObject.asymmetricKeyType === 'ec') {
    const namedCurve = ecCurveName(keyObject.asymmetricKeyDetails?.namedCurve);
    const key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve }, false, ['sign']);
    return { key, keyType: 'ecdsa' };
  }
  throw new UnsupportedKeyError(keyObject.asymmetricKeyType ?? 'unknown');
}

function ecCurveName(opensslName: string | undefined): string {
  switch (opensslName) {
    case 'prime256v1':
      return 'P-256';
    case 'secp384r1':
      return 'P-384';
    case 'secp521r1':
      return 'P-521';
    default:
      throw new UnsupportedKeyError(`EC curve ${opensslName ?? 'unknown'}`);
  }
}

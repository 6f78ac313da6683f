// The self-signed certificate every proxy start makes when no default certificate is configured
// (SPEC §3: without --default-cert-secret, "a self-signed certificate made at start"). Built here
// from node:crypto and a few lines of DER instead of @peculiar/x509, whose ASN.1 schema library,
// tslib and Reflect metadata held about 10 MiB of the proxy's memory at rest for one certificate
// (docs/benchmarks.md). certs/selfsigned.ts still makes the demo's and the tests' certificates.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { PemPair } from '../../certs/selfsigned.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

// X.690 DER: tag, definite length, content.
function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}
const sequence = (...parts: Buffer[]): Buffer => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]): Buffer => tlv(0x31, Buffer.concat(parts));
const explicit = (tagNumber: number, inner: Buffer): Buffer => tlv(0xa0 | tagNumber, inner);
const octets = (content: Buffer): Buffer => tlv(0x04, content);
const bits = (content: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), content]));
const TRUE = Buffer.from([0x01, 0x01, 0xff]);

function integer(bytes: Buffer): Buffer {
  // A leading 1 bit would make it negative: prefix a zero octet.
  return tlv(0x02, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const out = [40 * first + second];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift(0x80 | (v & 0x7f));
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

// RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`, 'latin1')) : tlv(0x18, Buffer.from(`${iso}Z`, 'latin1'));
}

const name = (commonName: string): Buffer => sequence(set(sequence(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
const extension = (id: string, critical: boolean, value: Buffer): Buffer => sequence(oid(id), ...(critical ? [TRUE] : []), octets(value));

/**
 * A self-signed ECDSA P-256 server certificate named `commonName`, without subjectAltName (RFC
 * 5280 §4.2.1.6 forbids an empty one): basicConstraints cA false and keyUsage digitalSignature
 * (both critical), extKeyUsage serverAuth, a subject key identifier; valid from a minute ago
 * (a peer whose clock is slightly behind) for `days`.
 */
export function selfSignedServerCertificate(commonName: string, days = 365, now = new Date()): PemPair {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const ecdsaWithSha256 = sequence(oid('1.2.840.10045.4.3.2'));
  const serial = randomBytes(16);
  // Positive (RFC 5280 §4.1.2.2) and with no leading zero octet, which DER forbids (a zero first
  // octet before one below 0x80 made 1 start in 512 fail with "illegal padding").
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  const notBefore = new Date(now.getTime() - 60_000);
  // RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (the uncompressed point, the last 65 bytes of a P-256 SPKI).
  const keyId = createHash('sha1').update(spki.subarray(spki.length - 65)).digest();
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ecdsaWithSha256,
    name(commonName),
    sequence(time(notBefore), time(new Date(notBefore.getTime() + days * DAY_MS))),
    name(commonName),
    spki,
    explicit(3, sequence(
      extension('2.5.29.19', true, sequence()),
      extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x07, 0x80]))),
      extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))),
      extension('2.5.29.14', false, octets(keyId)),
    )),
  );
  const der = sequence(tbs, ecdsaWithSha256, bits(sign('sha256', tbs, privateKey)));
  const base64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${base64}-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

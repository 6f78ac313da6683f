// Certificate fixtures and a TLS probe, for tests that need to know which certificate a listener
// actually served. Keys are generated once per (key type, slot) and reused: RSA 2048 generation
// takes long enough to matter when every test makes its own.
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import type { webcrypto } from 'node:crypto';
import { generateKeyPair, issueCertificate, type KeyType, type PemPair } from '../../src/certs/selfsigned.ts';

export type { KeyType, PemPair };

export interface TestCertificate extends PemPair {
  /** As tls reports it: `AA:BB:...`, comparable with a peer certificate's fingerprint256. */
  fingerprint256: string;
}

const keyPairs = new Map<string, Promise<webcrypto.CryptoKeyPair>>();

function cachedKeyPair(keyType: KeyType, slot: string): Promise<webcrypto.CryptoKeyPair> {
  const id = `${keyType}/${slot}`;
  let pair = keyPairs.get(id);
  if (pair === undefined) {
    pair = generateKeyPair(keyType);
    keyPairs.set(id, pair);
  }
  return pair;
}

function withFingerprint(pem: PemPair): TestCertificate {
  return { ...pem, fingerprint256: new X509Certificate(pem.cert).fingerprint256 };
}

export interface MakeCertOptions {
  /** DNS names (wildcards allowed) and IP addresses; the first is also the CN. */
  hosts: string[];
  keyType?: KeyType;
  /** Signed by this CA (from makeCa()); self-signed when absent. */
  ca?: PemPair;
  notBefore?: Date;
  notAfter?: Date;
  /**
   * Certificates of one key type and slot share a key pair (each certificate is still distinct:
   * its own serial and fingerprint). Use another slot for a key that must differ, e.g. a key that
   * does not match a certificate.
   */
  keySlot?: string;
}

/** A server certificate and its key, PEM. */
export async function makeCert(options: MakeCertOptions): Promise<TestCertificate> {
  const keyType = options.keyType ?? 'ecdsa';
  const pem = await issueCertificate({
    hosts: options.hosts,
    keyType,
    keys: await cachedKeyPair(keyType, options.keySlot ?? 'default'),
    ...(options.ca === undefined ? {} : { issuer: options.ca }),
    ...(options.notBefore === undefined ? {} : { notBefore: options.notBefore }),
    ...(options.notAfter === undefined ? {} : { notAfter: options.notAfter }),
  });
  return withFingerprint(pem);
}

/** A CA certificate to sign makeCert() certificates with, and to trust in probeTls({ ca }). */
export async function makeCa(options: { keyType?: KeyType; commonName?: string } = {}): Promise<TestCertificate> {
  const keyType = options.keyType ?? 'ecdsa';
  const pem = await issueCertificate({
    hosts: [],
    commonName: options.commonName ?? 'wsgate test CA',
    isCa: true,
    keyType,
    keys: await cachedKeyPair(keyType, 'ca'),
  });
  return withFingerprint(pem);
}

export interface TlsClientOptions {
  port: number;
  /** SNI name; none is sent when absent (the host is an IP address). */
  servername?: string;
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  /** A session from an earlier probe, to resume. */
  session?: Buffer;
  /** Verify the server against this CA; without it the certificate is not verified. */
  ca?: string | string[];
  ALPNProtocols?: string[];
  /** e.g. `DEFAULT@SECLEVEL=0`, for a client offering versions OpenSSL would otherwise not offer. */
  ciphers?: string;
}

// The latest session each client socket received; a 'session' event can come before secureConnect.
const latestSession = new WeakMap<tls.TLSSocket, Buffer>();

/** A TLS connection to 127.0.0.1, resolved once the handshake is done (the caller closes it). */
export function connectTls(options: TlsClientOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: options.port,
      ...(options.servername === undefined ? {} : { servername: options.servername }),
      ...(options.minVersion === undefined ? {} : { minVersion: options.minVersion }),
      ...(options.maxVersion === undefined ? {} : { maxVersion: options.maxVersion }),
      ...(options.session === undefined ? {} : { session: options.session }),
      ...(options.ALPNProtocols === undefined ? {} : { ALPNProtocols: options.ALPNProtocols }),
      ...(options.ciphers === undefined ? {} : { ciphers: options.ciphers }),
      ...(options.ca === undefined ? { rejectUnauthorized: false } : { ca: options.ca, rejectUnauthorized: true }),
    });
    socket.on('session', (session: Buffer) => latestSession.set(socket, session));
    const onError = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

export interface ServedCertificate {
  fingerprint256: string;
  subjectaltname: string | undefined;
  commonName: string | undefined;
  /** From the peer certificate's key: an EC curve means ECDSA, a modulus RSA. */
  keyType: KeyType | 'other';
  /** For ECDSA keys, e.g. `prime256v1`. */
  asn1Curve: string | undefined;
  bits: number | undefined;
  /** `TLSv1.2`, `TLSv1.3`. */
  protocol: string | null;
  alpnProtocol: string | false | null;
  sessionReused: boolean;
  /** The session to resume with, when waitForSession was asked for. */
  session: Buffer | undefined;
  authorized: boolean;
}

/**
 * Handshakes, reports what the server presented, and closes. With `waitForSession`, also waits for
 * a session to resume with: over TLS 1.3 the server sends its tickets after the handshake.
 */
export async function probeTls(options: TlsClientOptions & { waitForSession?: boolean }): Promise<ServedCertificate> {
  const socket = await connectTls(options);
  try {
    let session: Buffer | undefined;
    if (options.waitForSession === true) {
      // Tickets are records like any other: they are only processed while the socket reads.
      socket.resume();
      session =
        latestSession.get(socket) ??
        (await new Promise<Buffer>((resolve, reject) => {
          socket.once('session', resolve);
          socket.once('error', reject);
          socket.once('close', () => reject(new Error('the connection closed before a session ticket arrived')));
        }));
    }
    const peer = socket.getPeerCertificate();
    return {
      fingerprint256: peer.fingerprint256,
      subjectaltname: peer.subjectaltname,
      commonName: typeof peer.subject?.CN === 'string' ? peer.subject.CN : undefined,
      keyType: peer.asn1Curve !== undefined ? 'ecdsa' : peer.modulus !== undefined ? 'rsa' : 'other',
      asn1Curve: peer.asn1Curve,
      bits: peer.bits,
      protocol: socket.getProtocol(),
      alpnProtocol: socket.alpnProtocol,
      sessionReused: socket.isSessionReused(),
      session,
      authorized: socket.authorized,
    };
  } finally {
    socket.destroy();
  }
}

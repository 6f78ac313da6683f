// Certificates for the HTTPS listener (SPEC §5 TLS, §7): one SecureContext per distinct PEM pair,
// chosen per handshake by SNI name; a default certificate for clients that send no name or one no
// certificate serves; session resumption that works across workers.
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import type { SecureContext } from 'node:tls';
import type { Certificate, TlsConfig } from '../../config/snapshot.ts';
import { CertificateError, InvalidArgumentError } from '../../common/errors.ts';
import type { PemPair } from '../../certs/selfsigned.ts';
import { selfSignedServerCertificate } from './default-certificate.ts';
import { hostKey, lookupHost, normaliseRequestHost } from '../../grammar/host.ts';

export const TLS_MIN_VERSION = 'TLSv1.2';
export const TLS_MAX_VERSION = 'TLSv1.3';
/** CN of the certificate made at start when no default certificate is configured. */
export const DEFAULT_CERTIFICATE_NAME = 'wsgate default certificate';
// OpenSSL refuses to resume a session made under another session-id context. Node's default is a
// hash of process.argv, which could differ between processes; a constant keeps workers compatible.
const SESSION_ID_CONTEXT = 'wsgate';
const TICKET_KEYS_BYTES = 48;

/**
 * Session ticket keys (48 random bytes). Every worker must be given the same ones, made once in the
 * cluster primary: a ticket issued by one worker is then accepted by another.
 */
export function createTicketKeys(): Buffer {
  return randomBytes(TICKET_KEYS_BYTES);
}

/** The default certificate when none is configured; the cluster primary makes one for all workers. */
export function selfSignedDefault(): Promise<PemPair> {
  return Promise.resolve(selfSignedServerCertificate(DEFAULT_CERTIFICATE_NAME));
}

interface LoadedCertificate {
  context: SecureContext;
  notAfter: Date;
}

export type SniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;

export interface CertificateStoreOptions {
  /** Served when no snapshot certificate matches and the snapshot names no default; self-signed when absent. */
  defaultCertificate?: PemPair;
  /** From createTicketKeys(), shared by all workers; a fresh set when absent (resumption then stays within this process). */
  ticketKeys?: Buffer;
}

export class CertificateStore {
  readonly ticketKeys: Buffer;
  readonly #startDefault: PemPair;
  // Kept across updates so that a snapshot dropping its own default goes back to this one unrebuilt.
  readonly #startDefaultLoaded: LoadedCertificate;
  #default: PemPair;
  #defaultContext: SecureContext;
  // Keyed by a hash of cert + key: a reload that leaves a certificate unchanged keeps its context,
  // and two names sharing one Secret share one context.
  #byPem = new Map<string, LoadedCertificate>();
  #exact = new Map<string, SecureContext>();
  // `*.example.com` is stored under `example.com`: the part a one-label wildcard leaves fixed.
  #wildcard = new Map<string, SecureContext>();
  // Gateway API wildcards (certificate.wildcardAnyDepth): `*.example.com` under `example.com`,
  // covering names of any depth below it; tried after the two tables above.
  #anyDepth = new Map<string, SecureContext>();
  #expiries: Array<{ name: string; notAfter: Date }> = [];
  #servers = new Set<tls.Server>();

  static async create(options: CertificateStoreOptions = {}): Promise<CertificateStore> {
    const defaultCertificate = options.defaultCertificate ?? (await selfSignedDefault());
    return new CertificateStore(defaultCertificate, options.ticketKeys ?? createTicketKeys());
  }

  private constructor(defaultCertificate: PemPair, ticketKeys: Buffer) {
    if (ticketKeys.length !== TICKET_KEYS_BYTES) {
      throw new InvalidArgumentError('ticketKeys', `must be ${TICKET_KEYS_BYTES} bytes, got ${ticketKeys.length}`);
    }
    this.ticketKeys = ticketKeys;
    this.#startDefault = defaultCertificate;
    this.#default = defaultCertificate;
    const loaded = this.#load(DEFAULT_CERTIFICATE_NAME, defaultCertificate, this.#byPem);
    this.#startDefaultLoaded = loaded.certificate;
    this.#byPem.set(loaded.hash, loaded.certificate);
    this.#defaultContext = loaded.certificate.context;
  }

  /**
   * Takes the certificates of a new snapshot. All or nothing: if any certificate cannot be loaded a
   * CertificateError is thrown and the previous ones stay in effect. Only new handshakes see the
   * change; open connections keep the context they were made with (SPEC §5).
   */
  update(config: TlsConfig | undefined): void {
    const byPem = new Map<string, LoadedCertificate>();
    const exact = new Map<string, SecureContext>();
    const wildcard = new Map<string, SecureContext>();
    const anyDepth = new Map<string, SecureContext>();
    const expiries: Array<{ name: string; notAfter: Date }> = [];

    const take = (name: string, pem: PemPair): LoadedCertificate => {
      const { hash, certificate } = this.#load(name, pem, byPem);
      byPem.set(hash, certificate);
      return certificate;
    };

    const snapshotDefault = config?.defaultCertificate;
    // Always kept: a snapshot certificate with the same PEM, or a later return to it, reuses its context.
    take(DEFAULT_CERTIFICATE_NAME, this.#startDefault);
    const defaultPem = snapshotDefault === undefined ? this.#startDefault : inlinePem(snapshotDefault);
    const defaultLoaded = snapshotDefault === undefined ? this.#startDefaultLoaded : take(snapshotDefault.name, defaultPem);
    if (snapshotDefault !== undefined) expiries.push({ name: snapshotDefault.name, notAfter: defaultLoaded.notAfter });

    for (const certificate of config?.certificates ?? []) {
      const loaded = take(certificate.name, inlinePem(certificate));
      expiries.push({ name: certificate.name, notAfter: loaded.notAfter });
      for (const host of certificate.hosts) {
        const key = hostKey(normaliseRequestHost(host));
        // The snapshot is sorted and conflicts are resolved upstream; should two certificates
        // still claim one name, the first keeps it, so the outcome does not depend on map order.
        const [table, name] = key.kind === 'wildcard' ? [wildcard, key.domain] : [exact, key.name];
        if (!table.has(name)) table.set(name, loaded.context);
      }
      for (const host of certificate.wildcardAnyDepth ?? []) {
        const domain = normaliseRequestHost(host).slice(2);
        if (!anyDepth.has(domain)) anyDepth.set(domain, loaded.context);
      }
    }

    const defaultChanged = !samePem(defaultPem, this.#default);
    this.#byPem = byPem;
    this.#exact = exact;
    this.#wildcard = wildcard;
    this.#anyDepth = anyDepth;
    this.#expiries = expiries;
    this.#default = defaultPem;
    this.#defaultContext = defaultLoaded.context;
    // A client that sends no SNI never reaches SNICallback: the server's own context answers it.
    if (defaultChanged) {
      for (const server of this.#servers) server.setSecureContext(this.#contextOptions(defaultPem));
    }
  }

  /** Node's SNICallback: exact name, then one-label wildcard (RFC 6125 §6.4.3), then a Gateway API any-depth wildcard, else the default. */
  readonly sniCallback: SniCallback = (servername, cb) => {
    cb(null, this.contextFor(servername));
  };

  /** The context a handshake naming `servername` gets (the default for `undefined` or an unknown name). */
  contextFor(servername: string | undefined): SecureContext {
    if (servername === undefined || servername === '') return this.#defaultContext;
    const name = normaliseRequestHost(servername);
    const context = lookupHost(this.#exact, this.#wildcard, name, (found) => found);
    return context ?? this.#anyDepthContext(name) ?? this.#defaultContext;
  }

  /** A Gateway API wildcard covering `name` at any depth, the longest suffix first (never the apex). */
  #anyDepthContext(name: string): SecureContext | undefined {
    if (this.#anyDepth.size === 0) return undefined;
    for (let dot = name.indexOf('.'); dot > 0 && dot < name.length - 1; dot = name.indexOf('.', dot + 1)) {
      const found = this.#anyDepth.get(name.slice(dot + 1));
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** Options for `https.createServer`/`tls.createServer`. Pass the server to attach() too. */
  serverOptions(): tls.TlsOptions {
    return {
      ...this.#contextOptions(this.#default),
      SNICallback: this.sniCallback,
      ALPNProtocols: ['http/1.1'],
    };
  }

  /**
   * Keeps a server's own context (what clients without SNI get) on the current default certificate
   * across updates. Returns a function that detaches it; closing the server detaches it too.
   */
  attach(server: tls.Server): () => void {
    this.#servers.add(server);
    // The default may have changed between serverOptions() and now.
    server.setSecureContext(this.#contextOptions(this.#default));
    const detach = (): void => {
      this.#servers.delete(server);
      server.off('close', detach);
    };
    server.on('close', detach);
    return detach;
  }

  /** One entry per certificate of the snapshot (and its default certificate, when it names one). */
  expiries(): Array<{ name: string; notAfter: Date }> {
    return this.#expiries.map((entry) => ({ ...entry }));
  }

  /** The default certificate in effect (PEM). */
  defaultCertificate(): PemPair {
    return { ...this.#default };
  }

  #contextOptions(pem: PemPair): tls.SecureContextOptions {
    return {
      cert: pem.cert,
      key: pem.key,
      minVersion: TLS_MIN_VERSION,
      maxVersion: TLS_MAX_VERSION,
      sessionIdContext: SESSION_ID_CONTEXT,
      ticketKeys: this.ticketKeys,
    };
  }

  // Reuses a context from this update (`building`) or from the certificates in effect.
  #load(name: string, pem: PemPair, building: Map<string, LoadedCertificate>): { hash: string; certificate: LoadedCertificate } {
    const hash = pemHash(pem);
    const reused = building.get(hash) ?? this.#byPem.get(hash);
    if (reused !== undefined) return { hash, certificate: reused };
    let context: SecureContext;
    let notAfter: Date;
    try {
      context = tls.createSecureContext(this.#contextOptions(pem));
      // The leaf comes first in the chain (SPEC §4); X509Certificate reads the first PEM block.
      notAfter = new X509Certificate(pem.cert).validToDate;
    } catch (error) {
      throw new CertificateError(name, error instanceof Error ? error.message : String(error), { cause: error });
    }
    return { hash, certificate: { context, notAfter } };
  }
}

function inlinePem(certificate: Pick<Certificate, 'name' | 'cert' | 'key'>): PemPair {
  if (certificate.cert === undefined || certificate.key === undefined) {
    throw new CertificateError(certificate.name, 'cert and key must be inline PEM by the time the data plane loads it');
  }
  return { cert: certificate.cert, key: certificate.key };
}

function pemHash(pem: PemPair): string {
  return createHash('sha256').update(pem.cert).update('\0').update(pem.key).digest('hex');
}

function samePem(a: PemPair, b: PemPair): boolean {
  return a.cert === b.cert && a.key === b.key;
}

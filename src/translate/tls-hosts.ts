// spec.tls of the served Ingresses -> the snapshot's certificates (SPEC §5 TLS). A missing or
// invalid Secret leaves its hosts on the default certificate with a Warning; one certificate per
// Secret (`namespace/secret`) however many Ingresses name it; a TLS host claimed with two different
// Secrets stays with the older Ingress's, like a route.
import type { V1Ingress, V1IngressTLS } from '@kubernetes/client-node';
import type { Certificate, TlsConfig } from '../config/snapshot.ts';
import type { Cluster } from './resource-index.ts';
import { describeWinner, ingressObject, summarise, type Diagnostics } from './diagnostics.ts';
import { splitNamespacedName } from '../common/names.ts';
import { compareStrings } from './order.ts';
import { normaliseHost, ruleHosts } from './rules.ts';
import { secretCertificate, type SecretCertificate, type SecretCertificateCache } from './secret-certificate.ts';

interface Collected {
  cert: string;
  key: string;
  hosts: Set<string>;
}

/** The hosts one spec.tls entry covers, sorted; an entry without hosts covers the Ingress's own rule hosts. */
function tlsEntryHosts(ingress: V1Ingress, entry: V1IngressTLS): string[] {
  const listed = (entry.hosts ?? []).map(normaliseHost).filter((host): host is string => host !== undefined && host !== '');
  return [...new Set(listed.length > 0 ? listed : ruleHosts(ingress))].sort(compareStrings);
}

/**
 * Whether the Ingress's spec.tls covers a route host (for ssl-redirect): listed, whatever its
 * Secret's state (a host whose Secret is missing is still served on HTTPS, with the default
 * certificate, as ingress-nginx does), or under a listed one-label wildcard.
 */
export function ingressTlsCovers(ingress: V1Ingress): (host: string) => boolean {
  const hosts = new Set((ingress.spec?.tls ?? []).flatMap((entry) => tlsEntryHosts(ingress, entry)));
  return (host) => {
    if (host === '') return false;
    if (hosts.has(host)) return true;
    const dot = host.indexOf('.');
    return !host.startsWith('*.') && dot !== -1 && hosts.has(`*${host.slice(dot)}`);
  };
}

export class TlsCollector {
  readonly #cluster: Cluster;
  readonly #diagnostics: Diagnostics;
  readonly #bySecret = new Map<string, Collected>();
  /** host -> the Secret serving it and the Ingress that claimed it first. */
  readonly #hostOwner = new Map<string, { secret: string; ingress: V1Ingress }>();
  /** Secrets already checked in this translation (many Ingresses often share one). */
  readonly #checked = new Map<string, SecretCertificate>();

  readonly #cache: SecretCertificateCache | undefined;

  constructor(cluster: Cluster, diagnostics: Diagnostics, cache?: SecretCertificateCache) {
    this.#cluster = cluster;
    this.#diagnostics = diagnostics;
    this.#cache = cache;
  }

  /** Call in age order, oldest first. */
  addIngress(ingress: V1Ingress): void {
    const object = ingressObject(ingress);
    for (const [index, entry] of (ingress.spec?.tls ?? []).entries()) {
      const hosts = tlsEntryHosts(ingress, entry);
      const onDefault = hosts.length === 0 ? 'no hosts are affected' : `${summarise(hosts)} use${hosts.length === 1 ? 's' : ''} the default certificate`;
      if (entry.secretName === undefined || entry.secretName === '') {
        this.#diagnostics.warn(object, 'MissingSecret', `spec.tls[${index}] names no Secret; ${onDefault}`);
        continue;
      }
      const secretName = `${object.namespace}/${entry.secretName}`;
      const result = this.#check(object.namespace, entry.secretName);
      if (!result.ok) {
        this.#diagnostics.warn(object, result.reason, `${result.detail}; ${onDefault}`);
        continue;
      }
      const collected = this.#bySecret.get(secretName) ?? { cert: result.cert, key: result.key, hosts: new Set<string>() };
      this.#bySecret.set(secretName, collected);
      for (const host of hosts) {
        const holder = this.#hostOwner.get(host);
        if (holder !== undefined && holder.secret !== secretName) {
          this.#diagnostics.warn(object, 'Conflict', `TLS host ${host} is already served with Secret ${holder.secret} by ${describeWinner(holder.ingress, ingress)}; ${secretName} is not used for it`);
          continue;
        }
        if (holder === undefined) this.#hostOwner.set(host, { secret: secretName, ingress });
        collected.hosts.add(host);
      }
    }
  }

  #check(namespace: string, name: string): SecretCertificate {
    const key = `${namespace}/${name}`;
    let result = this.#checked.get(key);
    if (result === undefined) {
      result = secretCertificate(this.#cluster.secret(namespace, name), key, this.#cache);
      this.#checked.set(key, result);
    }
    return result;
  }

  certificates(): Certificate[] {
    return [...this.#bySecret.entries()]
      .filter(([, collected]) => collected.hosts.size > 0)
      .sort(([a], [b]) => compareStrings(a, b))
      .map(([name, collected]) => ({ name, hosts: [...collected.hosts].sort(compareStrings), cert: collected.cert, key: collected.key }));
  }

  /** `--default-cert-secret`: a Warning on the Secret itself when it cannot be used (self-signed then). */
  defaultCertificate(reference: string): TlsConfig['defaultCertificate'] {
    const { namespace, name } = splitNamespacedName(reference) ?? { namespace: 'default', name: reference };
    const result = this.#check(namespace, name);
    if (result.ok) return { name: `${namespace}/${name}`, cert: result.cert, key: result.key };
    this.#diagnostics.warn({ kind: 'Secret', namespace, name }, result.reason, `${result.detail} (--default-cert-secret); a self-signed certificate is served instead`);
    return undefined;
  }
}

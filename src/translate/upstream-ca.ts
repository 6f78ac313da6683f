// SPEC §6 upstream-tls-verify: an Ingress's verification annotations -> the pool's snapshot
// fields, the CA read from its Secret, or failing that a ConfigMap of that name (key `ca.crt`; a
// Secret wins when both exist), and carried inline, as certificates are:
// the proxy holds no API credentials. A missing Secret or an unusable `ca.crt` is a Warning and
// the pool still verifies, against no CA (fail-closed: every connect fails with 502
// upstream_connect), never against the system roots and never unverified.
import type { IngressPolicy } from '../annotations/policy.ts';
import { splitNamespacedName } from '../common/names.ts';
import type { Pool } from '../config/snapshot.ts';
import { parseCaBundle } from '../grammar/pem-pair.ts';
import type { Diagnostics } from './diagnostics.ts';
import type { Cluster } from './resource-index.ts';
import type { DiagnosticObject } from './types.ts';

export const CA_KEY = 'ca.crt';

export type UpstreamCa = { ok: true; ca: string } | { ok: false; reason: 'MissingSecret' | 'InvalidCertificate'; detail: string };

/** `NAME` (in the Ingress's namespace) or `NS/NAME` -> the two parts. */
export function caSecretName(reference: string, namespace: string): { namespace: string; name: string } {
  return splitNamespacedName(reference) ?? { namespace, name: reference };
}

/**
 * The Secret's `ca.crt`, or when no such Secret exists the ConfigMap's (issue 8: CA bundles are
 * often published as ConfigMaps), checked: every PEM block must parse. The Secret wins when both
 * exist, so adding a ConfigMap never changes what an existing Secret reference verifies against.
 */
export function upstreamCa(cluster: Cluster, reference: string, namespace: string): UpstreamCa {
  const ref = caSecretName(reference, namespace);
  const label = `${ref.namespace}/${ref.name}`;
  const secret = cluster.secret(ref.namespace, ref.name);
  let source: string;
  let ca: string;
  if (secret !== undefined) {
    source = `Secret ${label}`;
    const encoded = secret.data?.[CA_KEY];
    if (encoded === undefined) return { ok: false, reason: 'InvalidCertificate', detail: `${source} lacks ${CA_KEY}` };
    ca = Buffer.from(encoded, 'base64').toString('utf8');
  } else {
    const configMap = cluster.configMap(ref.namespace, ref.name);
    if (configMap === undefined) return { ok: false, reason: 'MissingSecret', detail: `neither Secret nor ConfigMap ${label} found` };
    source = `ConfigMap ${label}`;
    const text = configMap.data?.[CA_KEY];
    if (text === undefined) return { ok: false, reason: 'InvalidCertificate', detail: `${source} lacks ${CA_KEY}` };
    ca = text;
  }
  const bundle = parseCaBundle(ca);
  return bundle.ok ? { ok: true, ca } : { ok: false, reason: 'InvalidCertificate', detail: `${source}: ${CA_KEY} ${bundle.reason}` };
}

/**
 * What the Ingress's pools verify against: undefined unless both upstream-tls and
 * upstream-tls-verify are on (verify alone does nothing, as proxy-ssl-verify needs HTTPS); read
 * once per Ingress, so a bad Secret is one Warning however many Services the Ingress has.
 */
export function upstreamVerification(policy: IngressPolicy, cluster: Cluster, object: DiagnosticObject, diagnostics: Diagnostics): { ca?: string } | undefined {
  if (!policy.upstreamTls || policy.upstreamTlsVerify !== true) return undefined;
  const failClosed = 'the backends are verified against no CA, so every connection to them fails (502 upstream_connect)';
  if (policy.upstreamTlsCaSecret === undefined) {
    diagnostics.warn(object, 'MissingSecret', `upstream-tls-verify without upstream-tls-ca-secret; ${failClosed}`);
    return {};
  }
  const ca = upstreamCa(cluster, policy.upstreamTlsCaSecret, object.namespace);
  if (ca.ok) return { ca: ca.ca };
  diagnostics.warn(object, ca.reason, `upstream-tls-ca-secret: ${ca.detail}; ${failClosed}`);
  return {};
}

/** The pool fields for one Service: the server name defaults to the Service's DNS name. */
export function upstreamVerifyFields(verification: { ca?: string } | undefined, policy: IngressPolicy, namespace: string, service: string): Partial<Pool> {
  if (verification === undefined) return {};
  return {
    upstreamTlsVerify: true,
    ...(verification.ca === undefined ? {} : { upstreamTlsCa: verification.ca }),
    upstreamTlsServerName: policy.upstreamTlsServerName ?? `${service}.${namespace}.svc`,
  };
}

// translate(resources) -> { snapshot, diagnostics, lastGood }: the pure core of the controller
// (SPEC §5, §6). No I/O, no clock; user mistakes become diagnostics, never exceptions; the same
// objects in any order give the same snapshot, byte for byte.
import type { V1Ingress } from '@kubernetes/client-node';
import { parseIngressAnnotations } from '../annotations/parse.ts';
import type { IngressPolicy } from '../annotations/policy.ts';
import { WSGATE_ANNOTATIONS } from '../annotations/registry.ts';
import { SNAPSHOT_VERSION, type Certificate, type Pool, type Route, type RoutePolicy, type Snapshot, type TlsConfig } from '../config/snapshot.ts';
import { resolveBackend } from './backends.ts';
import { longLivedRoutePolicy } from './long-lived.ts';
import { newPool } from './pool.ts';
import { ingressClassSelector } from './class.ts';
import { indexCluster, type Cluster } from './resource-index.ts';
import { Diagnostics, describeWinner, ingressObject, summarise } from './diagnostics.ts';
import { compareIngressAge, compareStrings, namespacedName } from './order.ts';
import { routeClaims, routeKey, routeLabel } from './rules.ts';
import { TlsCollector, ingressTlsCovers } from './tls-hosts.ts';
import { upstreamVerification } from './upstream-ca.ts';
import { translateGatewayApi } from './gateway/translate-gateway.ts';
import { RecordingDiagnostics, recordingCluster, sameReads, settle, type ServedIngress, type TranslateMemo } from './memo.ts';
import { CONTROLLER_NAME, DEFAULT_INGRESS_CLASS, type LastGoodState, type Resources, type TranslateOptions, type TranslateResult } from './types.ts';

/** The key lastGood remembers an Ingress by: its uid, which a delete and re-create changes. */
export function ingressIdentity(ingress: V1Ingress): string {
  return ingress.metadata?.uid ?? namespacedName(ingress);
}

export interface TranslateMemoOptions extends TranslateOptions {
  /**
   * Per-Ingress results of earlier translations: an Ingress whose inputs did not change gives the
   * very same (frozen) routes, pools and certificates again. Without it everything is translated afresh.
   */
  memo?: TranslateMemo;
}

export function translate(resources: Resources, options: TranslateMemoOptions = {}): TranslateResult {
  const cluster = indexCluster(resources);
  const isOurs = ingressClassSelector(resources.ingressClasses ?? [], options.ingressClass ?? DEFAULT_INGRESS_CLASS, options.controllerName ?? CONTROLLER_NAME);
  // Oldest first: whoever claims a route or TLS host first keeps it (SPEC §5 conflicts).
  const ingresses = (resources.ingresses ?? []).filter(isOurs).sort(compareIngressAge);

  const diagnostics = new Diagnostics();
  const lastGood = new Map<string, IngressPolicy>();
  const routes = new Map<string, RouteHolder>();
  const pools = new Map<string, Pool>();
  const tls = new TlsCollector(cluster, diagnostics, options.certificateCache);

  for (const ingress of ingresses) {
    const policy = annotationPolicy(ingress, options.lastGood, lastGood, diagnostics, options.memo);
    if (policy === undefined) continue;
    if (options.memo === undefined) serveIngress(ingress, policy, cluster, routes, pools, diagnostics);
    else serveIngressReusing(options.memo, ingress, policy, cluster, routes, pools, diagnostics);
    tls.addIngress(ingress);
  }

  // Gateway API second: an Ingress keeps what it claimed (README "Gateway API" precedence).
  const gatewayApi = translateGatewayApi(resources, {
    cluster,
    diagnostics,
    ingressClaims: new Set(routes.keys()),
    routePolicy: (policy) => (policy.forceSslRedirect === true ? { ...routePolicy(policy), httpsRedirect: true } : routePolicy(policy)),
    previous: options.lastGood,
    lastGood,
    certificateCache: options.certificateCache,
  });
  for (const pool of gatewayApi.pools) pools.set(pool.name, pool);

  const tlsConfig: TlsConfig = {};
  const ingressCertificates = options.memo === undefined ? tls.certificates() : options.memo.certificates(tls.certificates());
  const certificates = withListenerCertificates(ingressCertificates, gatewayApi.certificates);
  if (certificates.length > 0) tlsConfig.certificates = certificates;
  if (options.defaultCertSecret !== undefined) {
    const defaultCertificate = tls.defaultCertificate(options.defaultCertSecret);
    if (defaultCertificate !== undefined) tlsConfig.defaultCertificate = defaultCertificate;
  }
  // An HTTPS listener for any host: its certificate is the default one, unless --default-cert-secret says otherwise.
  if (tlsConfig.defaultCertificate === undefined && options.defaultCertSecret === undefined && gatewayApi.anyHostCertificate !== undefined) {
    tlsConfig.defaultCertificate = gatewayApi.anyHostCertificate;
  }

  const snapshot: Snapshot = { version: SNAPSHOT_VERSION, routes: [], pools: [] };
  if (tlsConfig.certificates !== undefined || tlsConfig.defaultCertificate !== undefined) snapshot.tls = tlsConfig;
  snapshot.routes = [...[...routes.values()].map((entry) => entry.route), ...gatewayApi.routes].sort(compareRoutes);
  snapshot.pools = [...pools.values()].sort((a, b) => compareStrings(a.name, b.name));
  return { snapshot, diagnostics: diagnostics.sorted(), lastGood: { policies: lastGood }, gatewayStatuses: gatewayApi.statuses };
}

/** Gateway listener certificates for the hosts no Ingress certificate serves already (Ingress first). */
function withListenerCertificates(ingress: Certificate[], listeners: readonly Certificate[]): Certificate[] {
  if (listeners.length === 0) return ingress;
  const taken = new Set(ingress.flatMap((c) => c.hosts));
  // Ingress wildcards cover one label only, so only another listener takes an any-depth wildcard.
  const takenDeep = new Set<string>();
  const out: Certificate[] = ingress.map((c) => ({ ...c, hosts: [...c.hosts] }));
  for (const certificate of listeners) {
    const hosts = certificate.hosts.filter((h) => !taken.has(h));
    const deep = (certificate.wildcardAnyDepth ?? []).filter((h) => !takenDeep.has(h));
    if (hosts.length === 0 && deep.length === 0) continue;
    for (const h of hosts) taken.add(h);
    for (const h of deep) takenDeep.add(h);
    const same = out.find((c) => c.name === certificate.name);
    if (same !== undefined) {
      same.hosts = [...new Set([...same.hosts, ...hosts])].sort(compareStrings);
      if (deep.length > 0) same.wildcardAnyDepth = [...new Set([...(same.wildcardAnyDepth ?? []), ...deep])].sort(compareStrings);
    } else {
      const { wildcardAnyDepth: _ignored, ...rest } = certificate;
      out.push({ ...rest, hosts, ...(deep.length > 0 ? { wildcardAnyDepth: deep } : {}) });
    }
  }
  return out.sort((a, b) => compareStrings(a.name, b.name));
}

interface RouteHolder {
  route: Route;
  owner: V1Ingress;
}

function compareRoutes(a: Route, b: Route): number {
  return compareStrings(a.host, b.host) || compareStrings(a.path, b.path) || compareStrings(a.pathType, b.pathType);
}

/**
 * The Ingress's policy: parsed now, or (when an annotation is invalid) the last one that parsed,
 * or undefined when there is none (an Ingress invalid from its first version is not served).
 */
function annotationPolicy(ingress: V1Ingress, previous: LastGoodState | undefined, lastGood: Map<string, IngressPolicy>, diagnostics: Diagnostics, memo: TranslateMemo | undefined): IngressPolicy | undefined {
  const object = ingressObject(ingress);
  const parse = () => parseIngressAnnotations(ingress.metadata?.annotations);
  const parsed = memo === undefined ? parse() : memo.parsed(ingress, parse);
  if (parsed.ignored.length > 0) {
    diagnostics.normal(object, 'IgnoredAnnotations', `ingress-nginx annotations wsgate does not honour: ${parsed.ignored.join(', ')}`);
  }
  for (const key of parsed.unknown) {
    const known = WSGATE_ANNOTATIONS.map((definition) => definition.key).join(', ');
    diagnostics.warn(object, 'InvalidAnnotation', `${key} is not a wsgate annotation and is ignored; accepted: ${known}`);
  }
  const identity = ingressIdentity(ingress);
  if (parsed.policy !== undefined) {
    lastGood.set(identity, parsed.policy);
    return parsed.policy;
  }
  const kept = previous?.policies.get(identity);
  const consequence = kept === undefined ? 'the Ingress is not served until this is fixed' : 'the Ingress keeps its last good annotations';
  for (const problem of parsed.problems) diagnostics.warn(object, 'InvalidAnnotation', `${problem.message}; ${consequence}`);
  if (kept !== undefined) lastGood.set(identity, kept);
  return kept;
}

function routePolicy(policy: IngressPolicy): RoutePolicy | undefined {
  const route: RoutePolicy = {};
  if (policy.allowedOrigins !== undefined) route.allowedOrigins = policy.allowedOrigins;
  if (policy.allowedSourceRanges !== undefined) route.allowedSourceRanges = policy.allowedSourceRanges;
  if (policy.maxConnections !== undefined) route.maxConnections = policy.maxConnections;
  if (policy.maxConnectionsPerClient !== undefined) route.maxConnectionsPerClient = policy.maxConnectionsPerClient;
  if (policy.maxMessageSize !== undefined) route.maxMessageSize = policy.maxMessageSize;
  Object.assign(route, longLivedRoutePolicy(policy));
  return Object.keys(route).length > 0 ? route : undefined;
}

/**
 * SPEC §6 ssl-redirect / force-ssl-redirect, decided here once per route so the data plane reads
 * one field: force on any host; else on by default where the Ingress's spec.tls covers the host.
 */
function httpsRedirect(policy: IngressPolicy, hostHasTls: boolean): boolean {
  return policy.forceSslRedirect === true || (hostHasTls && policy.sslRedirect !== false);
}


/**
 * serveIngress, or its last result for this very Ingress object when nothing it depended on
 * changed: the same policy object, the same objects from every cluster lookup, the same holder of
 * every route it claims (or none), the same pools already present or not.
 */
function serveIngressReusing(
  memo: TranslateMemo,
  ingress: V1Ingress,
  policy: IngressPolicy,
  cluster: Cluster,
  routes: Map<string, RouteHolder>,
  pools: Map<string, Pool>,
  diagnostics: Diagnostics,
): void {
  const known = memo.served(ingress);
  if (
    known !== undefined &&
    known.resourceVersion === ingress.metadata?.resourceVersion &&
    known.policy === policy &&
    known.claims.every((claim) => routes.get(claim.key)?.owner === claim.owner) &&
    known.poolChecks.every((check) => pools.has(check.name) === check.existed) &&
    sameReads(cluster, known.reads)
  ) {
    memo.stats.reused += 1;
    for (const pool of known.pools) pools.set(pool.name, pool);
    for (const { key, route } of known.routes) routes.set(key, { route, owner: ingress });
    for (const d of known.diagnostics) diagnostics.add(d.object, d.type, d.reason, d.message);
    return;
  }
  memo.stats.translated += 1;
  const served: ServedIngress = { resourceVersion: ingress.metadata?.resourceVersion, policy, reads: [], claims: [], poolChecks: [], routes: [], pools: [], diagnostics: [] };
  const claimsBefore = new Map<string, V1Ingress | undefined>();
  for (const claim of routeClaims(ingress)) {
    const key = routeKey(claim);
    claimsBefore.set(key, routes.get(key)?.owner);
  }
  const poolsBefore = new Set(pools.keys());
  const seenPools = new Set<string>();
  const watchedPools: Map<string, Pool> = new Proxy(pools, {
    get(target, property) {
      if (property === 'has') {
        return (name: string) => {
          if (!seenPools.has(name)) {
            seenPools.add(name);
            served.poolChecks.push({ name, existed: poolsBefore.has(name) });
          }
          return target.has(name);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  serveIngress(ingress, policy, recordingCluster(cluster, served.reads), routes, watchedPools, new RecordingDiagnostics(diagnostics, served.diagnostics));
  for (const [key, owner] of claimsBefore) {
    served.claims.push({ key, owner });
    const holder = routes.get(key);
    if (owner === undefined && holder !== undefined && holder.owner === ingress) {
      holder.route = settle(holder.route);
      served.routes.push({ key, route: holder.route });
    }
  }
  for (const name of seenPools) {
    if (poolsBefore.has(name)) continue;
    const pool = pools.get(name);
    if (pool === undefined) continue;
    const settled = settle(pool);
    pools.set(name, settled);
    served.pools.push(settled);
  }
  memo.remember(ingress, served);
}

function serveIngress(
  ingress: V1Ingress,
  policy: IngressPolicy,
  cluster: Cluster,
  routes: Map<string, RouteHolder>,
  pools: Map<string, Pool>,
  diagnostics: Diagnostics,
): void {
  const object = ingressObject(ingress);
  const policyOfRoutes = routePolicy(policy);
  const hasTls = ingressTlsCovers(ingress);
  const verification = upstreamVerification(policy, cluster, object, diagnostics);
  const served: string[] = [];
  const lostTo = new Map<V1Ingress, string[]>();
  for (const claim of routeClaims(ingress)) {
    const key = routeKey(claim);
    const holder = routes.get(key);
    if (holder !== undefined) {
      const lost = lostTo.get(holder.owner) ?? [];
      lost.push(routeLabel(claim));
      lostTo.set(holder.owner, lost);
      continue;
    }
    const backend = resolveBackend(cluster, object.namespace, object.name, claim.backend);
    if (backend.problem !== undefined) diagnostics.warn(object, 'MissingService', backend.problem);
    if (!pools.has(backend.poolName)) pools.set(backend.poolName, newPool(backend.poolName, object.namespace, backend.service, policy, backend.endpoints, verification));
    const route: Route = { host: claim.host, path: claim.path, pathType: claim.pathType, pool: backend.poolName, source: { namespace: object.namespace, ingress: object.name } };
    if (policyOfRoutes !== undefined) route.policy = policyOfRoutes;
    if (httpsRedirect(policy, hasTls(claim.host))) route.policy = { ...route.policy, httpsRedirect: true };
    routes.set(key, { route, owner: ingress });
    served.push(`${routeLabel(claim)} -> ${backend.label}`);
  }
  for (const [winner, labels] of lostTo) {
    diagnostics.warn(object, 'Conflict', `${summarise(labels)} already served by ${describeWinner(winner, ingress)}; not served by this Ingress`);
  }
  const count = served.length === 1 ? '1 route' : `${served.length} routes`;
  diagnostics.normal(object, 'Sync', served.length === 0 ? 'serving 0 routes' : `serving ${count}: ${summarise(served)}`);
}

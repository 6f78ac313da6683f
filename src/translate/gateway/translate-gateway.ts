// The Gateway API translator: GatewayClasses -> Gateways -> listeners -> attached HTTPRoutes ->
// the same snapshot routes and pools the Ingress translator makes, plus the status the leader
// writes. Pure like translate(): no I/O, no clock, user mistakes are status and diagnostics.
//
// Precedence (README "Gateway API"): an Ingress route keeps a host + path + path type it claims
// on the protocols it serves (both); an HTTPRoute claiming the same without extra matches gets a
// Conflict. Among HTTPRoutes the oldest (then namespace/name, then rule order) keeps a claim; the
// data plane orders what remains as the HTTPRoute spec does (router.ts).
import { parseIngressAnnotations } from '../../annotations/parse.ts';
import type { IngressPolicy } from '../../annotations/policy.ts';
import { WSGATE_ANNOTATIONS } from '../../annotations/registry.ts';
import type { Certificate, Pool, Route, RoutePolicy } from '../../config/snapshot.ts';
import { canonicalJson } from '../../config/canonical.ts';
import { summarise, type Diagnostics } from '../diagnostics.ts';
import { compareStrings } from '../order.ts';
import type { Cluster } from '../resource-index.ts';
import { routeKey, routeLabel } from '../rules.ts';
import type { SecretCertificateCache } from '../secret-certificate.ts';
import { upstreamVerification } from '../upstream-ca.ts';
import type { DiagnosticObject, LastGoodState } from '../types.ts';
import { attachRoute, type ParentDecision } from './attach.ts';
import { resolveGatewayBackend, type GatewayBackend } from './backends.ts';
import { BackendTlsPolicies } from './backend-tls.ts';
import { condition } from './conditions.ts';
import { normaliseGatewayHost } from './hostnames.ts';
import { compareGatewayAge, ownedClasses, servedGateways, type ServedGateway, type ServedListener } from './listeners.ts';
import { ruleShape } from './rules.ts';
import { GATEWAY_CONTROLLER_NAME, type GatewayResources, type GatewayStatuses, type HTTPRoute, type RouteParentStatus } from './types.ts';

export interface GatewayTranslateContext {
  cluster: Cluster;
  diagnostics: Diagnostics;
  /** routeKey()s the Ingresses claimed (on both protocols). */
  ingressClaims: ReadonlySet<string>;
  /** Route policy and https redirect as the Ingress translator derives them from annotations. */
  routePolicy(policy: IngressPolicy): RoutePolicy | undefined;
  previous: LastGoodState | undefined;
  /** Filled with each HTTPRoute's policy (by uid), as for Ingresses. */
  lastGood: Map<string, IngressPolicy>;
  certificateCache: SecretCertificateCache | undefined;
}

export interface GatewayTranslation {
  routes: Route[];
  pools: Pool[];
  /** Certificates of HTTPS listeners, for hosts no Ingress certificate serves. */
  certificates: Certificate[];
  /** The oldest HTTPS listener without a hostname: its certificate serves any name (when no --default-cert-secret). */
  anyHostCertificate?: Omit<Certificate, 'hosts'>;
  statuses: GatewayStatuses;
}

type Protocol = 'http' | 'https';

function routeObject(route: HTTPRoute): DiagnosticObject {
  const object: DiagnosticObject = { kind: 'HTTPRoute', namespace: route.metadata?.namespace ?? 'default', name: route.metadata?.name ?? '' };
  if (route.metadata?.uid !== undefined) object.uid = route.metadata.uid;
  return object;
}

function routePolicyOf(route: HTTPRoute, ctx: GatewayTranslateContext): IngressPolicy | undefined {
  const object = routeObject(route);
  const parsed = parseIngressAnnotations(route.metadata?.annotations);
  for (const key of parsed.unknown) ctx.diagnostics.warn(object, 'InvalidAnnotation', `${key} is not a wsgate annotation and is ignored; accepted: ${WSGATE_ANNOTATIONS.map((d) => d.key).join(', ')}`);
  const identity = route.metadata?.uid ?? `${object.namespace}/${object.name}`;
  if (parsed.policy !== undefined) {
    ctx.lastGood.set(identity, parsed.policy);
    return parsed.policy;
  }
  const kept = ctx.previous?.policies.get(identity);
  const consequence = kept === undefined ? 'the HTTPRoute is not served until this is fixed' : 'the HTTPRoute keeps its last good annotations';
  for (const problem of parsed.problems) ctx.diagnostics.warn(object, 'InvalidAnnotation', `${problem.message}; ${consequence}`);
  if (kept !== undefined) ctx.lastGood.set(identity, kept);
  return kept;
}

export function translateGatewayApi(resources: GatewayResources, ctx: GatewayTranslateContext): GatewayTranslation {
  const classes = ownedClasses(resources.gatewayClasses ?? []);
  const grants = resources.referenceGrants ?? [];
  const gateways = servedGateways(resources.gateways ?? [], classes, grants, ctx.cluster, ctx.certificateCache);
  const byName = new Map<string, ServedGateway>(gateways.map((g) => [`${g.namespace}/${g.name}`, g]));
  const namespaceLabels = new Map<string, Record<string, string>>();
  for (const ns of resources.namespaces ?? []) if (ns.metadata?.name !== undefined) namespaceLabels.set(ns.metadata.name, ns.metadata.labels ?? {});
  const labelsOf = (ns: string): Record<string, string> => namespaceLabels.get(ns) ?? { 'kubernetes.io/metadata.name': ns };

  const claims = new Set<string>();
  for (const key of ctx.ingressClaims) for (const proto of ['http', 'https'] as const) claims.add(`${key}\u0000${proto}`);
  const routes: Route[] = [];
  const pools = new Map<string, Pool>();
  const listenerHosts = new Map<ServedListener, Set<string>>();
  const routeStatuses: GatewayStatuses['httpRoutes'] = [];

  const tlsPolicies = new BackendTlsPolicies(resources.backendTLSPolicies ?? [], ctx.cluster);
  const httpRoutes = [...(resources.httpRoutes ?? [])].sort(compareGatewayAge);
  for (const route of httpRoutes) {
    const object = routeObject(route);
    const generation = route.metadata?.generation ?? 1;
    const hostProblems: string[] = [];
    const routeHosts: string[] = [];
    for (const host of route.spec?.hostnames ?? []) {
      const normal = normaliseGatewayHost(host);
      if (normal === undefined) hostProblems.push(host);
      else routeHosts.push(normal);
    }
    const decisions = attachRoute(route, routeHosts, byName, labelsOf);
    if (decisions.length === 0) continue;
    for (const d of decisions) {
      if (!d.accepted.ok) ctx.diagnostics.warn(object, 'NotAccepted', `Gateway ${d.parentRef.namespace ?? object.namespace}/${d.parentRef.name}${d.parentRef.sectionName === undefined ? '' : ` (${d.parentRef.sectionName})`}: ${d.accepted.reason}: ${d.accepted.message}`);
    }
    for (const decision of decisions) for (const a of decision.attachments) a.listener.attachedRoutes += 1;

    const policy = routePolicyOf(route, ctx);
    const served: string[] = [];
    const unsupported: string[] = [];
    const backendProblems: GatewayBackend['problem'][] = [];
    const lost: string[] = [];
    const attachments = decisions.flatMap((d) => d.attachments);
    const attachedGateways = [...new Set(attachments.map((a) => `${a.listener.namespace}/${a.listener.gatewayName}`))];
    if (policy !== undefined && attachments.length > 0) {
      const verification = upstreamVerification(policy, ctx.cluster, object, ctx.diagnostics);
      const basePolicy = ctx.routePolicy(policy);
      for (const [index, rule] of (route.spec?.rules ?? []).entries()) {
        const shape = ruleShape(rule);
        if (!shape.ok) {
          unsupported.push(`rule ${index}: ${shape.problem}`);
          continue;
        }
        const backends = shape.filters.redirect === undefined ? ruleBackends(rule.backendRefs ?? [], route, policy, verification, ctx, resources, tlsPolicies, attachedGateways) : [];
        for (const b of backends) if (b.problem !== undefined) backendProblems.push(b.problem);
        const weighted = backends.filter((b) => b.weight > 0);
        for (const b of weighted) if (!pools.has(b.pool.name)) pools.set(b.pool.name, b.pool);
        let poolName: string;
        if (weighted.length > 0) {
          poolName = weighted[0]!.pool.name;
        } else {
          // A redirect (answered before any pool is used), or nothing to send to: no backendRefs, or
          // all of weight 0. The latter answers 500, as a rule whose backendRefs are all invalid
          // (HTTPRouteRule backendRefs: "all traffic which matches this rule MUST receive a 500").
          const redirect = shape.filters.redirect !== undefined;
          poolName = `httproute/${object.namespace}/${object.name}/${redirect ? '(redirect)' : '(no backends)'}`;
          if (!pools.has(poolName)) pools.set(poolName, { name: poolName, source: { namespace: object.namespace, service: '' }, ...(redirect ? {} : { invalidBackend: true }), endpoints: [] });
        }
        // Each host of each attachment, merged over protocols: a route on both listeners is one entry.
        const byKey = new Map<string, { route: Route; protocols: Set<Protocol> }>();
        for (const attachment of attachments) {
          const proto: Protocol = attachment.listener.protocol === 'HTTPS' ? 'https' : 'http';
          const hosts = listenerHosts.get(attachment.listener) ?? new Set<string>();
          listenerHosts.set(attachment.listener, hosts);
          for (const host of attachment.hosts) {
            if (host !== '') hosts.add(host);
            for (const m of shape.matches) {
              const entry: Route = { host, path: m.path, pathType: m.pathType, pool: poolName, source: { namespace: object.namespace, ingress: object.name, kind: 'HTTPRoute' } };
              if (basePolicy !== undefined) entry.policy = basePolicy;
              if (host.startsWith('*.')) entry.wildcardDepth = 'any';
              if (m.match !== undefined) entry.match = m.match;
              if (weighted.length > 1) entry.backends = weighted.map((b) => ({ pool: b.pool.name, weight: b.weight }));
              Object.assign(entry, shape.filters);
              // A plain claim has the Ingress translator's key, so the two conflict (README precedence).
              const extra = entry.wildcardDepth === undefined && entry.match === undefined ? '' : `\u0000${entry.wildcardDepth ?? ''}\u0000${canonicalJson(entry.match ?? {})}`;
              const key = `${routeKey(claimOf(entry))}${extra}`;
              const existing = byKey.get(key);
              if (existing !== undefined) existing.protocols.add(proto);
              else byKey.set(key, { route: entry, protocols: new Set([proto]) });
            }
          }
        }
        for (const [key, { route: entry, protocols }] of byKey) {
          const free = [...protocols].filter((p) => !claims.has(`${key}\u0000${p}`)).sort();
          if (free.length < protocols.size) lost.push(`${routeLabel(claimOf(entry))} on ${[...protocols].filter((p) => !free.includes(p)).join(', ')}`);
          if (free.length === 0) continue;
          for (const p of free) claims.add(`${key}\u0000${p}`);
          if (free.length === 1) entry.protocols = [free[0]!];
          routes.push(entry);
          served.push(`${routeLabel(claimOf(entry))}${free.length === 1 ? ` [${free[0]}]` : ''} -> ${weighted.map((b) => b.label).join(' + ') || (shape.filters.redirect ? 'redirect' : 'no backend')}`);
        }
      }
    }
    for (const problem of backendProblems) if (problem !== undefined) ctx.diagnostics.warn(object, 'MissingService', problem.message);
    if (lost.length > 0) ctx.diagnostics.warn(object, 'Conflict', `${summarise(lost)} already served by an Ingress or an older HTTPRoute; not served by this HTTPRoute`);
    for (const problem of unsupported) ctx.diagnostics.warn(object, 'UnsupportedValue', `${problem}; that rule is not served`);
    if (hostProblems.length > 0) ctx.diagnostics.warn(object, 'UnsupportedValue', `hostnames ${hostProblems.join(', ')} are not DNS names and are ignored`);
    if (policy !== undefined && attachments.length > 0) ctx.diagnostics.normal(object, 'Sync', served.length === 0 ? 'serving 0 routes' : `serving ${served.length === 1 ? '1 route' : `${served.length} routes`}: ${summarise(served)}`);

    const allUnsupported = unsupported.length > 0 && unsupported.length === (route.spec?.rules ?? []).length;
    routeStatuses.push({
      namespace: object.namespace,
      name: object.name,
      parents: decisions.map((d) => parentStatus(d, generation, policy === undefined, allUnsupported ? unsupported : [], backendProblems)),
    });
  }

  const anyHost = gateways.flatMap((g) => g.listeners).find((l) => l.programmed && l.hostname === undefined && l.certificate !== undefined)?.certificate;
  return {
    routes,
    pools: [...pools.values()],
    ...(anyHost === undefined ? {} : { anyHostCertificate: { name: anyHost.name, cert: anyHost.cert, key: anyHost.key } }),
    certificates: listenerCertificates(gateways, listenerHosts),
    statuses: {
      gatewayClasses: classes,
      gateways: gateways.map((g) => ({
        namespace: g.namespace,
        name: g.name,
        status: {
          conditions: g.conditions,
          listeners: g.listeners.map((l) => ({ name: l.listener.name, supportedKinds: l.supportedKinds, attachedRoutes: l.attachedRoutes, conditions: l.conditions })),
        },
      })),
      httpRoutes: routeStatuses.sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name)),
      backendTLSPolicies: tlsPolicies.statuses(),
    },
  };
}

function ruleBackends(
  refs: NonNullable<NonNullable<HTTPRoute['spec']>['rules']>[number]['backendRefs'] & object,
  route: HTTPRoute,
  policy: IngressPolicy,
  verification: { ca?: string } | undefined,
  ctx: GatewayTranslateContext,
  resources: GatewayResources,
  tlsPolicies: BackendTlsPolicies,
  gateways: readonly string[],
): GatewayBackend[] {
  const backendCtx = {
    cluster: ctx.cluster,
    grants: resources.referenceGrants ?? [],
    tlsPolicies,
    gateways,
    routeNamespace: route.metadata?.namespace ?? 'default',
    routeName: route.metadata?.name ?? '',
    policy,
    verification,
  };
  return refs.map((ref) => resolveGatewayBackend(backendCtx, ref));
}

const RESOLVED_REFS_ORDER = ['RefNotPermitted', 'InvalidKind', 'BackendNotFound'] as const;

function parentStatus(decision: ParentDecision, generation: number, invalidAnnotations: boolean, unsupported: readonly string[], problems: readonly GatewayBackend['problem'][]): RouteParentStatus {
  const parentRef = { ...decision.parentRef, group: decision.parentRef.group ?? 'gateway.networking.k8s.io', kind: decision.parentRef.kind ?? 'Gateway' };
  let accepted = condition('Accepted', decision.accepted.ok, decision.accepted.reason, decision.accepted.message, generation);
  if (decision.accepted.ok && unsupported.length > 0) accepted = condition('Accepted', false, 'UnsupportedValue', summarise(unsupported, 3), generation);
  else if (decision.accepted.ok && invalidAnnotations) accepted = condition('Accepted', false, 'UnsupportedValue', 'a wsgate.io/ annotation is invalid (see its Events); not served', generation);
  const present = problems.filter((p): p is NonNullable<typeof p> => p !== undefined);
  const worst = RESOLVED_REFS_ORDER.find((reason) => present.some((p) => p.reason === reason));
  const resolved = worst === undefined
    ? condition('ResolvedRefs', true, 'ResolvedRefs', 'all references resolved', generation)
    : condition('ResolvedRefs', false, worst, summarise(present.filter((p) => p.reason === worst).map((p) => p.message), 3), generation);
  return { parentRef, controllerName: GATEWAY_CONTROLLER_NAME, conditions: [accepted, resolved] };
}

/** One certificate per Secret, for the listener's hostname or (listener without one) its routes' hosts. */
function listenerCertificates(gateways: readonly ServedGateway[], listenerHosts: ReadonlyMap<ServedListener, Set<string>>): Certificate[] {
  const bySecret = new Map<string, Certificate>();
  for (const gateway of gateways) {
    for (const listener of gateway.listeners) {
      const certificate = listener.certificate;
      if (!listener.programmed || certificate === undefined) continue;
      const hosts = listener.hostname !== undefined ? [listener.hostname] : [...(listenerHosts.get(listener) ?? [])];
      if (hosts.length === 0) continue;
      const entry = bySecret.get(certificate.name) ?? { name: certificate.name, hosts: [], cert: certificate.cert, key: certificate.key };
      entry.hosts = [...new Set([...entry.hosts, ...hosts])].sort(compareStrings);
      // A Gateway wildcard covers any depth (hostnames.ts): so does its certificate's SNI choice.
      const deep = [...new Set([...(entry.wildcardAnyDepth ?? []), ...hosts.filter((h) => h.startsWith('*.'))])].sort(compareStrings);
      if (deep.length > 0) entry.wildcardAnyDepth = deep;
      bySecret.set(certificate.name, entry);
    }
  }
  return [...bySecret.values()].sort((a, b) => compareStrings(a.name, b.name));
}

/** The route as rules.ts keys and labels claims (a Gateway route is never ImplementationSpecific). */
function claimOf(route: Route): { host: string; path: string; pathType: 'Exact' | 'Prefix' } {
  return { host: route.host, path: route.path, pathType: route.pathType === 'Exact' ? 'Exact' : 'Prefix' };
}

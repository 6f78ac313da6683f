// Gateways of wsgate's GatewayClasses -> the listeners it serves, with the status the Gateway API
// asks for per listener. wsgate has two data-plane ports, so a listener is served only as
// HTTP on 80 (-> --http-port) or HTTPS on 443 (-> --https-port, TLS terminated with its
// certificateRefs); anything else is refused with the standard reasons.
import type { Cluster } from '../resource-index.ts';
import { secretCertificate, type SecretCertificateCache } from '../secret-certificate.ts';
import { compareStrings, createdAt, namespacedName } from '../order.ts';
import { condition } from './conditions.ts';
import { referencePermitted } from './grants.ts';
import { normaliseGatewayHost } from './hostnames.ts';
import { GATEWAY_API_RELEASE, GATEWAY_CONTROLLER_NAME, GATEWAY_GROUP, type Condition, type Gateway, type GatewayClass, type LabelSelector, type Listener, type ReferenceGrant } from './types.ts';

export interface ListenerCertificate {
  /** `namespace/secret`. */
  name: string;
  cert: string;
  key: string;
}

export interface ServedListener {
  gateway: Gateway;
  namespace: string;
  gatewayName: string;
  listener: Listener;
  protocol: 'HTTP' | 'HTTPS';
  /** Normalised; undefined = any host. */
  hostname: string | undefined;
  /** Accepted, refs resolved, not conflicted: routes attach and are served. */
  programmed: boolean;
  /** Why it is not, for route status messages. */
  problem?: string;
  allowsHttpRoute: boolean;
  allowedNamespaces: { from: 'Same' | 'All' | 'Selector'; selector?: LabelSelector };
  certificate?: ListenerCertificate;
  attachedRoutes: number;
  conditions: Condition[];
  supportedKinds: { group: string; kind: string }[];
}

export interface ServedGateway {
  gateway: Gateway;
  namespace: string;
  name: string;
  listeners: ServedListener[];
  conditions: Condition[];
}

export interface ClassDecision {
  name: string;
  generation: number;
  conditions: Condition[];
}

/** The GatewayClasses wsgate owns (controllerName), each Accepted. */
export function ownedClasses(classes: readonly GatewayClass[]): ClassDecision[] {
  return classes
    .filter((c) => c.spec?.controllerName === GATEWAY_CONTROLLER_NAME && c.metadata?.name !== undefined)
    .map((c) => {
      const generation = c.metadata?.generation ?? 1;
      return {
        name: c.metadata!.name!,
        generation,
        conditions: [
          condition('Accepted', true, 'Accepted', `handled by ${GATEWAY_CONTROLLER_NAME}`, generation),
          condition('SupportedVersion', true, 'SupportedVersion', `written for Gateway API ${GATEWAY_API_RELEASE}`, generation),
        ],
      };
    })
    .sort((a, b) => compareStrings(a.name, b.name));
}

const PORT_OF: Record<string, number> = { HTTP: 80, HTTPS: 443 };

export function compareGatewayAge(a: { metadata?: { creationTimestamp?: Date | string; namespace?: string; name?: string } }, b: typeof a): number {
  const byAge = createdAt(a as never) - createdAt(b as never);
  if (byAge !== 0 && !Number.isNaN(byAge)) return byAge;
  return compareStrings(namespacedName(a), namespacedName(b));
}

export function servedGateways(
  gateways: readonly Gateway[],
  classes: readonly ClassDecision[],
  grants: readonly ReferenceGrant[],
  cluster: Cluster,
  cache: SecretCertificateCache | undefined,
): ServedGateway[] {
  const ours = new Set(classes.map((c) => c.name));
  // Oldest first: across Gateways the older listener keeps a port + hostname (crossGatewayConflicts).
  const served = gateways
    .filter((g) => ours.has(g.spec?.gatewayClassName ?? ''))
    .sort(compareGatewayAge)
    .map((gateway) => serveGateway(gateway, grants, cluster, cache));
  crossGatewayConflicts(served);
  for (const g of served) if (g.conditions.length === 0) g.conditions = gatewayConditions(g);
  return served;
}

function serveGateway(gateway: Gateway, grants: readonly ReferenceGrant[], cluster: Cluster, cache: SecretCertificateCache | undefined): ServedGateway {
  const namespace = gateway.metadata?.namespace ?? 'default';
  const name = gateway.metadata?.name ?? '';
  const generation = gateway.metadata?.generation ?? 1;
  const listeners = (gateway.spec?.listeners ?? []).map((listener) => serveListener(gateway, namespace, listener, grants, cluster, cache, generation));
  markConflicts(listeners, generation);
  const conditions: Condition[] = [];
  if ((gateway.spec?.addresses ?? []).length > 0) {
    // wsgate's address is its Service's (--publish-service); it cannot take one it is given.
    conditions.push(condition('Accepted', false, 'UnsupportedAddress', 'spec.addresses is not supported: the address is that of the wsgate Service (--publish-service)', generation));
    conditions.push(condition('Programmed', false, 'AddressNotUsable', 'spec.addresses is not supported', generation));
    for (const l of listeners) l.programmed = false;
  }
  // Otherwise the conditions wait for the conflicts with older Gateways (gatewayConditions).
  return { gateway, namespace, name, listeners, conditions };
}

/** Gateway Accepted and Programmed, once its listeners' fates are known. */
function gatewayConditions({ gateway, listeners }: ServedGateway): Condition[] {
  const generation = gateway.metadata?.generation ?? 1;
  const conditions: Condition[] = [];
  const invalid = listeners.filter((l) => !l.programmed).map((l) => l.listener.name);
  conditions.push(
    invalid.length === 0
      ? condition('Accepted', true, 'Accepted', 'accepted by wsgate', generation)
      : condition('Accepted', true, 'ListenersNotValid', `listeners not served: ${invalid.join(', ')}`, generation),
  );
  const programmed = listeners.length - invalid.length;
  conditions.push(
    programmed > 0
      ? condition('Programmed', true, 'Programmed', `${programmed} listener${programmed === 1 ? '' : 's'} served`, generation)
      : condition('Programmed', false, 'Invalid', 'no listener can be served', generation),
  );
  return conditions;
}

function serveListener(
  gateway: Gateway,
  namespace: string,
  listener: Listener,
  grants: readonly ReferenceGrant[],
  cluster: Cluster,
  cache: SecretCertificateCache | undefined,
  generation: number,
): ServedListener {
  const { kinds, allowsHttpRoute, invalidKinds } = routeKinds(listener);
  const hostname = listener.hostname === undefined || listener.hostname === '' ? undefined : normaliseGatewayHost(listener.hostname);
  const served: ServedListener = {
    gateway,
    namespace,
    gatewayName: gateway.metadata?.name ?? '',
    listener,
    protocol: listener.protocol === 'HTTPS' ? 'HTTPS' : 'HTTP',
    hostname,
    programmed: true,
    allowsHttpRoute,
    allowedNamespaces: { from: listener.allowedRoutes?.namespaces?.from ?? 'Same', ...(listener.allowedRoutes?.namespaces?.selector ? { selector: listener.allowedRoutes.namespaces.selector } : {}) },
    attachedRoutes: 0,
    conditions: [],
    supportedKinds: kinds,
  };
  const refuse = (type: 'Accepted' | 'ResolvedRefs', reason: string, message: string): ServedListener => {
    served.programmed = false;
    served.problem = message;
    if (type === 'Accepted') {
      served.conditions.push(condition('Accepted', false, reason, message, generation), condition('ResolvedRefs', true, 'ResolvedRefs', 'no references to resolve', generation));
    } else {
      served.conditions.push(condition('Accepted', true, 'Accepted', 'listener accepted', generation), condition('ResolvedRefs', false, reason, message, generation));
    }
    served.conditions.push(condition('Programmed', false, 'Invalid', message, generation));
    return served;
  };
  const expectedPort = PORT_OF[listener.protocol];
  if (expectedPort === undefined) return refuse('Accepted', 'UnsupportedProtocol', `protocol ${listener.protocol} is not supported: wsgate serves HTTP on port 80 and HTTPS on port 443`);
  if (listener.port !== expectedPort) return refuse('Accepted', 'PortUnavailable', `port ${listener.port} is not served: wsgate serves ${listener.protocol} on port ${expectedPort} only (its --${listener.protocol === 'HTTP' ? 'http' : 'https'}-port)`);
  if (listener.hostname !== undefined && listener.hostname !== '' && hostname === undefined) return refuse('Accepted', 'UnsupportedValue', `hostname ${listener.hostname} is not a DNS name or wildcard`);
  if (invalidKinds.length > 0) return refuse('ResolvedRefs', 'InvalidRouteKinds', `route kinds not supported: ${invalidKinds.join(', ')} (supported: HTTPRoute)`);
  if (served.protocol === 'HTTPS') {
    const tlsProblem = listenerCertificate(served, listener, grants, cluster, cache);
    if (tlsProblem !== undefined) return tlsProblem.reason === 'UnsupportedValue' ? refuse('Accepted', tlsProblem.reason, tlsProblem.message) : refuse('ResolvedRefs', tlsProblem.reason, tlsProblem.message);
  }
  served.conditions.push(
    condition('Accepted', true, 'Accepted', 'listener accepted', generation),
    condition('ResolvedRefs', true, 'ResolvedRefs', 'references resolved', generation),
    condition('Programmed', true, 'Programmed', `served on the ${served.protocol === 'HTTP' ? '--http-port' : '--https-port'}`, generation),
  );
  return served;
}

function routeKinds(listener: Listener): { kinds: { group: string; kind: string }[]; allowsHttpRoute: boolean; invalidKinds: string[] } {
  const listed = listener.allowedRoutes?.kinds;
  if (listed === undefined || listed.length === 0) return { kinds: [{ group: GATEWAY_GROUP, kind: 'HTTPRoute' }], allowsHttpRoute: true, invalidKinds: [] };
  const valid = listed.filter((k) => (k.group ?? GATEWAY_GROUP) === GATEWAY_GROUP && k.kind === 'HTTPRoute');
  const invalidKinds = listed.filter((k) => !valid.includes(k)).map((k) => `${k.group ?? GATEWAY_GROUP}/${k.kind}`);
  return { kinds: valid.length > 0 ? [{ group: GATEWAY_GROUP, kind: 'HTTPRoute' }] : [], allowsHttpRoute: valid.length > 0, invalidKinds };
}

/** The first certificateRef that resolves, or why none does (GatewayAPI: InvalidCertificateRef, RefNotPermitted). */
function listenerCertificate(
  served: ServedListener,
  listener: Listener,
  grants: readonly ReferenceGrant[],
  cluster: Cluster,
  cache: SecretCertificateCache | undefined,
): { reason: string; message: string } | undefined {
  if ((listener.tls?.mode ?? 'Terminate') !== 'Terminate') return { reason: 'UnsupportedValue', message: 'tls.mode Passthrough is not supported: wsgate terminates TLS' };
  const refs = listener.tls?.certificateRefs ?? [];
  if (refs.length === 0) return { reason: 'InvalidCertificateRef', message: 'an HTTPS listener needs tls.certificateRefs' };
  const ref = refs[0]!;
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Secret';
  if (group !== '' || kind !== 'Secret') return { reason: 'InvalidCertificateRef', message: `certificateRef ${group}/${kind} ${ref.name} is not a Secret` };
  const namespace = ref.namespace ?? served.namespace;
  const permitted = referencePermitted(grants, {
    fromGroup: GATEWAY_GROUP, fromKind: 'Gateway', fromNamespace: served.namespace,
    toGroup: '', toKind: 'Secret', toNamespace: namespace, toName: ref.name,
  });
  if (!permitted) return { reason: 'RefNotPermitted', message: `Secret ${namespace}/${ref.name} is in another namespace and no ReferenceGrant there permits it` };
  const name = `${namespace}/${ref.name}`;
  const checked = secretCertificate(cluster.secret(namespace, ref.name), name, cache);
  if (!checked.ok) return { reason: 'InvalidCertificateRef', message: checked.detail };
  served.certificate = { name, cert: checked.cert, key: checked.key };
  return undefined;
}

/**
 * Listeners of one Gateway that share a port (all HTTP, or all HTTPS: each protocol has one
 * port here) and a hostname conflict (Gateway API "Conflicted", HostnameConflict): none is served.
 */
function markConflicts(listeners: ServedListener[], generation: number): void {
  const byKey = new Map<string, ServedListener[]>();
  for (const l of listeners) {
    if (!l.programmed) continue;
    const key = `${l.protocol}\u0000${l.hostname ?? ''}`;
    byKey.set(key, [...(byKey.get(key) ?? []), l]);
  }
  const conflicted = new Set<ServedListener>();
  for (const group of byKey.values()) if (group.length > 1) for (const l of group) conflicted.add(l);
  for (const l of listeners) {
    if (conflicted.has(l)) {
      const message = `another listener of this Gateway serves ${l.protocol} for ${l.hostname ?? 'any host'}`;
      l.programmed = false;
      l.problem = message;
      l.conditions = l.conditions.map((c) => (c.type === 'Programmed' ? condition('Programmed', false, 'Invalid', message, generation) : c));
      l.conditions.push(condition('Conflicted', true, 'HostnameConflict', message, generation));
    } else {
      l.conditions.push(condition('Conflicted', false, 'NoConflicts', 'no conflicts', generation));
    }
  }
}

/**
 * Every Gateway of wsgate's classes is served on the same two data-plane ports, so listeners of
 * different Gateways with the same port and hostname conflict (Gateway API ListenerConditionType
 * Conflicted): the oldest Gateway (creationTimestamp, then namespace/name; `gateways` is in that
 * order) keeps it; the newer listener gets Conflicted=True (HostnameConflict, or ProtocolConflict
 * when the protocols differ), Programmed=False, and no route attaches to it.
 */
function crossGatewayConflicts(gateways: readonly ServedGateway[]): void {
  const holders = new Map<string, ServedListener>();
  for (const gateway of gateways) {
    const generation = gateway.gateway.metadata?.generation ?? 1;
    const claimed: [string, ServedListener][] = [];
    for (const l of gateway.listeners) {
      if (!l.programmed) continue;
      const key = `${l.listener.port}\u0000${l.hostname ?? ''}`;
      const holder = holders.get(key);
      if (holder === undefined) {
        claimed.push([key, l]);
        continue;
      }
      const reason = holder.protocol === l.protocol ? 'HostnameConflict' : 'ProtocolConflict';
      const message = `listener ${holder.listener.name} of the older Gateway ${holder.namespace}/${holder.gatewayName} serves ${holder.protocol} on port ${l.listener.port} for ${l.hostname ?? 'any host'}`;
      l.programmed = false;
      l.problem = message;
      l.conditions = l.conditions.map((c) => {
        if (c.type === 'Programmed') return condition('Programmed', false, 'Invalid', message, generation);
        if (c.type === 'Conflicted') return condition('Conflicted', true, reason, message, generation);
        return c;
      });
    }
    // Listeners of one Gateway do not claim against each other here (markConflicts did that).
    for (const [key, l] of claimed) holders.set(key, l);
  }
}

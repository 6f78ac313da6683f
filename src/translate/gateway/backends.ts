// HTTPRoute backendRefs -> pools. A Service in another namespace needs a ReferenceGrant; a ref
// that does not resolve (wrong kind, not permitted, no such Service or port) keeps its share of
// the split as an empty pool marked invalidBackend, so requests to it are answered 500 rather than
// sent elsewhere (HTTPBackendRef: "500 status MUST be returned for requests that would have
// otherwise been routed to an invalid backend"). A Service that exists without ready endpoints is
// an ordinary pool: 503 no_endpoints (SPEC §7), which the spec allows ("SHOULD return a 503").
import type { IngressPolicy } from '../../annotations/policy.ts';
import type { Pool } from '../../config/snapshot.ts';
import { endpointsForPort } from '../endpoints.ts';
import type { Cluster } from '../resource-index.ts';
import { newPool } from '../pool.ts';
import { referencePermitted } from './grants.ts';
import type { BackendTlsPolicies, ResolvedTlsPolicy } from './backend-tls.ts';
import { GATEWAY_GROUP, type HTTPBackendRef, type ReferenceGrant } from './types.ts';

/** GEP-1911 backend protocols (Service port appProtocol). */
export const APP_PROTOCOL_WS = 'kubernetes.io/ws';
export const APP_PROTOCOL_WSS = 'kubernetes.io/wss';

export type BackendProblem = { reason: 'InvalidKind' | 'RefNotPermitted' | 'BackendNotFound'; message: string };

export interface GatewayBackend {
  pool: Pool;
  weight: number;
  label: string;
  problem?: BackendProblem;
}

export interface BackendContext {
  cluster: Cluster;
  grants: readonly ReferenceGrant[];
  tlsPolicies: BackendTlsPolicies;
  /** `namespace/name` of the Gateways the route is attached to: the ancestors of a policy it uses. */
  gateways: readonly string[];
  routeNamespace: string;
  routeName: string;
  policy: IngressPolicy;
  /** upstream-tls-verify's CA from the HTTPRoute's annotations (translate/upstream-ca.ts). */
  verification: { ca?: string } | undefined;
}


export function resolveGatewayBackend(ctx: BackendContext, ref: HTTPBackendRef): GatewayBackend {
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Service';
  const namespace = ref.namespace ?? ctx.routeNamespace;
  const weight = ref.weight ?? 1;
  const port = ref.port;
  const label = `${namespace === ctx.routeNamespace ? '' : `${namespace}/`}${ref.name}:${port ?? ''}`;
  // A ref of another kind is named by it too: it must not share the pool of a Service of the same name.
  const kindPart = group === '' && kind === 'Service' ? '' : `${kind}.${group === '' ? 'core' : group}/`;
  const poolName = `httproute/${ctx.routeNamespace}/${ctx.routeName}/${namespace}/${kindPart}${ref.name}:${port ?? ''}`;
  const empty = (reason: BackendProblem['reason'], message: string): GatewayBackend => ({
    pool: { ...newPool(poolName, namespace, ref.name, ctx.policy, [], undefined), invalidBackend: true },
    weight,
    label,
    problem: { reason, message },
  });
  if (group !== '' || kind !== 'Service') return empty('InvalidKind', `backendRef ${group === '' ? 'core' : group}/${kind} ${ref.name} is not a Service`);
  const permitted = referencePermitted(ctx.grants, {
    fromGroup: GATEWAY_GROUP, fromKind: 'HTTPRoute', fromNamespace: ctx.routeNamespace,
    toGroup: '', toKind: 'Service', toNamespace: namespace, toName: ref.name,
  });
  if (!permitted) return empty('RefNotPermitted', `Service ${namespace}/${ref.name} is in another namespace and no ReferenceGrant there permits it`);
  const service = ctx.cluster.service(namespace, ref.name);
  if (service === undefined) return empty('BackendNotFound', `Service ${namespace}/${ref.name} not found`);
  const servicePort = (service.spec?.ports ?? []).find((p) => p.port === port);
  if (servicePort === undefined) return empty('BackendNotFound', `Service ${namespace}/${ref.name} has no port ${port ?? '(none given)'}`);
  const endpoints = endpointsForPort(ctx.cluster.slices(namespace, ref.name), servicePort);
  // GEP-1897: a port a BackendTLSPolicy targets is spoken to with TLS (unless its appProtocol says
  // plain WebSocket), as is a kubernetes.io/wss port; either is verified by the policy, not by
  // the route's annotations.
  const tlsPolicy = ctx.tlsPolicies.forPort(namespace, ref.name, servicePort.name);
  const tls = servicePort.appProtocol === APP_PROTOCOL_WSS || (tlsPolicy !== undefined && servicePort.appProtocol !== APP_PROTOCOL_WS);
  const pool = newPool(poolName, namespace, ref.name, ctx.policy, endpoints, tls ? undefined : ctx.verification);
  if (tls) {
    Object.assign(pool, backendTls(tlsPolicy, namespace, ref.name));
    // The policies on this port (the one applied, and any it conflicts with) report on these Gateways.
    ctx.tlsPolicies.reached(namespace, ref.name, servicePort.name, ctx.gateways);
  }
  return { pool, weight, label };
}

/**
 * GEP-1897: verified against the CAs of the BackendTLSPolicy (ConfigMap key ca.crt, or the
 * system roots) and its hostname. Without a policy, or one whose CAs all failed to resolve, it
 * is still verified, against no CA: fail-closed, every connect fails (502).
 */
function backendTls(policy: ResolvedTlsPolicy | undefined, namespace: string, service: string): Partial<Pool> {
  const fields: Partial<Pool> = { upstreamTls: true, upstreamTlsVerify: true, upstreamTlsServerName: policy?.hostname ?? `${service}.${namespace}.svc` };
  if (policy?.ca !== undefined) fields.upstreamTlsCa = policy.ca;
  if (policy?.systemRoots === true) fields.upstreamTlsSystemRoots = true;
  if (policy?.subjectAltNames !== undefined) fields.upstreamTlsSubjectAltNames = policy.subjectAltNames;
  return fields;
}

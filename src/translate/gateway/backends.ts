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
import { CA_KEY } from '../upstream-ca.ts';
import { newPool } from '../pool.ts';
import { referencePermitted } from './grants.ts';
import { GATEWAY_GROUP, type BackendTLSPolicy, type HTTPBackendRef, type ReferenceGrant } from './types.ts';

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
  tlsPolicies: readonly BackendTLSPolicy[];
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
  // A kubernetes.io/wss port is verified by its BackendTLSPolicy, not by the route's annotations.
  const wss = servicePort.appProtocol === APP_PROTOCOL_WSS;
  const pool = newPool(poolName, namespace, ref.name, ctx.policy, endpoints, wss ? undefined : ctx.verification);
  if (wss) Object.assign(pool, backendTls(ctx, namespace, ref.name));
  return { pool, weight, label };
}

/**
 * GEP-1897: a `kubernetes.io/wss` port is spoken to with TLS, verified against the CA of the
 * BackendTLSPolicy that targets the Service (ConfigMap key ca.crt) and its hostname. Without a
 * policy it is still verified, against no CA: fail-closed, every connect fails (502).
 */
function backendTls(ctx: BackendContext, namespace: string, service: string): Partial<Pool> {
  const policy = ctx.tlsPolicies.find(
    (p) => (p.metadata?.namespace ?? 'default') === namespace && (p.spec?.targetRefs ?? []).some((t) => (t.group ?? '') === '' && t.kind === 'Service' && t.name === service),
  );
  const fields: Partial<Pool> = { upstreamTls: true, upstreamTlsVerify: true, upstreamTlsServerName: policy?.spec?.validation?.hostname ?? `${service}.${namespace}.svc` };
  const caRef = policy?.spec?.validation?.caCertificateRefs?.[0];
  if (caRef !== undefined && (caRef.group ?? '') === '' && caRef.kind === 'ConfigMap') {
    const ca = ctx.cluster.configMap(namespace, caRef.name)?.data?.[CA_KEY];
    if (ca !== undefined && ca.trim() !== '') fields.upstreamTlsCa = ca;
  }
  return fields;
}

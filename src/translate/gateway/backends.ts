// HTTPRoute backendRefs -> pools. A Service in another namespace needs a ReferenceGrant; a ref
// that does not resolve (wrong kind, not permitted, no such Service or port) keeps its share of
// the split as an empty pool, so requests to it are refused (503) rather than sent elsewhere
// (Gateway API: "requests to an invalid backend are rejected").
import type { IngressPolicy } from '../../annotations/policy.ts';
import type { Endpoint, Pool } from '../../config/snapshot.ts';
import { endpointsForPort } from '../endpoints.ts';
import type { Cluster } from '../resource-index.ts';
import { CA_KEY, upstreamVerifyFields } from '../upstream-ca.ts';
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

function basePool(name: string, namespace: string, service: string, policy: IngressPolicy, endpoints: Endpoint[]): Pool {
  return {
    name,
    source: { namespace, service },
    balance: policy.balance,
    ...(policy.hashBy === undefined ? {} : { hashBy: policy.hashBy }),
    connectTimeout: policy.connectTimeout,
    handshakeTimeout: policy.handshakeTimeout,
    idleTimeout: policy.idleTimeout,
    drainTimeout: policy.drainTimeout,
    upstreamTls: policy.upstreamTls,
    endpoints,
  };
}

export function resolveGatewayBackend(ctx: BackendContext, ref: HTTPBackendRef): GatewayBackend {
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Service';
  const namespace = ref.namespace ?? ctx.routeNamespace;
  const weight = ref.weight ?? 1;
  const port = ref.port;
  const label = `${namespace === ctx.routeNamespace ? '' : `${namespace}/`}${ref.name}:${port ?? ''}`;
  const poolName = `httproute/${ctx.routeNamespace}/${ctx.routeName}/${namespace}/${ref.name}:${port ?? ''}`;
  const empty = (reason: BackendProblem['reason'], message: string): GatewayBackend => ({
    pool: basePool(poolName, namespace, ref.name, ctx.policy, []),
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
  const pool = basePool(poolName, namespace, ref.name, ctx.policy, endpointsForPort(ctx.cluster.slices(namespace, ref.name), servicePort));
  if (servicePort.appProtocol === APP_PROTOCOL_WSS) Object.assign(pool, backendTls(ctx, namespace, ref.name));
  else Object.assign(pool, upstreamVerifyFields(ctx.verification, ctx.policy, namespace, ref.name));
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

// `controller --once` for the Gateway API: each kind listed once, a missing CRD (404) or an
// unreadable one (403) as none, and what the Gateways and HTTPRoutes become as readable lines.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { GatewayResources, GatewayStatuses } from '../../../translate/gateway/types.ts';
import { listKind, type WatchedKind } from '../informers/watcher.ts';
import { BACKEND_TLS_POLICY_V1, GATEWAY_KINDS, errorCode, gatewayWatchedKind, namespacesKind, type GatewayKindName } from './kinds.ts';

async function listOptional(spec: WatchedKind<KubernetesObject>): Promise<KubernetesObject[]> {
  try {
    return (await listKind(spec)).items;
  } catch (error) {
    const code = errorCode(error);
    if (code === 404 || code === 403) return [];
    throw error;
  }
}

export async function listGatewayOnce(kc: KubeConfig, watchNamespace: string | undefined): Promise<GatewayResources> {
  const names = Object.keys(GATEWAY_KINDS) as GatewayKindName[];
  const lists = await Promise.all(names.map((name) => listOptional(gatewayWatchedKind(kc, GATEWAY_KINDS[name], watchNamespace))));
  const out: GatewayResources = { namespaces: await listOptional(namespacesKind(kc)) };
  names.forEach((name, i) => ((out as Record<string, unknown>)[name] = lists[i]));
  const v1 = await listOptional(gatewayWatchedKind(kc, BACKEND_TLS_POLICY_V1, watchNamespace));
  const seen = new Set(v1.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`));
  out.backendTLSPolicies = [...v1, ...(lists[names.indexOf('backendTLSPolicies')] ?? []).filter((p) => !seen.has(`${p.metadata?.namespace}/${p.metadata?.name}`))] as GatewayResources['backendTLSPolicies'];
  return out;
}

/** `GatewayClass wsgate: Accepted=True`, `Gateway ns/gw: Accepted=True Programmed=True; listener http: attachedRoutes=1 ...`. */
export function gatewayStatusLines(statuses: GatewayStatuses): string[] {
  const conditions = (list: readonly { type: string; status: string; reason: string }[]): string => list.map((c) => `${c.type}=${c.status}${c.status === 'True' ? '' : ` (${c.reason})`}`).join(' ');
  const lines: string[] = [];
  for (const gc of statuses.gatewayClasses) lines.push(`GatewayClass ${gc.name}: ${conditions(gc.conditions)}`);
  for (const gw of statuses.gateways) {
    const listeners = (gw.status.listeners ?? []).map((l) => `listener ${l.name}: attachedRoutes=${l.attachedRoutes} ${conditions(l.conditions)}`);
    lines.push(`Gateway ${gw.namespace}/${gw.name}: ${conditions(gw.status.conditions ?? [])}${listeners.length > 0 ? `; ${listeners.join('; ')}` : ''}`);
  }
  for (const route of statuses.httpRoutes) {
    for (const parent of route.parents) {
      const ref = `${parent.parentRef.namespace ?? route.namespace}/${parent.parentRef.name}${parent.parentRef.sectionName === undefined ? '' : `/${parent.parentRef.sectionName}`}`;
      lines.push(`HTTPRoute ${route.namespace}/${route.name} -> Gateway ${ref}: ${conditions(parent.conditions)}`);
    }
  }
  for (const policy of statuses.backendTLSPolicies) {
    for (const ancestor of policy.ancestors) lines.push(`BackendTLSPolicy ${policy.namespace}/${policy.name} -> Gateway ${ancestor.ancestorRef.namespace}/${ancestor.ancestorRef.name}: ${conditions(ancestor.conditions)}`);
  }
  return lines;
}

// Gateway API objects for tests, built so a test reads like its scenario: gatewayClass(),
// gateway('gw', { listeners }), httpRoute('chat', { parentRefs, hostnames, rules }), and
// gatewayResources() sorting Ingress and Gateway API kinds into translate()'s input.
import type { Resources } from '../../src/translate/types.ts';
import type { Gateway, GatewayClass, HTTPRoute, HTTPRouteRule, Listener, ParentReference, ReferenceGrant } from '../../src/translate/gateway/types.ts';
import { CREATED, kubernetesObject, resources } from './k8s.ts';

export const GATEWAY_CONTROLLER = 'wsgate.io/gateway-controller';
export const GATEWAY_API = 'gateway.networking.k8s.io/v1';

export function gatewayClass(name = 'wsgate', controllerName = GATEWAY_CONTROLLER): GatewayClass {
  return { apiVersion: GATEWAY_API, kind: 'GatewayClass', metadata: { name, generation: 1, creationTimestamp: CREATED }, spec: { controllerName } };
}

export const HTTP_LISTENER: Listener = { name: 'http', port: 80, protocol: 'HTTP' };

export function gateway(name: string, options: { namespace?: string; className?: string; listeners?: Listener[] } = {}): Gateway {
  return {
    apiVersion: GATEWAY_API,
    kind: 'Gateway',
    metadata: { name, namespace: options.namespace ?? 'default', generation: 1, creationTimestamp: CREATED },
    spec: { gatewayClassName: options.className ?? 'wsgate', listeners: options.listeners ?? [HTTP_LISTENER] },
  };
}

export function httpRoute(name: string, options: { namespace?: string; parentRefs?: ParentReference[]; hostnames?: string[]; rules?: HTTPRouteRule[]; annotations?: Record<string, string>; created?: string } = {}): HTTPRoute {
  return {
    apiVersion: GATEWAY_API,
    kind: 'HTTPRoute',
    metadata: { name, namespace: options.namespace ?? 'default', uid: `uid-${name}`, generation: 1, creationTimestamp: options.created ?? CREATED, ...(options.annotations ? { annotations: options.annotations } : {}) },
    spec: {
      parentRefs: options.parentRefs ?? [{ name: 'gw' }],
      ...(options.hostnames ? { hostnames: options.hostnames } : {}),
      rules: options.rules ?? [{ backendRefs: [{ name: name, port: 80 }] }],
    },
  };
}

export function referenceGrant(name: string, namespace: string, from: { kind: string; namespace: string }, to: { kind: string; name?: string }): ReferenceGrant {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
    metadata: { name, namespace },
    spec: { from: [{ group: 'gateway.networking.k8s.io', ...from }], to: [{ group: '', ...to }] },
  };
}

const GATEWAY_KINDS: Record<string, keyof Resources> = {
  GatewayClass: 'gatewayClasses',
  Gateway: 'gateways',
  HTTPRoute: 'httpRoutes',
  ReferenceGrant: 'referenceGrants',
  BackendTLSPolicy: 'backendTLSPolicies',
  Namespace: 'namespaces',
};

/** Plain documents (YAML) or objects, of any kind translate() reads, as its input. */
export function gatewayResources(documents: readonly Record<string, unknown>[]): Resources {
  const others = documents.filter((d) => GATEWAY_KINDS[String(d['kind'])] === undefined);
  const out = resources(...others.map((d) => kubernetesObject(d)));
  for (const d of documents) {
    const field = GATEWAY_KINDS[String(d['kind'])];
    if (field === undefined) continue;
    ((out[field] ??= []) as unknown[]).push(structuredClone(d));
  }
  return out;
}

// An Ingress backend -> the Service port it means and the pool that serves it. A Service or port
// that does not exist keeps its routes with an empty pool, so clients get 503 no_endpoints
// (as ingress-nginx answers 503) and the route starts working the moment the Service appears.
import type { V1IngressBackend, V1ServicePort } from '@kubernetes/client-node';
import type { Cluster } from './resource-index.ts';
import { endpointsForPort } from './endpoints.ts';
import type { Endpoint } from '../config/snapshot.ts';

export interface ResolvedBackend {
  /** `namespace/ingress/service:port`, port as the Service's number when known. */
  poolName: string;
  service: string;
  /** `service:port` for messages. */
  label: string;
  endpoints: Endpoint[];
  /** Why the pool is empty for want of a Service or port; undefined when it resolved. */
  problem?: string;
}

function describePorts(ports: readonly V1ServicePort[]): string {
  if (ports.length === 0) return 'it has no ports';
  return `its ports: ${ports.map((p) => (p.name ? `${p.name}/${p.port}` : String(p.port))).join(', ')}`;
}

export function resolveBackend(cluster: Cluster, namespace: string, ingress: string, backend: V1IngressBackend): ResolvedBackend {
  const serviceBackend = backend.service;
  if (serviceBackend === undefined) {
    const resource = backend.resource;
    const name = `${resource?.kind ?? 'resource'}/${resource?.name ?? ''}`;
    return {
      poolName: `${namespace}/${ingress}/${name}`,
      service: name,
      label: name,
      endpoints: [],
      problem: `backend ${name} is not a Service; wsgate routes only to Services, so its routes answer 503`,
    };
  }
  const serviceName = serviceBackend.name;
  const wanted = serviceBackend.port?.name ?? serviceBackend.port?.number;
  const written = wanted === undefined ? '' : String(wanted);
  const unresolved = (problem: string): ResolvedBackend => ({
    poolName: `${namespace}/${ingress}/${serviceName}:${written}`,
    service: serviceName,
    label: `${serviceName}:${written}`,
    endpoints: [],
    problem,
  });
  const service = cluster.service(namespace, serviceName);
  if (service === undefined) return unresolved(`Service ${namespace}/${serviceName} not found; its routes answer 503 until it exists`);
  const ports = service.spec?.ports ?? [];
  const port = typeof wanted === 'number' ? ports.find((p) => p.port === wanted) : ports.find((p) => (p.name ?? '') === wanted);
  if (port === undefined) {
    return unresolved(`Service ${namespace}/${serviceName} has no port ${written || '(none given)'} (${describePorts(ports)}); its routes answer 503`);
  }
  return {
    poolName: `${namespace}/${ingress}/${serviceName}:${port.port}`,
    service: serviceName,
    label: `${serviceName}:${port.port}`,
    endpoints: endpointsForPort(cluster.slices(namespace, serviceName), port),
  };
}

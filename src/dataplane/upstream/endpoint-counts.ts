// Per-endpoint connection counts and caps (SPEC §6 max-connections-per-endpoint, §9
// wsgate_upstream_connections_active). The counts are the EndpointRegistry's: this worker's own,
// exact, plus the other workers' as last reported through the primary (every 250 ms), so a cap
// holds exactly within a worker and pod-wide up to the connections opened since that report.
import type { Pool } from '../../config/snapshot.ts';
import type { EndpointRegistry } from './registry.ts';
import { endpointKey, type EndpointRef } from './types.ts';

/** The endpoints of `eligible` below `cap` open connections across the pod (all of them without a cap). */
export function belowCap(eligible: readonly EndpointRef[], registry: EndpointRegistry, cap: number | undefined): readonly EndpointRef[] {
  if (cap === undefined) return eligible;
  return eligible.filter((endpoint) => registry.load(endpoint.key) < cap);
}

export interface EndpointConnections {
  namespace: string;
  service: string;
  /** The pod name (EndpointSlice targetRef), else `address:port`: bounded by the pods listed. */
  endpoint: string;
  /** This worker's open connections; the workers' gauges are summed into the pod's. */
  count: number;
}

/**
 * One series per namespace/service/endpoint of the snapshot, from this worker's counts. An
 * endpoint two pools share (two Ingresses on one Service) is counted once: counts are per address.
 */
export function endpointConnections(pools: readonly Pool[], registry: EndpointRegistry): EndpointConnections[] {
  const local = registry.localCounts();
  const series = new Map<string, EndpointConnections & { keys: Set<string> }>();
  for (const pool of pools) {
    const namespace = pool.source?.namespace ?? '';
    const service = pool.source?.service ?? pool.name;
    for (const endpoint of pool.endpoints) {
      const key = endpointKey(endpoint.address, endpoint.port);
      const label = endpoint.name ?? key;
      const id = `${namespace}\n${service}\n${label}`;
      let entry = series.get(id);
      if (entry === undefined) series.set(id, (entry = { namespace, service, endpoint: label, count: 0, keys: new Set() }));
      if (entry.keys.has(key)) continue;
      entry.keys.add(key);
      entry.count += local.get(key) ?? 0;
    }
  }
  return [...series.values()].map(({ namespace, service, endpoint, count }) => ({ namespace, service, endpoint, count }));
}

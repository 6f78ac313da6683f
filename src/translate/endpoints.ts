// A Service port's endpoints from its EndpointSlices (discovery.k8s.io/v1). The slice port is the
// Service port's by NAME (the API's rule): the number in the slice is the container's, which may
// differ from the Service's port and from a named targetPort.
import { isIP } from 'node:net';
import type { V1Endpoint, V1EndpointSlice, V1ServicePort } from '@kubernetes/client-node';
import type { Endpoint, EndpointState } from '../config/snapshot.ts';
import { compareStrings, sortEndpoints } from './order.ts';

/**
 * EndpointConditions: `ready` unset means ready ("should be interpreted as ready"); terminating
 * wins over ready so a pod on its way out never takes new connections.
 */
export function endpointState(endpoint: V1Endpoint): EndpointState {
  const conditions = endpoint.conditions;
  if (conditions?.terminating === true) return 'terminating';
  return conditions?.ready === false ? 'not-ready' : 'ready';
}

const STATE_RANK: Record<EndpointState, number> = { ready: 0, 'not-ready': 1, terminating: 2 };

/**
 * A Service with one EndpointSlice (the common case) gets the same endpoints from the same slice
 * object: the informer replaces an object that changed, never edits it, so the list is kept per
 * slice and port name, and each translation gets copies (the sort is the cost at scale).
 */
const ONE_SLICE = new WeakMap<V1EndpointSlice, Map<string, readonly Endpoint[]>>();

export function endpointsForPort(slices: readonly V1EndpointSlice[], servicePort: V1ServicePort): Endpoint[] {
  if (slices.length !== 1) return collectEndpoints(slices, servicePort);
  const slice = slices[0]!;
  const wanted = servicePort.name ?? '';
  let byPort = ONE_SLICE.get(slice);
  if (byPort === undefined) ONE_SLICE.set(slice, (byPort = new Map()));
  let endpoints = byPort.get(wanted);
  if (endpoints === undefined) byPort.set(wanted, (endpoints = collectEndpoints(slices, servicePort)));
  return endpoints.map((endpoint) => ({ ...endpoint }));
}

function collectEndpoints(slices: readonly V1EndpointSlice[], servicePort: V1ServicePort): Endpoint[] {
  const wanted = servicePort.name ?? '';
  // An address can sit in two slices while the EndpointSlice controller moves it: listed once,
  // with the most available state either copy reports.
  const byTarget = new Map<string, Endpoint>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const port = slice.ports?.find((p) => (p.name ?? '') === wanted)?.port;
    if (port === undefined) continue;
    for (const endpoint of slice.endpoints ?? []) {
      // The addresses of one endpoint are fungible (API docs): one connection target per pod.
      const address = endpoint.addresses?.[0];
      if (address === undefined || isIP(address) === 0) continue;
      const candidate: Endpoint = { address, port, state: endpointState(endpoint) };
      const name = endpoint.targetRef?.name;
      if (name !== undefined) candidate.name = name;
      const key = `${address}|${port}`;
      const current = byTarget.get(key);
      if (current === undefined || better(candidate, current)) byTarget.set(key, candidate);
    }
  }
  return sortEndpoints([...byTarget.values()]);
}

function better(candidate: Endpoint, current: Endpoint): boolean {
  const byState = STATE_RANK[candidate.state] - STATE_RANK[current.state];
  if (byState !== 0) return byState < 0;
  return compareStrings(candidate.name ?? '', current.name ?? '') < 0;
}

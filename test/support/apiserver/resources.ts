// The resource types the test server serves, as discovery advertises them.
import type { KubeObject } from './types.ts';
import { valueAtPath } from './selectors.ts';

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  subresources: string[];
  /** Where objects live: two API views of one storage (v1 and events.k8s.io/v1 Events) share it. */
  storage: string;
  /** Field labels accepted by fieldSelector besides metadata.name and metadata.namespace. */
  fieldLabels: string[];
  categories?: string[];
  /** Converts an object read from storage into this view, and back; identity when absent. */
  toView?: (stored: KubeObject) => KubeObject;
  fromView?: (view: KubeObject) => KubeObject;
}

/** The Gateway API's group: its CRDs may be absent (ApiServerOptions.gatewayApi). */
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const CORE_EVENT_FIELDS = [
  'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
  'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath',
  'reason', 'reportingComponent', 'source', 'type',
];

// events.k8s.io/v1 is a second representation of the core Event storage
// (kubernetes pkg/apis/events/v1/conversion.go); kubectl describe reads the core one.
const EVENT_RENAMES: [core: string, events: string][] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
];

function rename(obj: KubeObject, pairs: [string, string][], apiVersion: string): KubeObject {
  const out: KubeObject = { ...obj, apiVersion, kind: 'Event' };
  for (const [from, to] of pairs) {
    if (from in out) {
      out[to] = out[from];
      delete out[from];
    }
  }
  return out;
}

export const coreEventToEventsV1 = (o: KubeObject): KubeObject => rename(o, EVENT_RENAMES, 'events.k8s.io/v1');
export const eventsV1ToCoreEvent = (o: KubeObject): KubeObject =>
  rename(o, EVENT_RENAMES.map(([a, b]) => [b, a]), 'v1');

function resource(r: Omit<ResourceType, 'storage' | 'fieldLabels' | 'subresources'> & Partial<ResourceType>): ResourceType {
  return { subresources: [], fieldLabels: [], storage: `${r.plural}.${r.group}`, ...r };
}

export const RESOURCES: ResourceType[] = [
  resource({ group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', singular: 'namespace', namespaced: false, shortNames: ['ns'], subresources: ['status'], fieldLabels: ['status.phase'] }),
  resource({ group: '', version: 'v1', kind: 'Service', plural: 'services', singular: 'service', namespaced: true, shortNames: ['svc'], subresources: ['status'], categories: ['all'] }),
  resource({ group: '', version: 'v1', kind: 'Endpoints', plural: 'endpoints', singular: 'endpoints', namespaced: true, shortNames: ['ep'] }),
  resource({ group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', singular: 'configmap', namespaced: true, shortNames: ['cm'] }),
  resource({ group: '', version: 'v1', kind: 'Secret', plural: 'secrets', singular: 'secret', namespaced: true, shortNames: [], fieldLabels: ['type'] }),
  resource({ group: '', version: 'v1', kind: 'Event', plural: 'events', singular: 'event', namespaced: true, shortNames: ['ev'], fieldLabels: CORE_EVENT_FIELDS }),
  resource({ group: 'events.k8s.io', version: 'v1', kind: 'Event', plural: 'events', singular: 'event', namespaced: true, shortNames: ['ev'], storage: 'events.', fieldLabels: CORE_EVENT_FIELDS, toView: coreEventToEventsV1, fromView: eventsV1ToCoreEvent }),
  resource({ group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', plural: 'ingresses', singular: 'ingress', namespaced: true, shortNames: ['ing'], subresources: ['status'] }),
  resource({ group: 'networking.k8s.io', version: 'v1', kind: 'IngressClass', plural: 'ingressclasses', singular: 'ingressclass', namespaced: false, shortNames: [] }),
  resource({ group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', plural: 'endpointslices', singular: 'endpointslice', namespaced: true, shortNames: [] }),
  resource({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', singular: 'lease', namespaced: true, shortNames: [], fieldLabels: [] }),
  // Gateway API, standard channel v1.3.0 (BackendTLSPolicy v1alpha3 from its experimental
  // channel), as its CRDs install them: served only while a test has not removed them.
  resource({ group: GATEWAY_API_GROUP, version: 'v1', kind: 'GatewayClass', plural: 'gatewayclasses', singular: 'gatewayclass', namespaced: false, shortNames: ['gc'], subresources: ['status'], categories: ['gateway-api'] }),
  resource({ group: GATEWAY_API_GROUP, version: 'v1', kind: 'Gateway', plural: 'gateways', singular: 'gateway', namespaced: true, shortNames: ['gtw'], subresources: ['status'], categories: ['gateway-api'] }),
  resource({ group: GATEWAY_API_GROUP, version: 'v1', kind: 'HTTPRoute', plural: 'httproutes', singular: 'httproute', namespaced: true, shortNames: [], subresources: ['status'], categories: ['gateway-api'] }),
  resource({ group: GATEWAY_API_GROUP, version: 'v1beta1', kind: 'ReferenceGrant', plural: 'referencegrants', singular: 'referencegrant', namespaced: true, shortNames: ['refgrant'], categories: ['gateway-api'] }),
  resource({ group: GATEWAY_API_GROUP, version: 'v1alpha3', kind: 'BackendTLSPolicy', plural: 'backendtlspolicies', singular: 'backendtlspolicy', namespaced: true, shortNames: ['btlspolicy'], subresources: ['status'], categories: ['gateway-api'] }),
];

export function apiVersionOf(r: ResourceType): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

export function findByPath(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/**
 * Resolves what a test names: a kind ("Ingress"), a plural ("ingresses"), "plural.group" or
 * "apiVersion/Kind" ("events.k8s.io/v1/Event"); a bare "Event" means the core one.
 */
export function resolveResource(name: string): ResourceType {
  const found =
    RESOURCES.find((r) => `${apiVersionOf(r)}/${r.kind}` === name) ??
    RESOURCES.find((r) => r.kind === name) ??
    RESOURCES.find((r) => r.plural === name) ??
    RESOURCES.find((r) => `${r.plural}.${r.group}` === name);
  if (!found) throw new Error(`test apiserver: unknown resource ${name}`);
  return found;
}

export function resourceForObject(obj: KubeObject): ResourceType {
  const found = RESOURCES.find((r) => apiVersionOf(r) === obj.apiVersion && r.kind === obj.kind);
  if (!found) throw new Error(`test apiserver: unknown apiVersion/kind ${obj.apiVersion}/${obj.kind}`);
  return found;
}

/** The field values a fieldSelector is matched against (always the stored representation). */
export function fieldSet(r: ResourceType, stored: KubeObject): Record<string, string> {
  const fields: Record<string, string> = {
    'metadata.name': stored.metadata?.name ?? '',
    'metadata.namespace': stored.metadata?.namespace ?? '',
  };
  for (const label of r.fieldLabels) fields[label] = valueAtPath(stored, label === 'source' ? 'source.component' : label);
  return fields;
}

export function supportedFieldLabels(r: ResourceType): string[] {
  return ['metadata.name', 'metadata.namespace', ...r.fieldLabels];
}

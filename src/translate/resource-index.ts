// Lookup tables over the objects, built once per translation.
import type { V1ConfigMap, V1EndpointSlice, V1Secret, V1Service } from '@kubernetes/client-node';
import type { Resources } from './types.ts';
import { joinNamespacedName as key } from '../common/names.ts';
import { SERVICE_NAME_LABEL } from './types.ts';


export interface Cluster {
  service(namespace: string, name: string): V1Service | undefined;
  /** The EndpointSlices labelled kubernetes.io/service-name=name in the namespace. */
  slices(namespace: string, service: string): readonly V1EndpointSlice[];
  secret(namespace: string, name: string): V1Secret | undefined;
  configMap(namespace: string, name: string): V1ConfigMap | undefined;
}

export function indexCluster(resources: Resources): Cluster {
  const services = new Map<string, V1Service>();
  for (const service of resources.services ?? []) services.set(key(service.metadata?.namespace, service.metadata?.name), service);
  const secrets = new Map<string, V1Secret>();
  for (const secret of resources.secrets ?? []) secrets.set(key(secret.metadata?.namespace, secret.metadata?.name), secret);
  const configMaps = new Map<string, V1ConfigMap>();
  for (const configMap of resources.configMaps ?? []) configMaps.set(key(configMap.metadata?.namespace, configMap.metadata?.name), configMap);
  const slices = new Map<string, V1EndpointSlice[]>();
  for (const slice of resources.endpointSlices ?? []) {
    const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (service === undefined) continue;
    const sliceKey = key(slice.metadata?.namespace, service);
    const list = slices.get(sliceKey);
    if (list === undefined) slices.set(sliceKey, [slice]);
    else list.push(slice);
  }
  return {
    service: (namespace, name) => services.get(key(namespace, name)),
    slices: (namespace, service) => slices.get(key(namespace, service)) ?? [],
    secret: (namespace, name) => secrets.get(key(namespace, name)),
    configMap: (namespace, name) => configMaps.get(key(namespace, name)),
  };
}

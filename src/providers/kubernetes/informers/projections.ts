// What the informer caches keep of an object: only what translate reads. A Secret's
// `last-applied-configuration` annotation repeats its whole data in clear, and managedFields can
// outweigh the object itself; neither is read, so neither is held in memory.
import type { KubernetesObject, V1ConfigMap, V1EndpointSlice, V1Ingress, V1IngressClass, V1ObjectMeta, V1Secret, V1Service } from '@kubernetes/client-node';

export type Projection<T extends KubernetesObject> = (object: T) => T;

/** metadata without managedFields and annotations (for kinds whose annotations translate never reads). */
export function leanMetadata(metadata: V1ObjectMeta | undefined): V1ObjectMeta | undefined {
  if (metadata === undefined) return undefined;
  const { managedFields: _managedFields, annotations: _annotations, ...kept } = metadata;
  return kept;
}

/** A Secret reduced to its type and the data keys named (the rest is dropped, never cached). */
export function secretKeeping(keys: readonly string[]): Projection<V1Secret> {
  return (secret) => {
    const data: Record<string, string> = {};
    for (const key of keys) {
      const value = secret.data?.[key];
      if (value !== undefined) data[key] = value;
    }
    const lean: V1Secret = { apiVersion: secret.apiVersion, kind: secret.kind, metadata: leanMetadata(secret.metadata), data };
    if (secret.type !== undefined) lean.type = secret.type;
    return lean;
  };
}

/** `kubectl apply`'s copy of the whole object as last applied: never read, often the largest annotation. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** metadata without managedFields, and with only the annotations `keep` accepts (none when none pass). */
export function metadataKeeping(metadata: V1ObjectMeta | undefined, keep: (annotation: string) => boolean): V1ObjectMeta | undefined {
  const lean = leanMetadata(metadata);
  if (lean === undefined || metadata?.annotations === undefined) return lean;
  const annotations: Record<string, string> = {};
  let kept = 0;
  for (const [key, value] of Object.entries(metadata.annotations)) {
    if (!keep(key)) continue;
    annotations[key] = value;
    kept += 1;
  }
  if (kept > 0) lean.annotations = annotations;
  return lean;
}

/** Ingress annotations are read (every wsgate.io/ and nginx alias, the legacy class): all but last-applied. */
export const projectIngress: Projection<V1Ingress> = (ingress) => {
  const lean: V1Ingress = { apiVersion: ingress.apiVersion, kind: ingress.kind, metadata: metadataKeeping(ingress.metadata, (key) => key !== LAST_APPLIED_ANNOTATION) };
  if (ingress.spec !== undefined) lean.spec = ingress.spec;
  // The status writer compares status.loadBalancer before it patches.
  if (ingress.status !== undefined) lean.status = ingress.status;
  return lean;
};

/** Of an IngressClass: its controller and the default-class annotation. */
export function ingressClassProjection(defaultClassAnnotation: string): Projection<V1IngressClass> {
  return (ingressClass) => {
    const lean: V1IngressClass = { apiVersion: ingressClass.apiVersion, kind: ingressClass.kind, metadata: metadataKeeping(ingressClass.metadata, (key) => key === defaultClassAnnotation) };
    if (ingressClass.spec !== undefined) lean.spec = ingressClass.spec;
    return lean;
  };
}

/** Of a Service: its spec (ports by name and number); status and annotations are not read. */
export const projectService: Projection<V1Service> = (service) => {
  const lean: V1Service = { apiVersion: service.apiVersion, kind: service.kind, metadata: leanMetadata(service.metadata) };
  if (service.spec !== undefined) lean.spec = service.spec;
  return lean;
};

/** Of an EndpointSlice: labels (the service name), address type, endpoints and ports. */
export const projectEndpointSlice: Projection<V1EndpointSlice> = (slice) => {
  const lean: V1EndpointSlice = { apiVersion: slice.apiVersion, kind: slice.kind, metadata: leanMetadata(slice.metadata), addressType: slice.addressType, endpoints: slice.endpoints };
  if (slice.ports !== undefined) lean.ports = slice.ports;
  return lean;
};

/** Of a ConfigMap: `ca.crt` alone (SPEC §6 upstream-tls-ca-secret); every other key is dropped. */
export const projectConfigMap: Projection<V1ConfigMap> = (configMap) => {
  const lean: V1ConfigMap = { apiVersion: configMap.apiVersion, kind: configMap.kind, metadata: leanMetadata(configMap.metadata) };
  const ca = configMap.data?.['ca.crt'];
  if (ca !== undefined) lean.data = { 'ca.crt': ca };
  return lean;
};

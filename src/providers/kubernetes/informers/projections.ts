// What the informer caches keep of an object: only what translate reads. A Secret's
// `last-applied-configuration` annotation repeats its whole data in clear, and managedFields can
// outweigh the object itself; neither is read, so neither is held in memory.
import type { KubernetesObject, V1ObjectMeta, V1Secret } from '@kubernetes/client-node';

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

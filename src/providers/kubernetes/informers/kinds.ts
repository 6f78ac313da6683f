// What wsgate watches (SPEC §5), as list calls and collection paths for all namespaces or one.
// The selectors are given both to the list call and to the watch: the informer applies them only
// to its watch.
import {
  CoreV1Api,
  DiscoveryV1Api,
  NetworkingV1Api,
  type KubeConfig,
  type V1ConfigMap,
  type V1EndpointSlice,
  type V1Ingress,
  type V1IngressClass,
  type V1Secret,
  type V1Service,
} from '@kubernetes/client-node';
import { splitNamespacedName } from '../../../common/names.ts';
import { SERVICE_NAME_LABEL } from '../../../translate/types.ts';
import type { WatchedKind } from './watcher.ts';
import { DEFAULT_CLASS_ANNOTATION } from '../../../translate/class.ts';
import { ingressClassProjection, projectConfigMap, projectEndpointSlice, projectIngress, projectService, secretKeeping } from './projections.ts';

/** Secrets a TLS entry can use. */
export const TLS_SECRET_SELECTOR = 'type=kubernetes.io/tls';
/**
 * Secrets an upstream-tls-ca-secret may name besides TLS ones (ingress-nginx's proxy-ssl-secret
 * is most often Opaque). Service-account tokens, registry credentials and Helm's release Secrets
 * are of other types and never listed.
 */
export const CA_SECRET_SELECTOR = 'type=Opaque';
/** Of a TLS Secret, the pair and a CA; of an Opaque one, the CA alone: nothing else is cached. */
const TLS_SECRET_KEYS = ['tls.crt', 'tls.key', 'ca.crt'] as const;
// affinity.key: the --affinity-secret's HMAC key (providers/kubernetes/affinity-key.ts).
const CA_SECRET_KEYS = ['ca.crt', 'affinity.key'] as const;

export interface WatchedKinds {
  ingressClasses: WatchedKind<V1IngressClass>;
  ingresses: WatchedKind<V1Ingress>;
  services: WatchedKind<V1Service>;
  endpointSlices: WatchedKind<V1EndpointSlice>;
  secrets: WatchedKind<V1Secret>;
  /** Opaque Secrets, of which only `ca.crt` is kept (SPEC §6 upstream-tls-ca-secret). */
  caSecrets: WatchedKind<V1Secret>;
  /** SPEC §6 upstream-tls-ca-secret: a CA may come from a ConfigMap's `ca.crt` (no selector can narrow these). */
  configMaps: WatchedKind<V1ConfigMap>;
}

function collection(prefix: string, plural: string, namespace: string | undefined): string {
  return namespace === undefined ? `${prefix}/${plural}` : `${prefix}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
}

/** `namespace` undefined: every namespace. */
export function watchedKinds(kc: KubeConfig, namespace: string | undefined): WatchedKinds {
  const core = kc.makeApiClient(CoreV1Api);
  const networking = kc.makeApiClient(NetworkingV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  return {
    ingressClasses: {
      kind: 'IngressClass',
      path: '/apis/networking.k8s.io/v1/ingressclasses',
      project: ingressClassProjection(DEFAULT_CLASS_ANNOTATION),
      listPage: (page) => networking.listIngressClass(page),
    },
    ingresses: {
      kind: 'Ingress',
      path: collection('/apis/networking.k8s.io/v1', 'ingresses', namespace),
      project: projectIngress,
      listPage: (page) => (namespace === undefined ? networking.listIngressForAllNamespaces(page) : networking.listNamespacedIngress({ ...page, namespace })),
    },
    services: {
      kind: 'Service',
      path: collection('/api/v1', 'services', namespace),
      project: projectService,
      listPage: (page) => (namespace === undefined ? core.listServiceForAllNamespaces(page) : core.listNamespacedService({ ...page, namespace })),
    },
    endpointSlices: {
      kind: 'EndpointSlice',
      path: collection('/apis/discovery.k8s.io/v1', 'endpointslices', namespace),
      labelSelector: SERVICE_NAME_LABEL,
      project: projectEndpointSlice,
      listPage: (page) =>
        namespace === undefined
          ? discovery.listEndpointSliceForAllNamespaces({ ...page, labelSelector: SERVICE_NAME_LABEL })
          : discovery.listNamespacedEndpointSlice({ ...page, namespace, labelSelector: SERVICE_NAME_LABEL }),
    },
    secrets: tlsSecrets(core, namespace),
    caSecrets: {
      kind: 'Secret (Opaque)',
      path: collection('/api/v1', 'secrets', namespace),
      fieldSelector: CA_SECRET_SELECTOR,
      project: secretKeeping(CA_SECRET_KEYS),
      listPage: (page) =>
        namespace === undefined
          ? core.listSecretForAllNamespaces({ ...page, fieldSelector: CA_SECRET_SELECTOR })
          : core.listNamespacedSecret({ ...page, namespace, fieldSelector: CA_SECRET_SELECTOR }),
    },
    configMaps: {
      kind: 'ConfigMap',
      path: collection('/api/v1', 'configmaps', namespace),
      project: projectConfigMap,
      listPage: (page) => (namespace === undefined ? core.listConfigMapForAllNamespaces(page) : core.listNamespacedConfigMap({ ...page, namespace })),
    },
  };
}

/** TLS Secrets of one namespace or all; `name` narrows to one (the --default-cert-secret elsewhere). */
export function tlsSecrets(core: CoreV1Api, namespace: string | undefined, name?: string): WatchedKind<V1Secret> {
  const fieldSelector = name === undefined ? TLS_SECRET_SELECTOR : `${TLS_SECRET_SELECTOR},metadata.name=${name}`;
  return {
    kind: name === undefined ? 'Secret' : `Secret ${namespace}/${name}`,
    path: collection('/api/v1', 'secrets', namespace),
    fieldSelector,
    project: secretKeeping(TLS_SECRET_KEYS),
    listPage: (page) =>
      namespace === undefined
        ? core.listSecretForAllNamespaces({ ...page, fieldSelector })
        : core.listNamespacedSecret({ ...page, namespace, fieldSelector }),
  };
}

/**
 * The `--default-cert-secret` watched on its own: needed only when it lies outside the one watched
 * namespace (with every namespace watched, the TLS Secret informer has it already).
 */
export function defaultCertSecretKind(kc: KubeConfig, watchNamespace: string | undefined, defaultCertSecret: string | undefined): WatchedKind<V1Secret> | undefined {
  const reference = defaultCertSecret === undefined ? undefined : splitNamespacedName(defaultCertSecret);
  if (watchNamespace === undefined || reference === undefined || reference.namespace === watchNamespace) return undefined;
  return tlsSecrets(kc.makeApiClient(CoreV1Api), reference.namespace, reference.name);
}

/**
 * The `--affinity-secret` (Opaque, `affinity.key`) watched on its own when it lies outside the one
 * watched namespace: the chart creates it in the release namespace. Listed by name, so a Role
 * with `resourceNames` is enough to read it (charts/wsgate/files/rbac-rules.yaml).
 */
export function affinitySecretKind(kc: KubeConfig, watchNamespace: string | undefined, affinitySecret: string | undefined): WatchedKind<V1Secret> | undefined {
  const reference = affinitySecret === undefined ? undefined : splitNamespacedName(affinitySecret);
  if (watchNamespace === undefined || reference === undefined || reference.namespace === watchNamespace) return undefined;
  const core = kc.makeApiClient(CoreV1Api);
  const { namespace, name } = reference;
  const fieldSelector = `${CA_SECRET_SELECTOR},metadata.name=${name}`;
  return {
    kind: `Secret ${namespace}/${name}`,
    path: collection('/api/v1', 'secrets', namespace),
    fieldSelector,
    project: secretKeeping(['affinity.key']),
    listPage: (page) => core.listNamespacedSecret({ ...page, namespace, fieldSelector }),
  };
}

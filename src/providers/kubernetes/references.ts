// What the last translation read, so that a change to anything else need not run it again
// (Contour's handler asks its cache the same question: `onUpdate` returns whether an object
// matters). Ingresses and IngressClasses always matter: they decide what is referenced, so a
// Secret or Service that becomes referenced later is picked up by the Ingress change that names
// it, from the store, which holds every object of every watched kind.
import type { KubernetesObject, V1IngressBackend } from '@kubernetes/client-node';
import { joinNamespacedName } from '../../common/names.ts';
import { SERVICE_NAME_LABEL, type Resources } from '../../translate/types.ts';
import { caSecretName } from '../../translate/upstream-ca.ts';
import type { ClusterChange } from './informers/store.ts';

export class References {
  readonly #secrets = new Set<string>();
  /** CA references: a ConfigMap of that name is the CA when no Secret is (SPEC §6). */
  readonly #configMaps = new Set<string>();
  readonly #services = new Set<string>();
  /** EndpointSlices counted last time, by their own name: one that stops matching still matters once. */
  readonly #slices = new Set<string>();

  /** Everything an Ingress (ours or not: a superset is safe) names, and the --default-cert-secret. */
  static of(resources: Resources, defaultCertSecret: string | undefined, affinitySecret?: string): References {
    const references = new References();
    if (defaultCertSecret !== undefined) references.#secrets.add(defaultCertSecret);
    if (affinitySecret !== undefined) references.#secrets.add(affinitySecret);
    for (const ingress of resources.ingresses) {
      const namespace = ingress.metadata?.namespace;
      for (const entry of ingress.spec?.tls ?? []) {
        if (entry.secretName) references.#secrets.add(joinNamespacedName(namespace, entry.secretName));
      }
      // SPEC §6 upstream-tls-ca-secret and its alias: a CA Secret travels in the snapshot too.
      for (const reference of caSecretReferences(ingress.metadata?.annotations)) {
        const ref = caSecretName(reference, namespace ?? 'default');
        references.#secrets.add(joinNamespacedName(ref.namespace, ref.name));
        references.#configMaps.add(joinNamespacedName(ref.namespace, ref.name));
      }
      const backends: V1IngressBackend[] = ingress.spec?.defaultBackend ? [ingress.spec.defaultBackend] : [];
      for (const rule of ingress.spec?.rules ?? []) for (const path of rule.http?.paths ?? []) backends.push(path.backend);
      for (const backend of backends) {
        if (backend.service?.name !== undefined) references.#services.add(joinNamespacedName(namespace, backend.service.name));
      }
    }
    references.#addGatewayApi(resources);
    for (const slice of resources.endpointSlices) {
      if (references.#sliceService(slice)) references.#slices.add(nameOf(slice));
    }
    return references;
  }

  /** Whether `change` can alter what translate produces from the store. */
  matters(change: ClusterChange): boolean {
    if (change === undefined) return true;
    switch (change.kind) {
      case 'Ingress':
      case 'IngressClass':
      case 'GatewayClass': // Gateway API objects decide what is referenced, as Ingresses do.
      case 'Gateway':
      case 'HTTPRoute':
      case 'ReferenceGrant':
      case 'BackendTLSPolicy':
      case 'Namespace':
        return true;
      case 'Secret':
        return this.#secrets.has(nameOf(change.object));
      case 'ConfigMap':
        return this.#configMaps.has(nameOf(change.object));
      case 'Service':
        return this.#services.has(nameOf(change.object));
      case 'EndpointSlice':
        return this.#sliceService(change.object) || this.#slices.has(nameOf(change.object));
    }
  }

  /** What Gateways (certificateRefs), HTTPRoutes (backendRefs) and BackendTLSPolicies (CA ConfigMaps) name. */
  #addGatewayApi(resources: Resources): void {
    for (const gateway of resources.gateways ?? []) {
      for (const listener of gateway.spec?.listeners ?? []) {
        for (const ref of listener.tls?.certificateRefs ?? []) this.#secrets.add(joinNamespacedName(ref.namespace ?? gateway.metadata?.namespace, ref.name));
      }
    }
    for (const route of resources.httpRoutes ?? []) {
      for (const rule of route.spec?.rules ?? []) {
        for (const ref of rule.backendRefs ?? []) this.#services.add(joinNamespacedName(ref.namespace ?? route.metadata?.namespace, ref.name));
      }
      // upstream-tls-ca-secret on an HTTPRoute, as on an Ingress.
      for (const reference of caSecretReferences(route.metadata?.annotations)) {
        const ref = caSecretName(reference, route.metadata?.namespace ?? 'default');
        this.#secrets.add(joinNamespacedName(ref.namespace, ref.name));
        this.#configMaps.add(joinNamespacedName(ref.namespace, ref.name));
      }
    }
    for (const policy of resources.backendTLSPolicies ?? []) {
      for (const ref of policy.spec?.validation?.caCertificateRefs ?? []) this.#configMaps.add(joinNamespacedName(policy.metadata?.namespace, ref.name));
    }
  }

  #sliceService(slice: KubernetesObject): boolean {
    const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    return service !== undefined && this.#services.has(joinNamespacedName(slice.metadata?.namespace, service));
  }
}

/** Every CA Secret an Ingress names, by the wsgate.io key or its alias (a superset is safe). */
function caSecretReferences(annotations: Record<string, string> | undefined): string[] {
  return CA_SECRET_KEYS.map((key) => annotations?.[key]?.trim()).filter((value): value is string => value !== undefined && value !== '');
}

const CA_SECRET_KEYS = ['wsgate.io/upstream-tls-ca-secret', 'nginx.ingress.kubernetes.io/proxy-ssl-secret'];

function nameOf(object: KubernetesObject): string {
  return joinNamespacedName(object.metadata?.namespace, object.metadata?.name);
}

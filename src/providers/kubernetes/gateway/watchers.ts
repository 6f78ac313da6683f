// The Gateway API part of the ClusterStore: one OptionalKind per kind, read together as the
// GatewayResources translate() takes. Auto-detected: a cluster without the CRDs serves Ingresses
// exactly as before, and one that installs them later is picked up within the probe interval.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { GatewayResources } from '../../../translate/gateway/types.ts';
import type { WatcherOptions } from '../informers/watcher.ts';
import { BACKEND_TLS_POLICY_V1, GATEWAY_KINDS, OptionalKind, gatewayWatchedKind, namespacesKind, type GatewayKindName } from './kinds.ts';

export type GatewayChangeKind = 'GatewayClass' | 'Gateway' | 'HTTPRoute' | 'ReferenceGrant' | 'BackendTLSPolicy' | 'Namespace';

export interface GatewayWatchersOptions {
  watchNamespace?: string;
  /** How often an absent API is probed again. Default 30 s. */
  probeMs?: number;
}

export class GatewayWatchers {
  readonly #kinds = new Map<GatewayKindName, OptionalKind<KubernetesObject>>();
  readonly #namespaces: OptionalKind<KubernetesObject>;
  readonly #backendTlsV1: OptionalKind<KubernetesObject>;

  constructor(kc: KubeConfig, options: GatewayWatchersOptions, watcherOptions: WatcherOptions, onChange: (kind: GatewayChangeKind, object?: KubernetesObject) => void) {
    for (const [name, spec] of Object.entries(GATEWAY_KINDS) as [GatewayKindName, (typeof GATEWAY_KINDS)[GatewayKindName]][]) {
      const watched = gatewayWatchedKind(kc, spec, options.watchNamespace);
      this.#kinds.set(name, new OptionalKind(kc, watched, watcherOptions, (object) => onChange(spec.kind, object), options.probeMs));
    }
    this.#namespaces = new OptionalKind(kc, namespacesKind(kc), watcherOptions, (object) => onChange('Namespace', object), options.probeMs);
    this.#backendTlsV1 = new OptionalKind(kc, gatewayWatchedKind(kc, BACKEND_TLS_POLICY_V1, options.watchNamespace), watcherOptions, (object) => onChange('BackendTLSPolicy', object), options.probeMs);
  }

  get all(): OptionalKind<KubernetesObject>[] {
    return [...this.#kinds.values(), this.#namespaces, this.#backendTlsV1];
  }

  /** Whether the Gateway API (its Gateway kind) is installed. */
  get present(): boolean {
    return this.#kinds.get('gateways')?.present ?? false;
  }

  /** v1 and v1alpha3 may be two views of one storage: each policy once, as v1 has it. */
  #backendTlsPolicies(): NonNullable<GatewayResources['backendTLSPolicies']> {
    const v1 = [...this.#backendTlsV1.list()];
    const seen = new Set(v1.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`));
    const older = (this.#kinds.get('backendTLSPolicies')?.list() ?? []).filter((p) => !seen.has(`${p.metadata?.namespace}/${p.metadata?.name}`));
    return [...v1, ...older] as NonNullable<GatewayResources['backendTLSPolicies']>;
  }

  resources(): GatewayResources {
    const list = <T>(name: GatewayKindName): T[] => [...(this.#kinds.get(name)?.list() ?? [])] as T[];
    return {
      gatewayClasses: list('gatewayClasses'),
      gateways: list('gateways'),
      httpRoutes: list('httpRoutes'),
      referenceGrants: list('referenceGrants'),
      backendTLSPolicies: this.#backendTlsPolicies(),
      namespaces: [...this.#namespaces.list()],
    };
  }
}

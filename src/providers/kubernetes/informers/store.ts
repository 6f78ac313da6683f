// The controller's view of the cluster: one informer per kind, read together as translate()'s
// input. The arrays are fresh, the objects in them are the informers' own and never mutated.
import type { KubeConfig, KubernetesObject, V1Secret } from '@kubernetes/client-node';
import type { Resources } from '../../../translate/types.ts';
import type { Clock } from '../../../common/clock.ts';
import { affinitySecretKind, defaultCertSecretKind, watchedKinds } from './kinds.ts';
import { KindWatcher, type KindCondition, type WatcherOptions } from './watcher.ts';
import { GatewayWatchers, type GatewayChangeKind } from '../gateway/watchers.ts';

/** What the controller reads; the informers here, a plain object in unit tests. */
export interface ResourceSource {
  /** Every kind has listed at least once. */
  synced(): boolean;
  resources(): Resources;
}

/** One object added, updated or deleted, by kind; undefined: a kind (re)listed, anything may differ. */
export type ClusterChange =
  | { kind: 'IngressClass' | 'Ingress' | 'Service' | 'EndpointSlice' | 'Secret' | 'ConfigMap' | GatewayChangeKind; object: KubernetesObject }
  | undefined;

export interface ClusterStoreOptions {
  clock: Clock;
  /** `--watch-namespace`; undefined = all. */
  watchNamespace?: string;
  /** `--default-cert-secret` NS/NAME: watched on its own when outside the watched namespace. */
  defaultCertSecret?: string;
  /** `--affinity-secret` NS/NAME: likewise. */
  affinitySecret?: string;
  watcher?: Omit<WatcherOptions, 'clock'>;
  /** How often an absent Gateway API is probed again (gateway/kinds.ts). */
  gatewayProbeMs?: number;
}

export class ClusterStore implements ResourceSource {
  readonly #ingressClasses;
  readonly #ingresses;
  readonly #services;
  readonly #endpointSlices;
  readonly #secrets;
  readonly #caSecrets;
  readonly #configMaps;
  readonly #defaultSecret: KindWatcher<V1Secret> | undefined;
  readonly #affinitySecret: KindWatcher<V1Secret> | undefined;
  readonly #all: Pick<KindWatcher<KubernetesObject>, 'start' | 'stop' | 'synced' | 'errors' | 'condition'>[];
  /** Gateway API kinds, auto-detected (their CRDs may be absent). */
  readonly gateway: GatewayWatchers;
  #listener: (change: ClusterChange) => void = () => {};

  constructor(kc: KubeConfig, options: ClusterStoreOptions) {
    const onChange =
      (kind: NonNullable<ClusterChange>['kind']) =>
      (object?: KubernetesObject): void =>
        this.#listener(object === undefined ? undefined : { kind, object });
    const kinds = watchedKinds(kc, options.watchNamespace);
    const watcherOptions: WatcherOptions = { ...options.watcher, clock: options.clock };
    this.#ingressClasses = new KindWatcher(kc, kinds.ingressClasses, watcherOptions, onChange('IngressClass'));
    this.#ingresses = new KindWatcher(kc, kinds.ingresses, watcherOptions, onChange('Ingress'));
    this.#services = new KindWatcher(kc, kinds.services, watcherOptions, onChange('Service'));
    this.#endpointSlices = new KindWatcher(kc, kinds.endpointSlices, watcherOptions, onChange('EndpointSlice'));
    this.#secrets = new KindWatcher(kc, kinds.secrets, watcherOptions, onChange('Secret'));
    this.#caSecrets = new KindWatcher(kc, kinds.caSecrets, watcherOptions, onChange('Secret'));
    this.#configMaps = new KindWatcher(kc, kinds.configMaps, watcherOptions, onChange('ConfigMap'));
    const defaultSecret = defaultCertSecretKind(kc, options.watchNamespace, options.defaultCertSecret);
    if (defaultSecret !== undefined) this.#defaultSecret = new KindWatcher(kc, defaultSecret, watcherOptions, onChange('Secret'));
    const affinitySecret = affinitySecretKind(kc, options.watchNamespace, options.affinitySecret);
    if (affinitySecret !== undefined) this.#affinitySecret = new KindWatcher(kc, affinitySecret, watcherOptions, onChange('Secret'));
    this.gateway = new GatewayWatchers(kc, { ...(options.watchNamespace === undefined ? {} : { watchNamespace: options.watchNamespace }), ...(options.gatewayProbeMs === undefined ? {} : { probeMs: options.gatewayProbeMs }) }, watcherOptions, (kind, object) => this.#listener(object === undefined ? undefined : { kind, object }));
    this.#all = [this.#ingressClasses, this.#ingresses, this.#services, this.#endpointSlices, this.#secrets, this.#caSecrets, this.#configMaps, ...(this.#defaultSecret ? [this.#defaultSecret] : []), ...(this.#affinitySecret ? [this.#affinitySecret] : []), ...this.gateway.all] as KindWatcher<KubernetesObject>[];
  }

  /** Who hears of every change (set once the rebuild loop exists; nobody before). */
  onChange(listener: (change: ClusterChange) => void): void {
    this.#listener = listener;
  }

  start(): void {
    for (const watcher of this.#all) watcher.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.#all.map((watcher) => watcher.stop()));
  }

  synced(): boolean {
    return this.#all.every((watcher) => watcher.synced);
  }

  /** Per kind: listed, failing since when and why, or unavailable (served as empty): /readyz?verbose. */
  conditions(): KindCondition[] {
    return this.#all.map((watcher) => watcher.condition());
  }

  /** Watch or list errors so far, summed over kinds (each restarted its informer). */
  errors(): number {
    return this.#all.reduce((sum, watcher) => sum + watcher.errors, 0);
  }

  resources(): Resources {
    return {
      ingressClasses: [...this.#ingressClasses.list()],
      ingresses: [...this.#ingresses.list()],
      services: [...this.#services.list()],
      endpointSlices: [...this.#endpointSlices.list()],
      secrets: [...this.#secrets.list(), ...this.#caSecrets.list(), ...(this.#defaultSecret?.list() ?? []), ...(this.#affinitySecret?.list() ?? [])],
      configMaps: [...this.#configMaps.list()],
      ...this.gateway.resources(),
    };
  }
}

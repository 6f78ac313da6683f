// The Gateway API kinds (and Namespaces, for allowedRoutes selectors) as watched kinds. Their
// CRDs may not be installed: an OptionalKind probes with a list first and, on 404 (or 403: a
// chart installed without the Gateway API rules), counts as listed-and-empty, so Ingress serving
// never waits for them, and probes again every probeMs: CRDs installed later are picked up.
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { logger } from '../../../common/log.ts';
import type { Clock, TimerHandle } from '../../../common/clock.ts';
import { KindWatcher, type KindCondition, type WatchedKind, type WatcherOptions } from '../informers/watcher.ts';
import { GATEWAY_GROUP } from '../../../translate/gateway/types.ts';

const log = logger('kubernetes');

export interface GatewayKindSpec {
  kind: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

/** Served as the v1.3.0 standard channel installs them (BackendTLSPolicy: v1alpha3, experimental). */
export const GATEWAY_KINDS = {
  gatewayClasses: { kind: 'GatewayClass', version: 'v1', plural: 'gatewayclasses', namespaced: false },
  gateways: { kind: 'Gateway', version: 'v1', plural: 'gateways', namespaced: true },
  httpRoutes: { kind: 'HTTPRoute', version: 'v1', plural: 'httproutes', namespaced: true },
  referenceGrants: { kind: 'ReferenceGrant', version: 'v1beta1', plural: 'referencegrants', namespaced: true },
  backendTLSPolicies: { kind: 'BackendTLSPolicy', version: 'v1alpha3', plural: 'backendtlspolicies', namespaced: true },
} as const satisfies Record<string, GatewayKindSpec>;

/** BackendTLSPolicy went to v1 (standard channel) in Gateway API v1.4: read either, v1 first. */
export const BACKEND_TLS_POLICY_V1: GatewayKindSpec = { kind: 'BackendTLSPolicy (v1)', version: 'v1', plural: 'backendtlspolicies', namespaced: true };

export type GatewayKindName = keyof typeof GATEWAY_KINDS;

export function gatewayWatchedKind(kc: KubeConfig, spec: GatewayKindSpec, namespace: string | undefined): WatchedKind<KubernetesObject> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const base = `/apis/${GATEWAY_GROUP}/${spec.version}`;
  const scoped = spec.namespaced && namespace !== undefined;
  return {
    kind: spec.kind,
    path: scoped ? `${base}/namespaces/${encodeURIComponent(namespace)}/${spec.plural}` : `${base}/${spec.plural}`,
    listPage: async (page) =>
      (scoped
        ? await custom.listNamespacedCustomObject({ group: GATEWAY_GROUP, version: spec.version, namespace, plural: spec.plural, ...page })
        : await custom.listClusterCustomObject({ group: GATEWAY_GROUP, version: spec.version, plural: spec.plural, ...page })) as KubernetesListObject<KubernetesObject>,
  };
}

/** Namespaces, for allowedRoutes.namespaces.from: Selector (their labels). */
export function namespacesKind(kc: KubeConfig): WatchedKind<KubernetesObject> {
  const core = kc.makeApiClient(CoreV1Api);
  return { kind: 'Namespace', path: '/api/v1/namespaces', listPage: (page) => core.listNamespace(page) };
}

/** The HTTP status of a client-node error, when it has one. */
export function errorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** A kind whose API may be absent: empty and synced while it is, watched once it is there. */
export class OptionalKind<T extends KubernetesObject> {
  readonly kind: string;
  readonly #kc: KubeConfig;
  readonly #spec: WatchedKind<T>;
  readonly #options: WatcherOptions;
  readonly #clock: Clock;
  readonly #onChange: (object?: T) => void;
  readonly #probeMs: number;
  #inner: KindWatcher<T> | undefined;
  #absent = false;
  #probeErrors = 0;
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(kc: KubeConfig, spec: WatchedKind<T>, options: WatcherOptions, onChange: (object?: T) => void, probeMs = 30_000) {
    this.kind = spec.kind;
    this.#kc = kc;
    this.#spec = spec;
    this.#options = options;
    this.#clock = options.clock;
    this.#onChange = onChange;
    this.#probeMs = probeMs;
  }

  /** Whether the API answered (the CRD is installed and readable). */
  get present(): boolean {
    return this.#inner !== undefined;
  }

  /** Absent, or listed: the absent (empty) view holds until an informer started later has listed. */
  get synced(): boolean {
    return (this.#inner?.synced ?? false) || this.#absent;
  }

  get errors(): number {
    return this.#probeErrors + (this.#inner?.errors ?? 0);
  }

  list(): readonly T[] {
    return this.#inner?.list() ?? [];
  }

  /**
   * /readyz?verbose: the informer's condition once the API answered; `absent` before (an API not
   * installed is a choice, not an error, so it is not counted in wsgate_controller_sync_errors_total).
   */
  condition(): KindCondition {
    if (this.#inner !== undefined) return this.#inner.condition();
    return { kind: this.kind, state: this.#absent ? 'absent' : 'listing', errors: this.#probeErrors };
  }

  start(): void {
    void this.#probe();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#inner?.stop();
  }

  async #probe(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#spec.listPage({ limit: 1 });
    } catch (error) {
      if (this.#stopped) return;
      const code = errorCode(error);
      this.#probeErrors += 1;
      if (code !== 404 && code !== 403) {
        // Any other failure says nothing about the CRD: stay unsynced (as every kind does) and retry,
        // rather than serve a snapshot without the Gateway routes and drain their connections.
        log.warn({ kind: this.kind, err: error }, 'probing the API failed; retrying');
        this.#timer = this.#clock.after(Math.min(1000 * this.#probeErrors, 10_000), () => void this.#probe());
        return;
      }
      if (!this.#absent) {
        log.info({ kind: this.kind, code }, code === 404 ? 'API not installed; treated as empty until it is' : 'API not readable; treated as empty');
        this.#absent = true;
        this.#onChange();
      }
      this.#timer = this.#clock.after(this.#probeMs, () => void this.#probe());
      return;
    }
    if (this.#stopped) return;
    this.#inner = new KindWatcher(this.#kc, this.#spec, this.#options, this.#onChange);
    this.#inner.start();
  }
}

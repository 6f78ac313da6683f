// The leader writes Gateway API status (GatewayClass, Gateway, HTTPRoute, BackendTLSPolicy) as translate() decided
// it, through each kind's /status subresource with a merge patch, and only where it differs from
// what the informer holds, so a resync writes nothing. lastTransitionTime is kept while a
// condition's status stays, set now when it changes (metav1.Condition). Of an HTTPRoute's
// status.parents only the entries of wsgate's controllerName are wsgate's: others are kept.
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Service } from '@kubernetes/client-node';
import { canonicalJson } from '../../../config/canonical.ts';
import { logger } from '../../../common/log.ts';
import { splitNamespacedName } from '../../../common/names.ts';
import type { Clock, TimerHandle } from '../../../common/clock.ts';
import { publishedAddresses } from '../writers/status.ts';
import { GATEWAY_CONTROLLER_NAME, GATEWAY_GROUP, type Condition, type GatewayAddress, type GatewayResources, type GatewayStatuses, type RouteParentStatus } from '../../../translate/gateway/types.ts';
import { GATEWAY_KINDS } from './kinds.ts';
import type { TokenBucket } from '../writers/rate-limit.ts';

const log = logger('status');

export interface GatewayStatusWriterOptions {
  clock: Clock;
  /** `--publish-service` NS/NAME: the Gateways' addresses. */
  publishService?: string;
  isLeader(): boolean;
  /** How often the publish Service is read again while nothing else happens. Default 30 s. */
  resyncMs?: number;
  /** The objects as the informers hold them (to compare before writing). */
  current(): GatewayResources;
  /** The writes' token bucket, shared with Ingress status and Events (--kube-api-qps / -burst). */
  limiter?: TokenBucket;
}

function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Conditions with lastTransitionTime: the existing one's while status is unchanged, else now. */
export function withTransitionTimes(desired: readonly Condition[], existing: readonly Condition[] | undefined, now: string): Condition[] {
  return desired.map((c) => {
    const before = existing?.find((e) => e.type === c.type);
    return { ...c, lastTransitionTime: before !== undefined && before.status === c.status && before.lastTransitionTime !== undefined ? before.lastTransitionTime : now };
  });
}

export function gatewayAddresses(service: V1Service | undefined): GatewayAddress[] {
  if (service === undefined) return [];
  return publishedAddresses(service).map((a) => (a.ip !== undefined ? { type: 'IPAddress' as const, value: a.ip } : { type: 'Hostname' as const, value: a.hostname! }));
}

export class GatewayStatusWriter {
  readonly #custom: CustomObjectsApi;
  readonly #core: CoreV1Api;
  readonly #options: GatewayStatusWriterOptions;
  #desired: GatewayStatuses | undefined;
  #running = false;
  #again = false;
  #stopped = false;
  #writes = 0;
  #timer: TimerHandle | undefined;

  constructor(kc: KubeConfig, options: GatewayStatusWriterOptions) {
    this.#custom = kc.makeApiClient(CustomObjectsApi);
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#options = options;
  }

  get writes(): number {
    return this.#writes;
  }

  /** Resyncs now and then: the publish Service's address can change without any Gateway changing. */
  start(): void {
    const resync = (): void => {
      this.#timer = this.#options.clock.after(this.#options.resyncMs ?? 30_000, () => {
        this.sync();
        resync();
      });
    };
    resync();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  update(statuses: GatewayStatuses): void {
    this.#desired = statuses;
    this.sync();
  }

  sync(): void {
    if (this.#stopped || !this.#options.isLeader() || this.#desired === undefined) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    void this.#reconcile(this.#desired).finally(() => {
      this.#running = false;
      if (this.#again) {
        this.#again = false;
        this.sync();
      }
    });
  }

  async #addresses(): Promise<GatewayAddress[]> {
    const reference = this.#options.publishService === undefined ? undefined : splitNamespacedName(this.#options.publishService);
    if (reference === undefined) return [];
    try {
      return gatewayAddresses(await this.#core.readNamespacedService({ name: reference.name, namespace: reference.namespace }));
    } catch (error) {
      log.warn({ err: error, publishService: this.#options.publishService }, 'cannot read the publish Service; Gateway addresses left out');
      return [];
    }
  }

  async #reconcile(desired: GatewayStatuses): Promise<void> {
    const current = this.#options.current();
    const now = timestamp(this.#options.clock.now());
    const active = (): boolean => !this.#stopped && this.#options.isLeader();
    for (const gc of desired.gatewayClasses) {
      if (!active()) return;
      const object = current.gatewayClasses?.find((c) => c.metadata?.name === gc.name);
      if (object === undefined) continue;
      const status = { conditions: withTransitionTimes(gc.conditions, object.status?.conditions, now) };
      if (canonicalJson(status) === canonicalJson({ conditions: object.status?.conditions ?? [] })) continue;
      await this.#patch('gatewayClasses', undefined, gc.name, { status });
    }
    const addresses = desired.gateways.length > 0 ? await this.#addresses() : [];
    for (const gw of desired.gateways) {
      if (!active()) return;
      const object = current.gateways?.find((g) => g.metadata?.namespace === gw.namespace && g.metadata?.name === gw.name);
      if (object === undefined) continue;
      const programmedWithout = addresses.length === 0 && this.#options.publishService !== undefined;
      const conditions = programmedWithout
        ? gw.status.conditions!.map((c) => (c.type === 'Programmed' && c.status === 'True' ? { ...c, status: 'False' as const, reason: 'AddressNotAssigned', message: `no address yet on ${this.#options.publishService}` } : c))
        : gw.status.conditions!;
      const status = {
        addresses,
        conditions: withTransitionTimes(conditions, object.status?.conditions, now),
        listeners: (gw.status.listeners ?? []).map((l) => ({ ...l, conditions: withTransitionTimes(l.conditions, object.status?.listeners?.find((e) => e.name === l.name)?.conditions, now) })),
      };
      const before = { addresses: object.status?.addresses ?? [], conditions: object.status?.conditions ?? [], listeners: object.status?.listeners ?? [] };
      if (canonicalJson(status) === canonicalJson(before)) continue;
      await this.#patch('gateways', gw.namespace, gw.name, { status });
    }
    for (const route of desired.httpRoutes) {
      if (!active()) return;
      const object = current.httpRoutes?.find((r) => r.metadata?.namespace === route.namespace && r.metadata?.name === route.name);
      if (object === undefined) continue;
      const existing = object.status?.parents ?? [];
      const ours: RouteParentStatus[] = route.parents.map((p) => ({
        ...p,
        conditions: withTransitionTimes(p.conditions, existing.find((e) => e.controllerName === GATEWAY_CONTROLLER_NAME && sameParent(e.parentRef, p.parentRef))?.conditions, now),
      }));
      const parents = [...existing.filter((e) => e.controllerName !== GATEWAY_CONTROLLER_NAME), ...ours];
      if (canonicalJson(parents) === canonicalJson(existing)) continue;
      await this.#patch('httpRoutes', route.namespace, route.name, { status: { parents } });
    }
    await this.#reconcilePolicies(desired, current, now, active);
    // An HTTPRoute no longer attached to any of wsgate's Gateways: its wsgate entries go.
    const wanted = new Set(desired.httpRoutes.map((r) => `${r.namespace}/${r.name}`));
    for (const object of current.httpRoutes ?? []) {
      if (!active()) return;
      const namespace = object.metadata?.namespace ?? 'default';
      const name = object.metadata?.name ?? '';
      const existing = object.status?.parents ?? [];
      if (wanted.has(`${namespace}/${name}`) || !existing.some((e) => e.controllerName === GATEWAY_CONTROLLER_NAME)) continue;
      await this.#patch('httpRoutes', namespace, name, { status: { parents: existing.filter((e) => e.controllerName !== GATEWAY_CONTROLLER_NAME) } });
    }
  }

  /**
   * BackendTLSPolicy status.ancestors[]: wsgate's entries (by controllerName) as desired, every
   * other controller's kept; a policy no longer reached through wsgate's Gateways loses wsgate's.
   * Patched in the version the policy was read as (v1, or v1alpha3 from the experimental channel).
   */
  async #reconcilePolicies(desired: GatewayStatuses, current: GatewayResources, now: string, active: () => boolean): Promise<void> {
    const wanted = new Map(desired.backendTLSPolicies.map((p) => [`${p.namespace}/${p.name}`, p]));
    for (const object of current.backendTLSPolicies ?? []) {
      if (!active()) return;
      const namespace = object.metadata?.namespace ?? 'default';
      const name = object.metadata?.name ?? '';
      const existing = object.status?.ancestors ?? [];
      const policy = wanted.get(`${namespace}/${name}`);
      if (policy === undefined && !existing.some((e) => e.controllerName === GATEWAY_CONTROLLER_NAME)) continue;
      const ours = (policy?.ancestors ?? []).map((a) => ({
        ...a,
        conditions: withTransitionTimes(a.conditions, existing.find((e) => e.controllerName === GATEWAY_CONTROLLER_NAME && sameParent(e.ancestorRef, a.ancestorRef))?.conditions, now),
      }));
      const ancestors = [...existing.filter((e) => e.controllerName !== GATEWAY_CONTROLLER_NAME), ...ours];
      if (canonicalJson(ancestors) === canonicalJson(existing)) continue;
      const version = object.apiVersion?.split('/')[1] ?? GATEWAY_KINDS.backendTLSPolicies.version;
      await this.#patch('backendTLSPolicies', namespace, name, { status: { ancestors } }, version);
    }
  }

  async #patch(kind: 'gatewayClasses' | 'gateways' | 'httpRoutes' | 'backendTLSPolicies', namespace: string | undefined, name: string, body: object, version: string = GATEWAY_KINDS[kind].version): Promise<void> {
    const spec = GATEWAY_KINDS[kind];
    const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    await this.#options.limiter?.take();
    try {
      if (namespace === undefined) await this.#custom.patchClusterCustomObjectStatus({ group: GATEWAY_GROUP, version, plural: spec.plural, name, body }, options);
      else await this.#custom.patchNamespacedCustomObjectStatus({ group: GATEWAY_GROUP, version, namespace, plural: spec.plural, name, body }, options);
      this.#writes += 1;
      log.info({ kind: spec.kind, object: namespace === undefined ? name : `${namespace}/${name}` }, 'Gateway API status written');
    } catch (error) {
      log.warn({ err: error, kind: spec.kind, object: namespace === undefined ? name : `${namespace}/${name}` }, 'cannot write Gateway API status');
    }
  }
}

function sameParent(a: RouteParentStatus['parentRef'], b: RouteParentStatus['parentRef']): boolean {
  return a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '') && (a.sectionName ?? '') === (b.sectionName ?? '') && (a.port ?? 0) === (b.port ?? 0) && (a.kind ?? 'Gateway') === (b.kind ?? 'Gateway');
}

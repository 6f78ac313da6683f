// The leader writes status.loadBalancer.ingress of every Ingress it serves (SPEC §5) from
// --publish-service: that Service's load balancer addresses, else its externalIPs, else its
// clusterIP. Written through the /status subresource, and only where it differs, so a resync
// writes nothing.
import { CoreV1Api, NetworkingV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Ingress, type V1Service } from '@kubernetes/client-node';
import { canonicalJson } from '../../../config/canonical.ts';
import { logger } from '../../../common/log.ts';
import { joinNamespacedName, splitNamespacedName } from '../../../common/names.ts';
import type { Snapshot } from '../../../config/snapshot.ts';
import type { Clock, TimerHandle } from '../../../common/clock.ts';
import type { TokenBucket } from './rate-limit.ts';

const log = logger('status');

export interface LoadBalancerAddress {
  ip?: string;
  hostname?: string;
}

export interface StatusWriterOptions {
  clock: Clock;
  /** `--publish-service` NS/NAME. */
  publishService: string;
  isLeader(): boolean;
  /** The Ingresses as the informer has them (to compare before writing). */
  ingresses(): readonly V1Ingress[];
  /** How often the publish Service is read again while nothing else happens. Default 30 s. */
  resyncMs?: number;
  /** Every patch waits for a token (shared with the Event recorder). */
  limiter?: TokenBucket;
}

/** The addresses an Ingress served through `service` is reachable at. */
export function publishedAddresses(service: V1Service): LoadBalancerAddress[] {
  const lb = service.status?.loadBalancer?.ingress ?? [];
  if (lb.length > 0) return normalise(lb);
  const external = service.spec?.externalIPs ?? [];
  if (external.length > 0) return normalise(external.map((ip) => ({ ip })));
  const clusterIp = service.spec?.clusterIP;
  if (clusterIp !== undefined && clusterIp !== '' && clusterIp !== 'None') return [{ ip: clusterIp }];
  return [];
}

function normalise(addresses: readonly LoadBalancerAddress[]): LoadBalancerAddress[] {
  const out = addresses
    .map((a) => ({ ...(a.ip ? { ip: a.ip } : {}), ...(a.hostname ? { hostname: a.hostname } : {}) }))
    .filter((a) => a.ip !== undefined || a.hostname !== undefined);
  return out.sort((a, b) => `${a.ip ?? ''}/${a.hostname ?? ''}`.localeCompare(`${b.ip ?? ''}/${b.hostname ?? ''}`));
}

/** Ingresses the snapshot serves: those some route came from. */
export function servedIngresses(snapshot: Snapshot): Set<string> {
  const served = new Set<string>();
  for (const route of snapshot.routes) if (route.source !== undefined) served.add(joinNamespacedName(route.source.namespace, route.source.ingress));
  return served;
}

export class StatusWriter {
  readonly #core: CoreV1Api;
  readonly #networking: NetworkingV1Api;
  readonly #options: StatusWriterOptions;
  readonly #namespace: string;
  readonly #name: string;
  #served = new Set<string>();
  #running = false;
  #again = false;
  #timer: TimerHandle | undefined;
  #stopped = false;
  #writes = 0;
  /** Per Ingress: the addresses last written and the resourceVersion the cache had before. */
  readonly #pending = new Map<string, { wanted: string; before: string | undefined }>();

  constructor(kc: KubeConfig, options: StatusWriterOptions) {
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#networking = kc.makeApiClient(NetworkingV1Api);
    this.#options = options;
    const reference = splitNamespacedName(options.publishService);
    this.#namespace = reference?.namespace ?? 'default';
    this.#name = reference?.name ?? '';
  }

  get writes(): number {
    return this.#writes;
  }

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

  /** A translation's snapshot: which Ingresses are served now. */
  update(snapshot: Snapshot): void {
    this.#served = servedIngresses(snapshot);
    this.sync();
  }

  /** Reconciles soon; runs one at a time, and once more if asked while running. */
  sync(): void {
    if (this.#stopped || !this.#options.isLeader()) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    void this.#reconcile().finally(() => {
      this.#running = false;
      if (this.#again) {
        this.#again = false;
        this.sync();
      }
    });
  }

  async #reconcile(): Promise<void> {
    let service: V1Service;
    try {
      service = await this.#core.readNamespacedService({ name: this.#name, namespace: this.#namespace });
    } catch (error) {
      log.warn({ err: error, publishService: this.#options.publishService }, 'cannot read the publish Service; Ingress status unchanged');
      return;
    }
    const desired = publishedAddresses(service);
    const wanted = canonicalJson(desired);
    for (const ingress of this.#options.ingresses()) {
      if (this.#stopped || !this.#options.isLeader()) return;
      const namespace = ingress.metadata?.namespace ?? 'default';
      const name = ingress.metadata?.name ?? '';
      const key = joinNamespacedName(namespace, name);
      if (!this.#served.has(key)) continue;
      if (canonicalJson(normalise(ingress.status?.loadBalancer?.ingress ?? [])) === wanted) continue;
      // Written already and the informer has not seen our own write yet: not a difference.
      const pending = this.#pending.get(key);
      if (pending !== undefined && pending.wanted === wanted && pending.before === ingress.metadata?.resourceVersion) continue;
      try {
        await this.#options.limiter?.take();
        if (this.#stopped || !this.#options.isLeader()) return;
        await this.#networking.patchNamespacedIngressStatus(
          { name, namespace, body: { status: { loadBalancer: { ingress: desired } } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        this.#writes += 1;
        this.#pending.set(key, { wanted, before: ingress.metadata?.resourceVersion });
        log.info({ ingress: key, addresses: desired }, 'Ingress status written');
      } catch (error) {
        log.warn({ err: error, ingress: key }, 'cannot write Ingress status');
      }
    }
  }
}

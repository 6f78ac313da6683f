// Leader election with a coordination.k8s.io/v1 Lease (SPEC §5): one wsgate pod at a time writes
// Events and Ingress status. The Lease is read, then created or updated with its resourceVersion,
// so two candidates racing for it cannot both win (the loser gets 409 Conflict). A holder that
// stops renewing loses the Lease once leaseDuration has passed since its last renewTime; one that
// stops (SIGTERM in a roll) releases it, as client-go's ReleaseOnCancel does, so another replica
// takes over at its next retry instead of after a whole lease duration without status or Events.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { logger } from '../../../common/log.ts';
import { statusCode } from '../../../common/names.ts';
import type { Clock, TimerHandle } from '../../../common/clock.ts';

const log = logger('leader');

export interface LeaderOptions {
  namespace: string;
  /** `wsgate-<ingress-class>`. */
  name: string;
  identity: string;
  clock: Clock;
  /** Default 15 s, as client-go's leader election. */
  leaseDurationMs?: number;
  /** How often the leader renews. Default 5 s. */
  renewIntervalMs?: number;
  /** How often a follower tries to take the Lease. Default 2 s. */
  retryIntervalMs?: number;
  onChange?(leading: boolean): void;
}

/** Lease times arrive as strings: client-node's deserialiser does not know its own V1MicroTime. */
function millis(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

const RELEASE_TIMEOUT_MS = 2000;

export class LeaderElector {
  readonly #api: CoordinationV1Api;
  readonly #options: LeaderOptions;
  readonly #leaseDurationMs: number;
  #leading = false;
  /** Local time of the last successful acquire or renew. */
  #renewedAt = 0;
  #timer: TimerHandle | undefined;
  #stopped = false;
  /** The round in flight, so stop() releases only after its last renew has landed. */
  #inflight: Promise<void> = Promise.resolve();
  readonly #listeners: Array<(leading: boolean) => void> = [];

  constructor(kc: KubeConfig, options: LeaderOptions) {
    this.#api = kc.makeApiClient(CoordinationV1Api);
    this.#options = options;
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Also tells `listener` of every change, for parts built after the elector. */
  onChange(listener: (leading: boolean) => void): void {
    this.#listeners.push(listener);
  }

  start(): void {
    this.#schedule();
  }

  /** Stops campaigning; a leader releases the Lease (resolves once that is done or has failed). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#inflight;
    const wasLeading = this.#leading;
    this.#set(false);
    if (wasLeading) await this.#release();
  }

  #schedule(): void {
    this.#inflight = this.#round();
  }

  /**
   * client-go's release: holder cleared, a 1 s duration, renewTime now; any candidate takes a
   * Lease with no holder at once. Bounded, so an unreachable API server cannot hold up shutdown;
   * the Lease then simply expires.
   */
  async #release(): Promise<void> {
    const { namespace, name, identity } = this.#options;
    const attempt = (async () => {
      const lease = await this.#api.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== identity) return;
      const now = new V1MicroTime(this.#options.clock.now());
      await this.#api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          metadata: { name, namespace, resourceVersion: lease.metadata?.resourceVersion },
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now },
        },
      });
      log.info({ lease: `${namespace}/${name}`, identity }, 'leader Lease released');
    })();
    // Past the timeout nobody awaits it: a late failure must not become an unhandled rejection.
    attempt.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        log.warn({ lease: `${namespace}/${name}` }, 'leader Lease not released in time; it expires on its own');
        resolve();
      }, RELEASE_TIMEOUT_MS);
      timer.unref();
    });
    try {
      await Promise.race([attempt, timeout]);
    } catch (error) {
      log.warn({ err: error, lease: `${namespace}/${name}` }, 'leader Lease not released; it expires on its own');
    } finally {
      clearTimeout(timer);
    }
  }

  async #round(): Promise<void> {
    if (this.#stopped) return;
    try {
      this.#set(await this.#tryAcquireOrRenew());
    } catch (error) {
      // The API is unreachable: a leader stays one until its Lease would have expired for others.
      log.warn({ err: error, lease: this.#options.name }, 'leader election round failed');
      if (this.#leading && this.#options.clock.now() - this.#renewedAt >= this.#leaseDurationMs) this.#set(false);
    }
    if (this.#stopped) return;
    const next = this.#leading ? (this.#options.renewIntervalMs ?? 5_000) : (this.#options.retryIntervalMs ?? 2_000);
    this.#timer = this.#options.clock.after(next, () => this.#schedule());
  }

  #spec(lease: V1Lease | undefined, acquiring: boolean): V1Lease['spec'] {
    const now = new V1MicroTime(this.#options.clock.now());
    const previous = lease?.spec;
    return {
      holderIdentity: this.#options.identity,
      leaseDurationSeconds: Math.ceil(this.#leaseDurationMs / 1000),
      acquireTime: acquiring ? now : new V1MicroTime(millis(previous?.acquireTime) ?? now.getTime()),
      renewTime: now,
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (acquiring && previous !== undefined ? 1 : 0),
    };
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.#options;
    let lease: V1Lease | undefined;
    try {
      lease = await this.#api.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (statusCode(error) !== 404) throw error;
    }
    if (lease === undefined) {
      try {
        await this.#api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: this.#spec(undefined, true) } });
      } catch (error) {
        if (statusCode(error) === 409) return false;
        throw error;
      }
      this.#renewedAt = this.#options.clock.now();
      return true;
    }
    const spec = lease.spec ?? {};
    const mine = spec.holderIdentity === identity;
    if (!mine) {
      const renewed = millis(spec.renewTime) ?? 0;
      const durationMs = (spec.leaseDurationSeconds ?? Math.ceil(this.#leaseDurationMs / 1000)) * 1000;
      const held = spec.holderIdentity !== undefined && spec.holderIdentity !== '' && renewed + durationMs > this.#options.clock.now();
      if (held) return false;
    }
    try {
      await this.#api.replaceNamespacedLease({
        name,
        namespace,
        body: { metadata: { name, namespace, resourceVersion: lease.metadata?.resourceVersion }, spec: this.#spec(lease, !mine) },
      });
    } catch (error) {
      if (statusCode(error) === 409) return false;
      throw error;
    }
    this.#renewedAt = this.#options.clock.now();
    return true;
  }

  #set(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    log.info({ lease: `${this.#options.namespace}/${this.#options.name}`, identity: this.#options.identity, leading }, leading ? 'became leader' : 'no longer leader');
    this.#options.onChange?.(leading);
    for (const listener of this.#listeners) listener(leading);
  }
}

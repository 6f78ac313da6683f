// The controller assembled: informers -> store -> debounced translate -> a sink, plus the
// leader-only writers (Events, Ingress status). `wsgate run` and `wsgate controller` differ only
// in the sink; tests and the bench start it in-process the same way. Built in order: each part
// gets only what exists already, and the store and the elector are told of their listeners after.
import type { KubeConfig } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../../common/clock.ts';
import type { SnapshotSink } from '../provider.ts';
import { SnapshotSync } from './sync.ts';
import { EventRecorder } from './writers/events.ts';
import { LeaderElector, type LeaderOptions } from './writers/leader.ts';
import { StatusWriter } from './writers/status.ts';
import { GatewayStatusWriter } from './gateway/status.ts';
import { TokenBucket, type RateLimit } from './writers/rate-limit.ts';
import { ClusterStore } from './informers/store.ts';
import type { KindCondition, WatcherOptions } from './informers/watcher.ts';
import type { WsgateMetrics } from '../../metrics/metrics.ts';

export interface KubernetesControllerOptions {
  ingressClass: string;
  watchNamespace?: string;
  defaultCertSecret?: string;
  affinitySecret?: string;
  publishService?: string;
  /** Namespace of the leader Lease `wsgate-<ingress-class>`. */
  electionNamespace: string;
  identity: string;
  clock?: Clock;
  quietMs?: number;
  maxDelayMs?: number;
  watcher?: Omit<WatcherOptions, 'clock'>;
  leader?: Pick<LeaderOptions, 'leaseDurationMs' | 'renewIntervalMs' | 'retryIntervalMs'>;
  statusResyncMs?: number;
  /** How often an absent Gateway API is probed again (default 30 s). */
  gatewayProbeMs?: number;
  /** `--kube-api-qps` / `--kube-api-burst`: the writes' token bucket (client-go's 20 / 30 by default). */
  writeLimit?: RateLimit;
  /** SPEC §9: wsgate_controller_sync_errors_total{kind} is counted here when given. */
  metrics?: WsgateMetrics;
}

export interface KubernetesController {
  store: ClusterStore;
  /** The writes' token bucket (Events and status patches). */
  limiter: TokenBucket;
  sync: SnapshotSync;
  events: EventRecorder;
  leader: LeaderElector;
  status: StatusWriter | undefined;
  /** Gateway API status (GatewayClass, Gateway, HTTPRoute); writes only while leading. */
  gatewayStatus: GatewayStatusWriter;
  /** Every kind has listed (or is unavailable, served as empty) and the first snapshot has been accepted. */
  ready(): boolean;
  /** /readyz?verbose lines: one per kind (`Secret: unavailable since ...: HTTP 403: ...`). */
  conditions(): string[];
  stop(): Promise<void>;
}

/** `Secret: unavailable since 2026-12-02T01:00:00.000Z (HTTP 403: ...), 12 errors`; `Ingress: listed`. */
export function conditionLine(condition: KindCondition): string {
  const since = condition.since === undefined ? '' : ` since ${condition.since}`;
  const why = condition.lastError === undefined ? '' : ` (${condition.lastError})`;
  const errors = condition.errors === 0 ? '' : `, ${condition.errors} error${condition.errors === 1 ? '' : 's'} so far`;
  return `${condition.kind}: ${condition.state}${since}${why}${errors}`;
}

export function startKubernetesController(kc: KubeConfig, options: KubernetesControllerOptions, sink: SnapshotSink): KubernetesController {
  const clock = options.clock ?? systemClock;
  const syncErrors = options.metrics?.controllerSyncErrors();
  const store = new ClusterStore(kc, {
    clock,
    ...(options.watchNamespace === undefined ? {} : { watchNamespace: options.watchNamespace }),
    ...(options.defaultCertSecret === undefined ? {} : { defaultCertSecret: options.defaultCertSecret }),
    ...(options.affinitySecret === undefined ? {} : { affinitySecret: options.affinitySecret }),
    ...(options.gatewayProbeMs === undefined ? {} : { gatewayProbeMs: options.gatewayProbeMs }),
    watcher: {
      ...options.watcher,
      onError: (kind, error) => {
        syncErrors?.inc({ kind });
        options.watcher?.onError?.(kind, error);
      },
    },
  });
  const leader = new LeaderElector(kc, {
    namespace: options.electionNamespace,
    name: `wsgate-${options.ingressClass}`,
    identity: options.identity,
    clock,
    ...options.leader,
  });
  const isLeader = (): boolean => leader.leading;
  const limiter = new TokenBucket(clock, options.writeLimit);
  const events = new EventRecorder(kc, {
    clock,
    instance: options.identity,
    isLeader,
    limiter,
    ...(options.watchNamespace === undefined ? {} : { watchNamespace: options.watchNamespace }),
  });
  const status =
    options.publishService === undefined
      ? undefined
      : new StatusWriter(kc, {
          clock,
          publishService: options.publishService,
          isLeader,
          ingresses: () => store.resources().ingresses,
          limiter,
          ...(options.statusResyncMs === undefined ? {} : { resyncMs: options.statusResyncMs }),
        });
  const gatewayStatus = new GatewayStatusWriter(kc, {
    clock,
    ...(options.publishService === undefined ? {} : { publishService: options.publishService }),
    isLeader,
    current: () => store.gateway.resources(),
    limiter,
    ...(options.statusResyncMs === undefined ? {} : { resyncMs: options.statusResyncMs }),
  });
  let accepted = false;
  const sync = new SnapshotSync(store, {
    clock,
    ingressClass: options.ingressClass,
    ...(options.defaultCertSecret === undefined ? {} : { defaultCertSecret: options.defaultCertSecret }),
    ...(options.affinitySecret === undefined ? {} : { affinitySecret: options.affinitySecret }),
    ...(options.quietMs === undefined ? {} : { quietMs: options.quietMs }),
    ...(options.maxDelayMs === undefined ? {} : { maxDelayMs: options.maxDelayMs }),
    sink: {
      async accept(snapshot, hash) {
        await sink.accept(snapshot, hash);
        accepted = true;
      },
      refuse: (issues) => sink.refuse(issues),
    },
    translated: (diagnostics, snapshot, result) => {
      events.record(diagnostics);
      status?.update(snapshot);
      gatewayStatus.update(result.gatewayStatuses);
    },
  });
  store.onChange((change) => sync.notify(change));
  leader.onChange((leading) => {
    if (!leading) return;
    events.leadershipChanged();
    status?.sync();
    gatewayStatus.sync();
  });
  store.start();
  leader.start();
  status?.start();
  gatewayStatus.start();
  return {
    store,
    limiter,
    sync,
    events,
    leader,
    status,
    gatewayStatus,
    ready: () => store.synced() && accepted,
    conditions: () => store.conditions().map(conditionLine),
    async stop() {
      sync.close();
      // First: the Lease goes to another replica while this one finishes up.
      await leader.stop();
      status?.stop();
      gatewayStatus.stop();
      await store.stop();
      await sync.settled();
      await events.idle();
    },
  };
}

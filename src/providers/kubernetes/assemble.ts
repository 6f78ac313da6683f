// The controller assembled: informers -> store -> debounced translate -> a sink, plus the
// leader-only writers (Events, Ingress status). `wsgate run` and `wsgate controller` differ only
// in the sink; tests and the bench start it in-process the same way.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Snapshot } from '../../config/snapshot.ts';
import type { Diagnostic } from '../../translate/types.ts';
import { systemClock, type Clock } from '../../common/clock.ts';
import { Controller } from './sync.ts';
import { EventRecorder } from './writers/events.ts';
import { LeaderElector, type LeaderOptions } from './writers/leader.ts';
import { StatusWriter } from './writers/status.ts';
import { ClusterStore } from './informers/store.ts';
import type { WatcherOptions } from './informers/watcher.ts';

export interface SnapshotSink {
  deliver(snapshot: Snapshot, hash: string): void | Promise<void>;
  refused?(errors: string[]): void;
}

export interface KubernetesControllerOptions {
  ingressClass: string;
  watchNamespace?: string;
  defaultCertSecret?: string;
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
}

export interface KubernetesController {
  store: ClusterStore;
  controller: Controller;
  events: EventRecorder;
  leader: LeaderElector;
  status: StatusWriter | undefined;
  /** Every kind has listed and the first snapshot has been delivered. */
  ready(): boolean;
  stop(): Promise<void>;
}

export function startKubernetesController(kc: KubeConfig, options: KubernetesControllerOptions, sink: SnapshotSink): KubernetesController {
  const clock = options.clock ?? systemClock;
  let delivered = false;
  // The parts refer to each other through this, since each is built after another needs it.
  const late: { leader?: LeaderElector; store?: ClusterStore; controller?: Controller } = {};
  const isLeader = (): boolean => late.leader?.leading ?? false;
  const events = new EventRecorder(kc, { clock, instance: options.identity, isLeader });
  const status =
    options.publishService === undefined
      ? undefined
      : new StatusWriter(kc, {
          clock,
          publishService: options.publishService,
          isLeader,
          ingresses: () => late.store?.resources().ingresses ?? [],
          ...(options.statusResyncMs === undefined ? {} : { resyncMs: options.statusResyncMs }),
        });
  const store = new ClusterStore(
    kc,
    {
      clock,
      ...(options.watchNamespace === undefined ? {} : { watchNamespace: options.watchNamespace }),
      ...(options.defaultCertSecret === undefined ? {} : { defaultCertSecret: options.defaultCertSecret }),
      ...(options.watcher === undefined ? {} : { watcher: options.watcher }),
    },
    () => late.controller?.notify(),
  );
  late.store = store;
  const controller = new Controller(store, {
    clock,
    ingressClass: options.ingressClass,
    ...(options.defaultCertSecret === undefined ? {} : { defaultCertSecret: options.defaultCertSecret }),
    ...(options.quietMs === undefined ? {} : { quietMs: options.quietMs }),
    ...(options.maxDelayMs === undefined ? {} : { maxDelayMs: options.maxDelayMs }),
    deliver: async (snapshot, hash) => {
      await sink.deliver(snapshot, hash);
      delivered = true;
    },
    refused: (errors) => sink.refused?.(errors),
    diagnosed: (diagnostics: Diagnostic[]) => {
      events.record(diagnostics);
      status?.update(diagnostics);
    },
  });
  late.controller = controller;
  const leader = new LeaderElector(kc, {
    namespace: options.electionNamespace,
    name: `wsgate-${options.ingressClass}`,
    identity: options.identity,
    clock,
    ...options.leader,
    onChange: (leading) => {
      if (!leading) return;
      events.leadershipChanged();
      status?.sync();
    },
  });
  late.leader = leader;
  store.start();
  leader.start();
  status?.start();
  return {
    store,
    controller,
    events,
    leader,
    status,
    ready: () => store.synced() && delivered,
    async stop() {
      controller.close();
      leader.stop();
      status?.stop();
      await store.stop();
      await controller.settled();
      await events.idle();
    },
  };
}

// --workers N (SPEC §3): N worker processes (node:cluster) share the listening ports. The
// primary owns everything that must be one per pod: the snapshot source, the admin port with one
// aggregated /metrics, connection limits and least-conn counts (workers/admission.ts), the
// default certificate and the TLS session-ticket keys. Workers only serve traffic and apply what
// the primary sends.
import cluster, { type Worker } from 'node:cluster';
import { withDataPlaneFlags } from '../v8-flags.ts';
import { redactSnapshot } from '../../config/redact.ts';
import type { Snapshot } from '../../config/snapshot.ts';
import { startAdminServer } from '../../admin/server.ts';
import { createTicketKeys, selfSignedDefault } from '../../dataplane/listen/tls.ts';
import { logger } from '../../common/log.ts';
import { clusterMetricsText } from '../../metrics/worker-aggregation.ts';
import { WsgateMetrics } from '../../metrics/metrics.ts';
import type { ProxyProcessOptions } from '../single-process.ts';
import { reportFailure, type Serving } from '../serving.ts';
import { runShutdown } from '../shutdown.ts';
import { EndpointCountsFanOut, HeldAdmission } from './admission.ts';
import { FALLBACK_KEY_ENV, newFallbackKey } from '../../dataplane/upstream/affinity.ts';
import { isChannelMessage, sendToWorker, type ToPrimary, type ToWorker } from './messages.ts';

const log = logger('workers');
const POD_FALLBACK_KEY = process.env[FALLBACK_KEY_ENV] || newFallbackKey();

export type ClusterPrimary = Serving;

interface WorkerState {
  worker: Worker;
  appliedHash?: string;
  listening: boolean;
}

type Current = { snapshot: Snapshot; hash: string };

/** The forked workers: kept at N (a dead one is replaced) until stop(). */
class WorkerSet {
  readonly #states = new Map<number, WorkerState>();
  readonly #admission = new HeldAdmission();
  readonly #counts = new EndpointCountsFanOut();
  readonly #init: Extract<ToWorker, { type: 'wsgate:init' }>;
  readonly #current: () => Current | undefined;
  #stopping = false;
  #exits: Promise<void> = Promise.resolve();

  constructor(init: Extract<ToWorker, { type: 'wsgate:init' }>, current: () => Current | undefined) {
    this.#init = init;
    this.#current = current;
  }

  get size(): number {
    return this.#states.size;
  }

  fork(): void {
    cluster.setupPrimary({ execArgv: withDataPlaneFlags(process.execArgv) });
    // One cookie-affinity fallback key for all of this pod's workers (dataplane/upstream/affinity.ts).
    const worker = cluster.fork({ WSGATE_WORKER: '1', [FALLBACK_KEY_ENV]: POD_FALLBACK_KEY });
    const state: WorkerState = { worker, listening: false };
    this.#states.set(worker.id, state);
    worker.on('message', (message: unknown) => {
      if (isChannelMessage(message)) this.#handle(state, message as ToPrimary);
    });
    worker.on('exit', (code, signal) => this.#exited(worker, code, signal));
  }

  /** The snapshot goes to every worker that listens; the others get it when they do. */
  broadcast(current: Current): void {
    for (const state of this.#states.values()) if (state.listening) sendToWorker(state.worker, { type: 'wsgate:snapshot', ...current });
  }

  /** Every worker listens and serves `hash`. */
  allServe(hash: string): boolean {
    return [...this.#states.values()].every((s) => s.listening && s.appliedHash === hash);
  }

  /** Tells every worker to close with 1001; exited() resolves when all are gone. */
  stop(): void {
    this.#stopping = true;
    const states = [...this.#states.values()];
    this.#exits = Promise.all(states.map((s) => new Promise<void>((resolve) => s.worker.once('exit', () => resolve())))).then(() => {});
    for (const state of states) sendToWorker(state.worker, { type: 'wsgate:shutdown' });
  }

  exited(): Promise<void> {
    return this.#exits;
  }

  kill(): void {
    for (const state of this.#states.values()) state.worker.process.kill('SIGKILL');
  }

  #handle(state: WorkerState, message: ToPrimary): void {
    const { worker } = state;
    switch (message.type) {
      case 'wsgate:hello':
        sendToWorker(worker, this.#init);
        break;
      case 'wsgate:listening': {
        // Only now does the worker listen for snapshots: earlier messages would be lost.
        state.listening = true;
        const current = this.#current();
        if (current) sendToWorker(worker, { type: 'wsgate:snapshot', ...current });
        break;
      }
      case 'wsgate:applied':
        state.appliedHash = message.hash;
        break;
      case 'wsgate:acquire':
        sendToWorker(worker, { type: 'wsgate:acquired', id: message.id, result: this.#admission.acquire(worker.id, message) });
        break;
      case 'wsgate:release':
        this.#admission.release(worker.id, message.group, message.ip);
        break;
      case 'wsgate:counts':
        this.#counts.update(worker.id, message.counts);
        for (const target of this.#states.values()) sendToWorker(target.worker, { type: 'wsgate:remote-counts', counts: this.#counts.othersOf(target.worker.id) });
        break;
    }
  }

  #exited(worker: Worker, code: number | null, signal: string | null): void {
    this.#states.delete(worker.id);
    this.#counts.drop(worker.id);
    this.#admission.releaseAll(worker.id);
    if (this.#stopping) return;
    log.error({ worker: worker.id, code, signal }, 'worker died: starting another');
    this.fork();
  }
}

export async function startClusterPrimary(options: ProxyProcessOptions & { workers: number }): Promise<ClusterPrimary> {
  const metrics = new WsgateMetrics();
  let current: Current | undefined;
  let draining = false;
  const init = {
    type: 'wsgate:init' as const,
    defaultCertificate: options.defaultCertificate ?? (await selfSignedDefault()),
    ticketKeys: createTicketKeys().toString('hex'),
  };
  const workers = new WorkerSet(init, () => current);
  for (let i = 0; i < options.workers; i++) workers.fork();

  const accept = (snapshot: Snapshot, hash: string): void => {
    if (current?.hash === hash) {
      metrics.configUnchanged();
      return;
    }
    current = { snapshot, hash };
    metrics.configReload(true);
    workers.broadcast(current);
    log.info({ hash, workers: workers.size }, 'snapshot sent to workers');
  };
  let conditions = (): string[] => [];
  const ready = (): boolean => !draining && current !== undefined && workers.size === options.workers && workers.allServe(current.hash);
  const admin = await startAdminServer({
    port: options.adminPort,
    host: options.adminBindAddress ?? options.bindAddress,
    exposeConfig: options.exposeConfig ?? false,
    sources: {
      metricsText: () => clusterMetricsText({ local: metrics }),
      isReady: ready,
      config: () => (current ? redactSnapshot(current.snapshot) : undefined),
      conditions: () => conditions(),
    },
  });

  return {
    ports: { httpPort: options.httpPort, httpsPort: options.httpsPort, adminPort: admin.port },
    ready,
    metrics,
    showConditions: (source) => {
      conditions = source;
    },
    accept,
    refuse: (issues) => reportFailure(metrics, issues),
    shutdown: () =>
      runShutdown({
        delayMs: options.shutdownDelayMs,
        timeoutMs: options.shutdownTimeoutMs,
        beginDraining: () => {
          draining = true;
        },
        // The listeners and connections are the workers': each closes its own with 1001.
        stopAccepting: async () => workers.stop(),
        closeConnections: () => {},
        whenIdle: () => workers.exited(),
        finish: async () => {
          workers.kill();
          await admin.close();
        },
      }),
  };
}

// --workers N (SPEC §3): N worker processes (node:cluster) share the listening ports. The
// primary owns everything that must be one per pod: the snapshot source and its validation,
// the admin port with one aggregated /metrics, connection limits (SPEC §6 max-connections is
// per pod), the least-conn counts every worker sees, the default certificate and the TLS
// session-ticket keys. Workers only serve traffic and apply what the primary sends.
import cluster, { type Worker } from 'node:cluster';
import { redactSnapshot } from '../config/codec.ts';
import type { Snapshot } from '../config/snapshot.ts';
import { startAdminServer } from '../admin/server.ts';
import { ConnectionLimits } from '../dataplane/admission/limits.ts';
import type { Admission, AdmissionResult } from '../dataplane/admission/admission.ts';
import { generateSelfSigned } from '../certs/selfsigned.ts';
import { DEFAULT_CERTIFICATE_NAME, createTicketKeys } from '../dataplane/listen/tls.ts';
import { logger } from '../common/log.ts';
import { clusterMetricsText, serveWorkerMetrics } from '../metrics/worker-aggregation.ts';
import { WsgateMetrics } from '../metrics/metrics.ts';
import { startProxyProcess, type ProxyProcessOptions } from './single-process.ts';
import { reportFailure, type Serving } from './serving.ts';

const log = logger('workers');

/** How often a worker tells the primary its open connections per endpoint (least-conn). */
const COUNTS_INTERVAL_MS = 250;

type ToWorker =
  | { t: 'init'; defaultCertificate: { cert: string; key: string }; ticketKeys: string }
  | { t: 'snapshot'; snapshot: Snapshot; hash: string }
  | { t: 'acquired'; id: number; result: AdmissionResult }
  | { t: 'remote-counts'; counts: Array<[string, number]> }
  | { t: 'shutdown' };

type ToPrimary =
  | { t: 'hello' }
  | { t: 'listening' }
  | { t: 'applied'; hash: string }
  | { t: 'acquire'; id: number; group: string; max?: number; ip: string; perClient?: number }
  | { t: 'release'; group: string; ip: string }
  | { t: 'counts'; counts: Array<[string, number]> };

function isOurs(message: unknown): message is { t: string } {
  return typeof message === 'object' && message !== null && typeof (message as { t?: unknown }).t === 'string';
}

export type ClusterPrimary = Serving;

interface WorkerState {
  worker: Worker;
  appliedHash?: string;
  listening: boolean;
  counts: Map<string, number>;
  /** Limits held for this worker, given back if it dies. */
  held: Map<string, number>;
}

export async function startClusterPrimary(options: ProxyProcessOptions & { workers: number }): Promise<ClusterPrimary> {
  const metrics = new WsgateMetrics();
  const limits = new ConnectionLimits();
  const defaultCertificate = options.defaultCertificate ?? (await generateSelfSigned({ hosts: [], commonName: DEFAULT_CERTIFICATE_NAME, keyType: 'ecdsa' }));
  const ticketKeys = createTicketKeys().toString('hex');
  const states = new Map<number, WorkerState>();
  let current: { snapshot: Snapshot; hash: string } | undefined;
  let draining = false;
  let stopping = false;

  const send = (worker: Worker, message: ToWorker): void => {
    if (worker.isConnected()) worker.send(message);
  };

  const fork = (): void => {
    const worker = cluster.fork({ WSGATE_WORKER: '1' });
    const state: WorkerState = { worker, listening: false, counts: new Map(), held: new Map() };
    states.set(worker.id, state);
    worker.on('message', (message: unknown) => {
      if (!isOurs(message)) return;
      const m = message as ToPrimary;
      switch (m.t) {
        case 'hello':
          send(worker, { t: 'init', defaultCertificate, ticketKeys });
          break;
        case 'listening':
          // Only now does the worker listen for snapshots: earlier messages would be lost.
          state.listening = true;
          if (current) send(worker, { t: 'snapshot', ...current });
          break;
        case 'applied':
          state.appliedHash = m.hash;
          break;
        case 'acquire': {
          const result = limits.tryAcquire(m.group, m.max, m.ip, m.perClient);
          if (result === 'ok') {
            const key = `${m.group}\n${m.ip}`;
            state.held.set(key, (state.held.get(key) ?? 0) + 1);
          }
          send(worker, { t: 'acquired', id: m.id, result });
          break;
        }
        case 'release': {
          const key = `${m.group}\n${m.ip}`;
          const n = state.held.get(key) ?? 0;
          if (n > 0) {
            limits.release(m.group, m.ip);
            if (n === 1) state.held.delete(key);
            else state.held.set(key, n - 1);
          }
          break;
        }
        case 'counts':
          state.counts = new Map(m.counts);
          broadcastRemoteCounts();
          break;
      }
    });
    worker.on('exit', (code, signal) => {
      states.delete(worker.id);
      for (const [key, n] of state.held) {
        const [group, ip] = key.split('\n') as [string, string];
        for (let i = 0; i < n; i++) limits.release(group, ip);
      }
      if (!stopping) {
        log.error({ worker: worker.id, code, signal }, 'worker died: starting another');
        fork();
      }
    });
  };

  // Each worker learns the sum of the others' counts; its own it knows exactly.
  const broadcastRemoteCounts = (): void => {
    for (const target of states.values()) {
      const sum = new Map<string, number>();
      for (const other of states.values()) {
        if (other === target) continue;
        for (const [key, n] of other.counts) sum.set(key, (sum.get(key) ?? 0) + n);
      }
      send(target.worker, { t: 'remote-counts', counts: [...sum] });
    }
  };

  for (let i = 0; i < options.workers; i++) fork();

  const accept = (snapshot: Snapshot, hash: string): void => {
    if (current?.hash === hash) return;
    current = { snapshot, hash };
    metrics.configReload(true);
    for (const state of states.values()) if (state.listening) send(state.worker, { t: 'snapshot', snapshot, hash });
    log.info({ hash, workers: states.size }, 'snapshot sent to workers');
  };
  const ready = (): boolean =>
    !draining && current !== undefined && states.size === options.workers && [...states.values()].every((s) => s.listening && s.appliedHash === current!.hash);

  const admin = await startAdminServer({
    port: options.adminPort,
    host: options.bindAddress,
    sources: {
      metricsText: () => clusterMetricsText({ local: metrics }),
      isReady: ready,
      config: () => (current ? redactSnapshot(current.snapshot) : undefined),
    },
  });

  return {
    ports: { httpPort: options.httpPort, httpsPort: options.httpsPort, adminPort: admin.port },
    ready,
    accept,
    refuse: (issues) => reportFailure(metrics, issues),
    shutdown: async () => {
      const started = Date.now();
      draining = true;
      log.info({ delayMs: options.shutdownDelayMs }, 'shutdown: readiness off, still accepting');
      await new Promise((r) => setTimeout(r, Math.min(options.shutdownDelayMs, options.shutdownTimeoutMs)));
      stopping = true;
      const exits = [...states.values()].map((s) => new Promise<void>((resolve) => s.worker.once('exit', () => resolve())));
      for (const state of states.values()) send(state.worker, { t: 'shutdown' });
      const left = Math.max(0, options.shutdownTimeoutMs - (Date.now() - started));
      const outcome = await Promise.race([
        Promise.all(exits).then(() => 'idle' as const),
        new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), left).unref()),
      ]);
      for (const state of states.values()) state.worker.process.kill('SIGKILL');
      await admin.close();
      log.info({ outcome }, 'shutdown: done');
      return outcome;
    },
  };
}

/** The worker side: serve traffic with what the primary sends. Returns when shut down. */
export async function runClusterWorker(options: ProxyProcessOptions): Promise<void> {
  const toPrimary = (message: ToPrimary): void => {
    if (process.connected) process.send!(message);
  };
  // Signals are the primary's business; a worker follows its `shutdown` message.
  process.on('SIGTERM', () => {});
  process.on('SIGINT', () => {});

  const pending = new Map<number, (result: AdmissionResult) => void>();
  let nextId = 0;
  const admission: Admission = {
    acquire: (group, max, ip, perClient) =>
      new Promise<AdmissionResult>((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        toPrimary({ t: 'acquire', id, group, max, ip, perClient });
      }),
    release: (group, ip) => toPrimary({ t: 'release', group, ip }),
  };

  const init = await new Promise<Extract<ToWorker, { t: 'init' }>>((resolve) => {
    const onInit = (message: unknown): void => {
      if (isOurs(message) && message.t === 'init') {
        process.off('message', onInit);
        resolve(message as Extract<ToWorker, { t: 'init' }>);
      }
    };
    process.on('message', onInit);
    toPrimary({ t: 'hello' });
  });

  const metrics = new WsgateMetrics();
  serveWorkerMetrics(metrics);
  const proxy = await startProxyProcess({
    ...options,
    metrics,
    admission,
    admin: false,
    defaultCertificate: init.defaultCertificate,
    ticketKeys: Buffer.from(init.ticketKeys, 'hex'),
  });

  let lastCounts = '';
  const countsTimer = setInterval(() => {
    const counts = [...proxy.dataplane.registry.localCounts()];
    const text = JSON.stringify(counts);
    if (text !== lastCounts) {
      lastCounts = text;
      toPrimary({ t: 'counts', counts });
    }
  }, COUNTS_INTERVAL_MS);
  countsTimer.unref();

  const done = new Promise<void>((resolve) => {
    process.on('message', (message: unknown) => {
      if (!isOurs(message)) return;
      const m = message as ToWorker;
      switch (m.t) {
        case 'snapshot':
          proxy.accept(m.snapshot, m.hash);
          toPrimary({ t: 'applied', hash: m.hash });
          break;
        case 'acquired':
          pending.get(m.id)?.(m.result);
          pending.delete(m.id);
          break;
        case 'remote-counts':
          proxy.dataplane.registry.setRemoteCounts(new Map(m.counts));
          break;
        case 'shutdown':
          // The primary already waited out the shutdown delay: close now.
          void (async () => {
            await proxy.listeners.close();
            proxy.dataplane.closeAll();
            await proxy.dataplane.whenIdle();
            clearInterval(countsTimer);
            resolve();
          })();
          break;
      }
    });
    process.on('disconnect', () => resolve());
  });
  toPrimary({ t: 'listening' });
  await done;
}

export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env.WSGATE_WORKER === '1';
}

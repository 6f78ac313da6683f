// One process serving traffic: data plane, listeners, admin server, and whatever feeds it
// snapshots (a file, the Kubernetes controller, the demo). Every snapshot is validated before
// the swap; an invalid one leaves the running one in effect and counts a failed reload.
import { acceptSnapshot } from '../config/accept.ts';
import { redactSnapshot } from '../config/redact.ts';
import type { Issue } from '../config/schema.ts';
import type { Snapshot } from '../config/snapshot.ts';
import { startAdminServer, type AdminServer } from '../admin/server.ts';
import { DataPlane } from '../dataplane/state.ts';
import { ConnectionLimits } from '../dataplane/admission/limits.ts';
import type { Admission } from '../dataplane/admission/admission.ts';
import { startListeners, type Listeners } from '../dataplane/listen/server.ts';
import { CertificateStore } from '../dataplane/listen/tls.ts';
import { WsgateMetrics } from '../metrics/metrics.ts';
import { startBufferReclaimer } from './memory.ts';
import { placelessIssue, reportFailure, type Serving } from './serving.ts';
import { runShutdown } from './shutdown.ts';

export interface ProxyProcessOptions {
  httpPort: number;
  httpsPort: number;
  adminPort: number;
  bindAddress: string;
  /** The admin port's address; bindAddress when absent (SPEC §3 --admin-bind-address). */
  adminBindAddress?: string;
  /** SPEC §3 --expose-config: /config to any client, not only loopback ones. */
  exposeConfig?: boolean;
  headerTimeoutMs: number;
  shutdownDelayMs: number;
  shutdownTimeoutMs: number;
  /** --shutdown-spread (SPEC §3); absent = 0. */
  shutdownSpreadMs?: number;
  defaultCertificate?: { cert: string; key: string };
  /** Session-ticket keys shared by every worker, so TLS resumption works across them. */
  ticketKeys?: Buffer;
  metrics?: WsgateMetrics;
  /** Limits held elsewhere (the cluster primary); local by default. */
  admission?: Admission;
  /** A worker serves no admin port: the primary does, for all. */
  admin?: boolean;
  /** SPEC §3 --proxy-protocol with its trusted peers. */
  proxyProtocol?: { trustedCidrs: string[] };
}

/** What offering an unvalidated document did (tests and the demo offer documents). */
export interface Offered {
  ok: boolean;
  /** Why it was refused; structured until someone prints them. */
  errors: readonly Issue[];
  changed: boolean;
}

export interface ProxyProcess extends Serving {
  dataplane: DataPlane;
  metrics: WsgateMetrics;
  listeners: Listeners;
  /** 0 when this process serves no admin port. */
  adminPort: number;
  /** Validates (acceptSnapshot) and applies; a refused document is counted and logged. */
  offer(doc: unknown): Offered;
  /** `delayMs: 0` for a worker, whose primary already waited out the shutdown delay. */
  shutdown(override?: { delayMs: number }): Promise<'idle' | 'timeout'>;
  /** Immediate teardown for tests. */
  close(): Promise<void>;
}

export function localAdmission(limits = new ConnectionLimits()): Admission {
  return {
    acquire: (group, max, ip, perClient) => limits.tryAcquire(group, max, ip, perClient),
    release: (group, ip) => limits.release(group, ip),
  };
}

/** Snapshots into the data plane, applied by hash; a compile failure is a refusal too, never a crash. */
function snapshotIntake(dataplane: DataPlane, metrics: WsgateMetrics): Pick<ProxyProcess, 'offer' | 'accept' | 'refuse'> {
  const refuse = (issues: readonly Issue[]): void => reportFailure(metrics, issues);
  const apply = (snapshot: Snapshot, hash: string): boolean => {
    let changed: boolean;
    try {
      changed = dataplane.apply(snapshot, hash);
    } catch (error) {
      refuse([placelessIssue((error as Error).message)]);
      return false;
    }
    if (changed) metrics.configReload(true);
    else metrics.configUnchanged();
    return changed;
  };
  const offer = (doc: unknown): Offered => {
    const accepted = acceptSnapshot(doc);
    if (!accepted.ok) {
      refuse(accepted.issues);
      return { ok: false, errors: accepted.issues, changed: false };
    }
    return { ok: true, errors: [], changed: apply(accepted.snapshot, accepted.hash) };
  };
  return {
    offer,
    accept: (snapshot, hash) => {
      apply(snapshot, hash);
    },
    refuse,
  };
}

function startAdmin(options: ProxyProcessOptions, metrics: WsgateMetrics, dataplane: DataPlane, ready: () => boolean, conditions: () => string[]): Promise<AdminServer> {
  if (options.admin === false) return Promise.resolve({ port: 0, close: async () => {} });
  return startAdminServer({
    port: options.adminPort,
    host: options.adminBindAddress ?? options.bindAddress,
    exposeConfig: options.exposeConfig ?? false,
    sources: {
      metricsText: () => metrics.registry.metrics(),
      isReady: ready,
      config: () => (dataplane.current ? redactSnapshot(dataplane.current.snapshot) : undefined),
      conditions,
    },
  });
}

export async function startProxyProcess(options: ProxyProcessOptions): Promise<ProxyProcess> {
  const metrics = options.metrics ?? new WsgateMetrics();
  const certificates = await CertificateStore.create({ defaultCertificate: options.defaultCertificate, ticketKeys: options.ticketKeys });
  // Relay buffers exist only while connections do; at rest the reclaimer's timer stops.
  const reclaimer = startBufferReclaimer();
  reclaimer.pause();
  const dataplane = new DataPlane({ metrics, certificates, activity: { busy: reclaimer.resume, idle: reclaimer.pause } });
  let draining = false;
  const listeners = await startListeners(dataplane, {
    httpPort: options.httpPort,
    httpsPort: options.httpsPort,
    bindAddress: options.bindAddress,
    headerTimeoutMs: options.headerTimeoutMs,
    admission: options.admission ?? localAdmission(),
    proxyProtocol: options.proxyProtocol,
  });
  const ready = (): boolean => !draining && dataplane.current !== undefined;
  let conditions = (): string[] => [];
  const admin = await startAdmin(options, metrics, dataplane, ready, () => conditions());
  return {
    dataplane,
    metrics,
    listeners,
    adminPort: admin.port,
    ports: { httpPort: listeners.httpPort, httpsPort: listeners.httpsPort, adminPort: admin.port },
    ...snapshotIntake(dataplane, metrics),
    ready,
    showConditions: (source) => {
      conditions = source;
    },
    close: async () => {
      reclaimer.stop();
      await listeners.close();
      dataplane.closeAll();
      await admin.close();
    },
    shutdown: (override) =>
      runShutdown({
        delayMs: override?.delayMs ?? options.shutdownDelayMs,
        timeoutMs: options.shutdownTimeoutMs,
        spreadMs: options.shutdownSpreadMs ?? 0,
        beginDraining: () => {
          draining = true;
        },
        stopAccepting: () => listeners.close(),
        closeConnections: (spreadMs) => dataplane.closeAll(spreadMs),
        whenIdle: () => dataplane.whenIdle(),
        finish: async () => {
          reclaimer.stop();
          await admin.close();
        },
      }),
  };
}

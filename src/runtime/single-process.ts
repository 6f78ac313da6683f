// One process serving traffic: data plane, listeners, admin server, and whatever feeds it
// snapshots (a file, the Kubernetes controller, the demo). Every snapshot is validated before
// the swap; an invalid one leaves the running one in effect and counts a failed reload.
import { snapshotHash } from '../config/canonical.ts';
import { redactSnapshot } from '../config/redact.ts';
import type { Snapshot } from '../config/snapshot.ts';
import { validateSnapshot } from '../config/validate.ts';
import { startAdminServer } from '../admin/server.ts';
import { DataPlane } from '../dataplane/state.ts';
import { ConnectionLimits } from '../dataplane/admission/limits.ts';
import { startListeners, type Admission, type Listeners } from '../dataplane/listen/server.ts';
import { CertificateStore } from '../dataplane/listen/tls.ts';
import { logger } from '../common/log.ts';
import { WsgateMetrics } from '../metrics/metrics.ts';
import { startBufferReclaimer } from './memory.ts';
import { runShutdown } from './shutdown.ts';

const log = logger('runtime');

export interface ProxyProcessOptions {
  httpPort: number;
  httpsPort: number;
  adminPort: number;
  bindAddress: string;
  headerTimeoutMs: number;
  shutdownDelayMs: number;
  shutdownTimeoutMs: number;
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

/** What a snapshot source (file, controller, demo) feeds: the one process or the cluster primary. */
export interface SnapshotTarget {
  /** Validates and applies; refused snapshots are logged and counted. */
  offer(snapshot: Snapshot | unknown): { ok: boolean; errors: string[]; changed: boolean };
  /** A snapshot that already passed validation (the file provider validates as it loads). */
  applyValidated(snapshot: Snapshot, hash: string): boolean;
  /** A source that failed to produce a snapshot (unreadable or invalid file). */
  reportFailure(errors: string[]): void;
}

export interface ProxyProcess extends SnapshotTarget {
  dataplane: DataPlane;
  metrics: WsgateMetrics;
  listeners: Listeners;
  /** 0 when this process serves no admin port. */
  adminPort: number;
  ready(): boolean;
  shutdown(): Promise<'idle' | 'timeout'>;
  /** Immediate teardown for tests. */
  close(): Promise<void>;
}

/** SnapshotTarget.offer for any target: validate, then apply by content hash, or count a failure. */
export function validateAndApply(
  doc: Snapshot | unknown,
  applyValidated: SnapshotTarget['applyValidated'],
  reportFailure: SnapshotTarget['reportFailure'],
): ReturnType<SnapshotTarget['offer']> {
  const result = validateSnapshot(doc);
  if (!result.ok) {
    reportFailure(result.errors);
    return { ok: false, errors: result.errors, changed: false };
  }
  return { ok: true, errors: [], changed: applyValidated(result.snapshot, snapshotHash(result.snapshot)) };
}

export function localAdmission(limits = new ConnectionLimits()): Admission {
  return {
    acquire: (group, max, ip, perClient) => limits.tryAcquire(group, max, ip, perClient),
    release: (group, ip) => limits.release(group, ip),
  };
}

export async function startProxyProcess(options: ProxyProcessOptions): Promise<ProxyProcess> {
  const metrics = options.metrics ?? new WsgateMetrics();
  const certificates = await CertificateStore.create({ defaultCertificate: options.defaultCertificate, ticketKeys: options.ticketKeys });
  const dataplane = new DataPlane({ metrics, certificates });
  let draining = false;

  const applyValidated = (snapshot: Snapshot, hash: string): boolean => {
    let changed: boolean;
    try {
      changed = dataplane.apply(snapshot, hash);
    } catch (error) {
      // Compiling found what validation did not: still a refused snapshot, never a crash.
      reportFailure([(error as Error).message]);
      return false;
    }
    if (changed) metrics.configReload(true);
    return changed;
  };
  const reportFailure = (errors: string[]): void => {
    metrics.configReload(false);
    log.error({ errors }, 'snapshot refused: the running one stays in effect');
  };
  const offer = (doc: Snapshot | unknown) => validateAndApply(doc, applyValidated, reportFailure);

  const reclaimer = startBufferReclaimer();
  // Ejections expire and certificates age: keep those gauges current between reloads.
  const gaugeTimer = setInterval(() => dataplane.refreshGauges(), 5000);
  gaugeTimer.unref();

  const listeners = await startListeners(dataplane, {
    httpPort: options.httpPort,
    httpsPort: options.httpsPort,
    bindAddress: options.bindAddress,
    headerTimeoutMs: options.headerTimeoutMs,
    admission: options.admission ?? localAdmission(),
    proxyProtocol: options.proxyProtocol,
  });
  const ready = (): boolean => !draining && dataplane.current !== undefined;
  const admin =
    options.admin === false
      ? { port: 0, close: async () => {} }
      : await startAdminServer({
          port: options.adminPort,
          host: options.bindAddress,
          sources: {
            metricsText: () => metrics.registry.metrics(),
            isReady: ready,
            config: () => (dataplane.current ? redactSnapshot(dataplane.current.snapshot) : undefined),
          },
        });

  const close = async (): Promise<void> => {
    clearInterval(gaugeTimer);
    reclaimer.stop();
    await listeners.close();
    dataplane.closeAll();
    await admin.close();
  };

  return {
    dataplane,
    metrics,
    listeners,
    adminPort: admin.port,
    offer,
    applyValidated,
    reportFailure,
    ready,
    close,
    shutdown: () =>
      runShutdown({
        delayMs: options.shutdownDelayMs,
        timeoutMs: options.shutdownTimeoutMs,
        beginDraining: () => {
          draining = true;
        },
        stopAccepting: () => listeners.close(),
        closeConnections: () => dataplane.closeAll(),
        whenIdle: () => dataplane.whenIdle(),
        finish: async () => {
          clearInterval(gaugeTimer);
          await admin.close();
        },
      }),
  };
}

// `wsgate controller` (SPEC §2, §3): the Kubernetes controller alone. `--output FILE` keeps the
// snapshot file a sidecar `proxy --config FILE` serves; `--once` lists the cluster, prints the
// snapshot (private keys redacted) and exits, or with `--output FILE` writes it whole (mode 0600).
import { chmod, readFile } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { startAdminServer } from '../admin/server.ts';
import { redactSnapshot } from '../config/redact.ts';
import { writeFileAtomic } from '../config/atomic-write.ts';
import { prettyCanonicalJson, PrettyWriter } from '../config/pretty.ts';
import { acceptedCanonicalText } from '../config/incremental.ts';
import type { Snapshot } from '../config/snapshot.ts';
import { logger } from '../common/log.ts';
import { WsgateMetrics } from '../metrics/metrics.ts';
import type { SnapshotSink } from '../providers/provider.ts';
import { electionNamespace, leaderIdentity, loadKubeConfig } from '../providers/kubernetes/kubeconfig.ts';
import { diagnosticLine, translateOnce } from '../providers/kubernetes/informers/list-once.ts';
import { gatewayStatusLines } from '../providers/kubernetes/gateway/list-once.ts';
import { startKubernetesController, type KubernetesControllerOptions } from '../providers/kubernetes/assemble.ts';
import { onTerminationSignal } from '../runtime/shutdown.ts';
import type { Options } from './options.ts';
import { formatIssue } from '../config/schema.ts';

const log = logger('controller');

/** Returns an exit code with --once; -1 ("keep running") with --output. */
export async function controllerCommand(options: Options): Promise<number> {
  const kc = loadKubeConfig(options.kubeconfig);
  if (options.once) return printOnce(kc, options);
  await runFileController(kc, options);
  return -1;
}

export function controllerOptions(options: Options): KubernetesControllerOptions {
  return {
    ingressClass: options.ingressClass,
    ...(options.watchNamespace === undefined ? {} : { watchNamespace: options.watchNamespace }),
    ...(options.defaultCertSecret === undefined ? {} : { defaultCertSecret: options.defaultCertSecret }),
    ...(options.affinitySecret === undefined ? {} : { affinitySecret: options.affinitySecret }),
    ...(options.publishService === undefined ? {} : { publishService: options.publishService }),
    electionNamespace: electionNamespace(options.electionNamespace),
    identity: leaderIdentity(),
    writeLimit: { qps: options.kubeApiQps, burst: options.kubeApiBurst },
  };
}

async function printOnce(kc: KubeConfig, options: Options): Promise<number> {
  const result = await translateOnce(kc, {
    ingressClass: options.ingressClass,
    ...(options.watchNamespace === undefined ? {} : { watchNamespace: options.watchNamespace }),
    ...(options.defaultCertSecret === undefined ? {} : { defaultCertSecret: options.defaultCertSecret }),
    ...(options.affinitySecret === undefined ? {} : { affinitySecret: options.affinitySecret }),
  });
  for (const diagnostic of result.diagnostics) process.stderr.write(`${diagnosticLine(diagnostic)}\n`);
  for (const line of gatewayStatusLines(result.gatewayStatuses)) process.stderr.write(`status ${line}\n`);
  if (result.issues.length > 0) {
    for (const issue of result.issues) process.stderr.write(`invalid snapshot: ${formatIssue(issue)}\n`);
    return 1;
  }
  // The complete snapshot (keys included) goes only to a file only its owner can read; stdout
  // ends up in terminals, CI logs and tickets, so it gets what /config shows.
  if (options.output !== undefined) {
    await writeFileAtomic(options.output, prettyCanonicalJson(result.snapshot), { mode: 0o600 });
    await chmod(options.output, 0o600);
    process.stderr.write(`${options.output}: snapshot written (${result.snapshot.routes.length} routes)\n`);
    return 0;
  }
  process.stdout.write(prettyCanonicalJson(redactSnapshot(result.snapshot)));
  return 0;
}

/** A sink that keeps FILE at the latest snapshot, rewriting it only when its text changes. */
class SnapshotFileSink implements SnapshotSink {
  current: Snapshot | undefined;
  readonly #file: string;
  readonly #metrics: WsgateMetrics;
  /** The text of the pools, routes and certificates that did not change is not made again. */
  readonly #pretty = new PrettyWriter(acceptedCanonicalText);
  /** What FILE held at start, until the first snapshot is compared with it (a restart rewrites nothing). */
  #atStart: Buffer | undefined;
  /** The hash of the snapshot in FILE once this process wrote or matched it: equal hash, equal bytes. */
  #writtenHash: string | undefined;

  constructor(file: string, metrics: WsgateMetrics, atStart: Buffer | undefined) {
    this.#file = file;
    this.#metrics = metrics;
    this.#atStart = atStart;
  }

  async accept(snapshot: Snapshot, hash: string): Promise<void> {
    if (hash !== this.#writtenHash) {
      const text = this.#pretty.bytes(snapshot);
      const atStart = this.#atStart;
      this.#atStart = undefined;
      if (atStart === undefined || !text.equals(atStart)) {
        await writeFileAtomic(this.#file, text);
        this.#metrics.configReload(true);
        log.info({ file: this.#file, hash: hash.slice(0, 12) }, 'snapshot written');
      } else {
        this.#metrics.configUnchanged();
      }
      this.#writtenHash = hash;
    } else {
      this.#metrics.configUnchanged();
    }
    this.current = snapshot;
  }

  refuse(): void {
    this.#metrics.configReload(false);
  }
}

async function runFileController(kc: KubeConfig, options: Options): Promise<void> {
  const file = options.output!;
  const metrics = new WsgateMetrics();
  // A restarted controller that produces what the file already holds does not touch it.
  const sink = new SnapshotFileSink(file, metrics, await readFile(file).catch(() => undefined));
  const controller = startKubernetesController(kc, { ...controllerOptions(options), metrics }, sink);
  let stopping = false;
  const admin = await startAdminServer({
    port: options.adminPort,
    host: options.adminBindAddress,
    exposeConfig: options.exposeConfig,
    sources: {
      metricsText: () => metrics.registry.metrics(),
      isReady: () => !stopping && controller.ready(),
      conditions: () => controller.conditions(),
      config: () => (sink.current === undefined ? undefined : redactSnapshot(sink.current)),
    },
  });
  log.info({ file, adminPort: admin.port }, 'controller started');
  onTerminationSignal(async () => {
    stopping = true;
    await controller.stop();
    await admin.close();
  });
}

// `wsgate run` and `wsgate controller` (SPEC §2, §3): the Kubernetes controller feeding the data
// plane in this process, a snapshot file for a sidecar proxy, or stdout once.
import { readFile } from 'node:fs/promises';
import { startAdminServer } from '../admin/server.ts';
import { redactSnapshot, writeFileAtomic } from '../config/codec.ts';
import type { Snapshot } from '../config/snapshot.ts';
import { logger } from '../common/log.ts';
import { WsgateMetrics } from '../metrics/metrics.ts';
import type { Options } from './options.ts';
import { onTerminationSignal } from '../runtime/shutdown.ts';
import { placelessIssue, type Serving } from '../runtime/serving.ts';
import type { SnapshotSink } from '../providers/provider.ts';
import { electionNamespace, leaderIdentity, loadKubeConfig } from '../providers/kubernetes/kubeconfig.ts';
import { diagnosticLine, translateOnce } from '../providers/kubernetes/informers/list-once.ts';
import { prettyCanonicalJson } from '../config/pretty.ts';
import { startKubernetesController, type KubernetesControllerOptions, type SnapshotSink as AssembleSink } from '../providers/kubernetes/assemble.ts';

const log = logger('controller');

function controllerOptions(options: Options): KubernetesControllerOptions {
  return {
    ingressClass: options.ingressClass,
    ...(options.watchNamespace === undefined ? {} : { watchNamespace: options.watchNamespace }),
    ...(options.defaultCertSecret === undefined ? {} : { defaultCertSecret: options.defaultCertSecret }),
    ...(options.publishService === undefined ? {} : { publishService: options.publishService }),
    electionNamespace: electionNamespace(options.electionNamespace),
    identity: leaderIdentity(),
  };
}

/** Returns an exit code, or -1 for "keep running". */
export async function runKubernetes(options: Options, startServing: (o: Options) => Promise<Serving>): Promise<number> {
  const kc = loadKubeConfig(options.kubeconfig);
  if (options.command === 'controller' && options.once) return printOnce(kc, options);
  if (options.command === 'run') {
    const serving = await startServing(options);
    startKubernetesController(kc, controllerOptions(options), assembleSink(serving));
    return -1;
  }
  await runFileController(kc, options);
  return -1;
}

async function printOnce(kc: ReturnType<typeof loadKubeConfig>, options: Options): Promise<number> {
  const result = await translateOnce(kc, {
    ingressClass: options.ingressClass,
    ...(options.watchNamespace === undefined ? {} : { watchNamespace: options.watchNamespace }),
    ...(options.defaultCertSecret === undefined ? {} : { defaultCertSecret: options.defaultCertSecret }),
  });
  for (const diagnostic of result.diagnostics) process.stderr.write(`${diagnosticLine(diagnostic)}\n`);
  if (result.errors.length > 0) {
    for (const line of result.errors) process.stderr.write(`invalid snapshot: ${line}\n`);
    return 1;
  }
  process.stdout.write(prettyCanonicalJson(result.snapshot));
  return 0;
}

/** `controller --output FILE`: the snapshot file a sidecar `proxy --config FILE` serves. */
async function runFileController(kc: ReturnType<typeof loadKubeConfig>, options: Options): Promise<void> {
  const file = options.output!;
  const metrics = new WsgateMetrics();
  // A restarted controller that produces what the file already holds does not touch it.
  let written = await readFile(file, 'utf8').catch(() => undefined);
  let current: Snapshot | undefined;
  const sink: SnapshotSink = {
    async accept(snapshot, hash) {
      const text = prettyCanonicalJson(snapshot);
      if (text !== written) {
        await writeFileAtomic(file, text);
        written = text;
        metrics.configReload(true);
        log.info({ file, hash: hash.slice(0, 12) }, 'snapshot written');
      }
      current = snapshot;
    },
    refuse: () => metrics.configReload(false),
  };
  const controller = startKubernetesController(kc, controllerOptions(options), assembleSink(sink));
  let stopping = false;
  const admin = await startAdminServer({
    port: options.adminPort,
    host: options.bindAddress,
    sources: {
      metricsText: () => metrics.registry.metrics(),
      isReady: () => !stopping && controller.ready(),
      config: () => (current === undefined ? undefined : redactSnapshot(current)),
    },
  });
  log.info({ file, adminPort: admin.port }, 'controller started');
  onTerminationSignal(async () => {
    stopping = true;
    await controller.stop();
    await admin.close();
  });
}

// TEMPORARY ADAPTER, the only one: assemble.ts still takes its own `{deliver, refused}` until the
// providers branch makes it take a SnapshotSink; then pass the sink itself and delete this.
function assembleSink(sink: SnapshotSink): AssembleSink {
  return {
    deliver: (snapshot, hash) => sink.accept(snapshot, hash),
    refused: (errors) => sink.refuse(errors.map(placelessIssue)),
  };
}

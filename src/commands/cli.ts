// The `wsgate` command (SPEC §3): parses flags, wires the parts, nothing else.
import { checkConfigFile } from './check.ts';
import { demoBanner, demoSnapshot, startEchoUpstream } from './demo.ts';
import { UsageError, WsgateError } from '../common/errors.ts';
import { logger, setLogLevel } from '../common/log.ts';
import { helpText, parseOptions, type Options } from './options.ts';
import { watchSnapshotFile } from '../providers/file/watch.ts';
import { acceptSnapshot } from '../config/accept.ts';
import { startProxyProcess, type ProxyProcessOptions } from '../runtime/single-process.ts';
import { placelessIssue, type Serving } from '../runtime/serving.ts';
import { onTerminationSignal } from '../runtime/shutdown.ts';
import { startClusterPrimary } from '../runtime/workers/primary.ts';
import { isClusterWorker, runClusterWorker } from '../runtime/workers/worker.ts';

const log = logger('cli');

function processOptions(options: Options): ProxyProcessOptions {
  return {
    httpPort: options.httpPort,
    httpsPort: options.httpsPort,
    adminPort: options.adminPort,
    bindAddress: options.bindAddress,
    headerTimeoutMs: options.headerTimeoutMs,
    shutdownDelayMs: options.shutdownDelayMs,
    shutdownTimeoutMs: options.shutdownTimeoutMs,
    proxyProtocol: options.proxyProtocol ? { trustedCidrs: options.proxyProtocolTrustedCidrs } : undefined,
  };
}

/** The data plane: in this process for one worker, a cluster primary for several. */
async function startServing(options: Options): Promise<Serving> {
  if (options.workers > 1) {
    const primary = await startClusterPrimary({ ...processOptions(options), workers: options.workers });
    onTerminationSignal(() => primary.shutdown());
    return primary;
  }
  const proxy = await startProxyProcess(processOptions(options));
  onTerminationSignal(() => proxy.shutdown());
  return proxy;
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options.help) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }
  setLogLevel(options.logLevel);
  if (isClusterWorker()) {
    await runClusterWorker(processOptions(options));
    process.exit(0);
  }

  switch (options.command) {
    case 'check': {
      const errors = await checkConfigFile(options.config!);
      for (const line of errors) process.stdout.write(`${line}\n`);
      if (errors.length === 0) process.stdout.write(`${options.config}: valid\n`);
      return errors.length === 0 ? 0 : 1;
    }
    case 'proxy': {
      const proxy = await startServing(options);
      watchSnapshotFile(options.config!, {
        onSnapshot: (snapshot, hash) => void proxy.accept(snapshot, hash),
        onError: (error) => proxy.refuse(error.errors.map(placelessIssue)),
      });
      return -1;
    }
    case 'demo': {
      const upstreams = await Promise.all([startEchoUpstream('echo-1'), startEchoUpstream('echo-2')]);
      const proxy = await startServing(options);
      const accepted = acceptSnapshot(demoSnapshot(upstreams));
      if (accepted.ok) await proxy.accept(accepted.snapshot, accepted.hash);
      else proxy.refuse(accepted.issues);
      process.stdout.write(demoBanner(proxy.ports));
      return -1;
    }
    case 'run':
    case 'controller': {
      const { runKubernetes } = await import('./kubernetes.ts');
      return runKubernetes(options, startServing);
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`wsgate: ${error.message}\n\n${helpText()}\n`);
      process.exitCode = 2;
      return;
    }
    if (error instanceof WsgateError) {
      log.error({ code: error.code, err: error }, error.message);
      process.stderr.write(`wsgate: ${error.message}\n`);
    } else {
      log.fatal({ err: error }, 'wsgate failed');
    }
    process.exitCode = 1;
  },
);

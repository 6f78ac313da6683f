// The data plane a serving command (run, proxy, demo) starts: in this process for one worker, a
// cluster primary for several. Either is a SnapshotSink, fed by the command's source.
import type { Options } from './options.ts';
import type { ProxyProcessOptions } from '../runtime/single-process.ts';
import { startProxyProcess } from '../runtime/single-process.ts';
import type { Serving } from '../runtime/serving.ts';
import { onTerminationSignal } from '../runtime/shutdown.ts';
import { startClusterPrimary } from '../runtime/workers/primary.ts';

export function processOptions(options: Options): ProxyProcessOptions {
  return {
    httpPort: options.httpPort,
    httpsPort: options.httpsPort,
    adminPort: options.adminPort,
    bindAddress: options.bindAddress,
    headerTimeoutMs: options.headerTimeoutMs,
    shutdownDelayMs: options.shutdownDelayMs,
    shutdownTimeoutMs: options.shutdownTimeoutMs,
    shutdownSpreadMs: options.shutdownSpreadMs,
    proxyProtocol: options.proxyProtocol ? { trustedCidrs: options.proxyProtocolTrustedCidrs } : undefined,
  };
}

/** Starts serving and shuts down on SIGTERM/SIGINT (SPEC §8). */
export async function startServing(options: Options): Promise<Serving> {
  const serving =
    options.workers > 1
      ? await startClusterPrimary({ ...processOptions(options), workers: options.workers })
      : await startProxyProcess(processOptions(options));
  onTerminationSignal(() => serving.shutdown());
  return serving;
}

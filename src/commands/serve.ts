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
    adminBindAddress: options.adminBindAddress,
    exposeConfig: options.exposeConfig,
    headerTimeoutMs: options.headerTimeoutMs,
    shutdownDelayMs: options.shutdownDelayMs,
    shutdownTimeoutMs: options.shutdownTimeoutMs,
    shutdownSpreadMs: options.shutdownSpreadMs,
    proxyProtocol: options.proxyProtocol ? { trustedCidrs: options.proxyProtocolTrustedCidrs } : undefined,
  };
}

/**
 * Starts serving and shuts down on SIGTERM/SIGINT (SPEC §8). `alongside` runs at the signal too,
 * beside the drain: `run` stops its controller, whose leader releases the Lease at once.
 */
export async function startServing(options: Options, alongside?: () => Promise<void>): Promise<Serving> {
  const serving =
    options.workers > 1
      ? await startClusterPrimary({ ...processOptions(options), workers: options.workers })
      : await startProxyProcess(processOptions(options));
  onTerminationSignal(async () => {
    const [outcome] = await Promise.all([serving.shutdown(), alongside?.()]);
    return outcome;
  });
  return serving;
}

// SIGTERM per SPEC §8: /readyz fails at once while new connections are still accepted for the
// shutdown delay (so load balancers deregister the pod first); then the listeners close, every
// connection gets 1001, and the process exits 0 when they are gone or at the shutdown timeout,
// counted from the signal.
import { logger } from '../common/log.ts';

const log = logger('shutdown');

export interface ShutdownSteps {
  delayMs: number;
  timeoutMs: number;
  /** Readiness goes false. */
  beginDraining(): void;
  stopAccepting(): Promise<void>;
  closeConnections(): void;
  whenIdle(): Promise<void>;
  /** Last words: close admin server, flush logs. */
  finish?(): Promise<void>;
}

export async function runShutdown(steps: ShutdownSteps): Promise<'idle' | 'timeout'> {
  const started = Date.now();
  steps.beginDraining();
  log.info({ delayMs: steps.delayMs, timeoutMs: steps.timeoutMs }, 'shutdown: readiness off, still accepting');
  const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), steps.timeoutMs).unref());
  const delayed = new Promise<'delayed'>((resolve) => setTimeout(() => resolve('delayed'), steps.delayMs).unref());
  const first = await Promise.race([delayed, deadline]);
  await steps.stopAccepting();
  log.info('shutdown: listeners closed, closing connections with 1001');
  steps.closeConnections();
  const outcome = first === 'timeout' ? 'timeout' : await Promise.race([steps.whenIdle().then(() => 'idle' as const), deadline]);
  log.info({ outcome, elapsedMs: Date.now() - started }, 'shutdown: done');
  await steps.finish?.();
  return outcome;
}

/** Runs `shutdown` once on the first SIGTERM or SIGINT, then exits 0. */
export function onTerminationSignal(shutdown: () => Promise<unknown>): void {
  let started = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (started) return;
    started = true;
    log.info({ signal }, 'signal received');
    shutdown().then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

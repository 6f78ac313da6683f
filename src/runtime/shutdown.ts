// SIGTERM per SPEC §8: /readyz fails at once while new connections are still accepted for the
// shutdown delay (so load balancers deregister the pod first); then the listeners close, every
// connection gets 1001, and the process exits 0 when they are gone or at the shutdown timeout,
// counted from the signal.
import { logger } from '../common/log.ts';

const log = logger('shutdown');

/** Time kept after the last spread 1001 for the closing handshakes within --shutdown-timeout. */
const SPREAD_MARGIN_MS = 1000;

export interface ShutdownSteps {
  delayMs: number;
  timeoutMs: number;
  /** --shutdown-spread: the 1001s go out evenly over this window (bounded by what the timeout leaves). */
  spreadMs?: number;
  /** Readiness goes false. */
  beginDraining(): void;
  stopAccepting(): Promise<void>;
  closeConnections(spreadMs: number): void;
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
  // The timeout bounds the whole shutdown: the last 1001 must leave time for its closing handshake.
  const remaining = steps.timeoutMs - (Date.now() - started);
  steps.closeConnections(Math.max(0, Math.min(steps.spreadMs ?? 0, remaining - SPREAD_MARGIN_MS)));
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

// A cluster worker: serves traffic with the snapshots, certificate and ticket keys the primary
// sends, asks it for connection limits, tells it its least-conn counts, and shuts down when told.
import cluster from 'node:cluster';
import { serveWorkerMetrics } from '../../metrics/worker-aggregation.ts';
import { WsgateMetrics } from '../../metrics/metrics.ts';
import { startProxyProcess, type ProxyProcess, type ProxyProcessOptions } from '../single-process.ts';
import { ipcAdmission } from './admission.ts';
import { isChannelMessage, sendToPrimary, type ToWorker } from './messages.ts';

/** How often a worker tells the primary its open connections per endpoint (least-conn). */
const COUNTS_INTERVAL_MS = 250;

type Init = Extract<ToWorker, { type: 'wsgate:init' }>;

export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env.WSGATE_WORKER === '1';
}

/** Serves until the primary says shut down or goes away. */
export async function runClusterWorker(options: ProxyProcessOptions): Promise<void> {
  // Signals are the primary's business; a worker follows its `shutdown` message.
  process.on('SIGTERM', () => {});
  process.on('SIGINT', () => {});
  const admission = ipcAdmission();
  const init = await greetPrimary();
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
  const countsTimer = reportCounts(proxy);
  const done = new Promise<void>((resolve) => {
    process.on('message', (message: unknown) => {
      if (!isChannelMessage(message)) return;
      const m = message as ToWorker;
      if (m.type === 'wsgate:acquired') admission.settle(m.id, m.result);
      else if (m.type === 'wsgate:shutdown') {
        // The primary already waited out the shutdown delay: close now.
        void proxy.shutdown({ delayMs: 0 }).finally(() => {
          clearInterval(countsTimer);
          resolve();
        });
      } else follow(proxy, m);
    });
    process.on('disconnect', () => resolve());
  });
  sendToPrimary({ type: 'wsgate:listening' });
  await done;
}

function greetPrimary(): Promise<Init> {
  return new Promise<Init>((resolve) => {
    const onInit = (message: unknown): void => {
      if (isChannelMessage(message) && message.type === 'wsgate:init') {
        process.off('message', onInit);
        resolve(message);
      }
    };
    process.on('message', onInit);
    sendToPrimary({ type: 'wsgate:hello' });
  });
}

function follow(proxy: ProxyProcess, message: ToWorker): void {
  if (message.type === 'wsgate:snapshot') {
    void proxy.accept(message.snapshot, message.hash);
    sendToPrimary({ type: 'wsgate:applied', hash: message.hash });
  } else if (message.type === 'wsgate:remote-counts') {
    proxy.dataplane.registry.setRemoteCounts(new Map(message.counts));
  }
}

/** Sends this worker's endpoint counts whenever they changed, at most every COUNTS_INTERVAL_MS. */
function reportCounts(proxy: ProxyProcess): NodeJS.Timeout {
  let last = '';
  const timer = setInterval(() => {
    const counts = [...proxy.dataplane.registry.localCounts()];
    const text = JSON.stringify(counts);
    if (text === last) return;
    last = text;
    sendToPrimary({ type: 'wsgate:counts', counts });
  }, COUNTS_INTERVAL_MS);
  timer.unref();
  return timer;
}

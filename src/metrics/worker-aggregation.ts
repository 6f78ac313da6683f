// One /metrics view of all node:cluster workers (SPEC §9). The primary asks every connected
// worker for its metrics over the cluster IPC channel and merges them with prom-client's
// aggregation, which honours each metric's own aggregator: sums for counts, max for the
// last-reload timestamp, min for certificate expiry (see metrics.ts).
//
// The exchange is our own rather than prom-client's AggregatorRegistry.clusterMetrics(): that one
// fails the whole scrape when a single worker is slow or dying, and cannot include the primary's
// own metrics (the controller's, in `wsgate run`). Its two messages are part of the one channel
// union (runtime/workers/messages.ts) and share its envelope: `type: 'wsgate:...'`.
import cluster, { type Worker } from 'node:cluster';
import { aggregatorRegistry, type Registry } from './prom.ts';
import { logger } from '../common/log.ts';
import type { WsgateMetrics } from './metrics.ts';

const REQUEST = 'wsgate:metrics-request';
const RESPONSE = 'wsgate:metrics-response';

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

export interface MetricsRequest {
  type: typeof REQUEST;
  id: number;
}

export interface MetricsResponse {
  type: typeof RESPONSE;
  id: number;
  metrics?: MetricsJson;
  error?: string;
}

export interface ClusterMetricsOptions {
  /** The primary's own metrics, merged with the workers'. */
  local?: WsgateMetrics;
  /** How long to wait for the workers; a worker that has not answered by then is left out. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 3000;
const log = logger('metrics');

let workerRegistry: Registry | undefined;

/**
 * In a worker: answer the primary's requests with this worker's metrics. Calling it again replaces
 * the metrics served. Does nothing outside a cluster worker.
 */
export function serveWorkerMetrics(metrics: WsgateMetrics): void {
  if (!cluster.isWorker || typeof process.send !== 'function') return;
  const listening = workerRegistry !== undefined;
  workerRegistry = metrics.registry;
  if (!listening) process.on('message', answerPrimary);
}

function answerPrimary(message: unknown): void {
  if (!isMessage<MetricsRequest>(message, REQUEST) || workerRegistry === undefined) return;
  const { id } = message;
  workerRegistry.getMetricsAsJSON().then(
    (metrics) => reply({ type: RESPONSE, id, metrics }),
    (error: unknown) => reply({ type: RESPONSE, id, error: error instanceof Error ? error.message : String(error) }),
  );
}

function reply(response: MetricsResponse): void {
  // The channel closes when the primary is going away; there is nobody left to answer then.
  if (process.connected) process.send?.(response);
}

interface PendingScrape {
  waiting: Set<number>;
  results: MetricsJson[];
  finish(): void;
}

const pending = new Map<number, PendingScrape>();
let nextRequestId = 0;
let primaryListening = false;

/**
 * In the primary: the exposition text of every connected worker's metrics, and `local`'s, merged
 * into one view. Outside a cluster (no workers) it is `local`'s text alone.
 */
export async function clusterMetricsText(options: ClusterMetricsOptions = {}): Promise<string> {
  const results: MetricsJson[] = [];
  if (options.local !== undefined) results.push(await options.local.registry.getMetricsAsJSON());
  results.push(...(await askWorkers(options.timeoutMs ?? DEFAULT_TIMEOUT_MS)));
  return aggregatorRegistry().aggregate(results).metrics();
}

function askWorkers(timeoutMs: number): Promise<MetricsJson[]> {
  if (!cluster.isPrimary) return Promise.resolve([]);
  listenToWorkers();
  const id = nextRequestId++;
  const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w?.isConnected() === true);
  return new Promise((resolve) => {
    const scrape: PendingScrape = {
      waiting: new Set(),
      results: [],
      finish: () => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(scrape.results);
      },
    };
    const timer = setTimeout(() => {
      log.warn({ workers: [...scrape.waiting], timeoutMs }, 'workers did not answer the metrics request in time; left out');
      scrape.finish();
    }, timeoutMs);
    pending.set(id, scrape);
    const request: MetricsRequest = { type: REQUEST, id };
    for (const worker of workers) {
      try {
        worker.send(request);
        scrape.waiting.add(worker.id);
      } catch (error) {
        log.warn({ worker: worker.id, err: error }, 'cannot ask a worker for its metrics');
      }
    }
    if (scrape.waiting.size === 0) scrape.finish();
  });
}

function listenToWorkers(): void {
  if (primaryListening) return;
  primaryListening = true;
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isMessage<MetricsResponse>(message, RESPONSE)) return;
    const scrape = pending.get(message.id);
    if (scrape === undefined || !scrape.waiting.delete(worker.id)) return;
    if (message.metrics !== undefined) scrape.results.push(message.metrics);
    else log.warn({ worker: worker.id, error: message.error }, 'a worker failed to collect its metrics');
    if (scrape.waiting.size === 0) scrape.finish();
  });
  // A worker that dies mid-scrape will never answer: stop waiting for it.
  cluster.on('exit', (worker: Worker) => {
    for (const scrape of [...pending.values()]) {
      if (scrape.waiting.delete(worker.id) && scrape.waiting.size === 0) scrape.finish();
    }
  });
}

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

// The parts of prom-client wsgate uses, loaded file by file rather than through its index (issue 9:
// memory at rest). The index also loads the Pushgateway client (with zlib), Summary with its
// t-digest, and, through the process CPU metric, @opentelemetry/api (about 50 modules) for
// exemplars wsgate never enables. Loading only these files takes about 7 MiB off the proxy's RSS
// at rest. The classes are the very ones the index exports (the same files in node's module cache),
// so a Registry made from 'prom-client' elsewhere is the same class.
//
// The default process_* and nodejs_* metrics are prom-client's own collectors, each file as
// collectDefaultMetrics() would call it, except the three process CPU counters, which are built
// here the same way without the exemplar support (and so without @opentelemetry/api).
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const load = createRequire(import.meta.url);

export const Registry = load('prom-client/lib/registry') as typeof PromClient.Registry;
export const Counter = load('prom-client/lib/counter') as typeof PromClient.Counter;
export const Gauge = load('prom-client/lib/gauge') as typeof PromClient.Gauge;
export const Histogram = load('prom-client/lib/histogram') as typeof PromClient.Histogram;
export type Registry = PromClient.Registry;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
export type Histogram<T extends string = string> = PromClient.Histogram<T>;

/** prom-client's AggregatorRegistry (lib/cluster.js), loaded when the primary of several workers first needs it. */
export function aggregatorRegistry(): typeof PromClient.AggregatorRegistry {
  return load('prom-client/lib/cluster') as typeof PromClient.AggregatorRegistry;
}

type DefaultCollector = (registry: Registry | undefined, config: { eventLoopMonitoringPrecision: number }) => void;

/** The default metrics of prom-client 15 (lib/defaultMetrics.js) but processCpuTotal, in its order. */
const DEFAULT_COLLECTORS = [
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'eventLoopLag',
  'processResources',
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
  'gc',
] as const;

/** What collectDefaultMetrics({ register: registry }) registers, with the same names and values. */
export function collectDefaultMetrics(registry: Registry): void {
  processCpuTotal(registry);
  for (const name of DEFAULT_COLLECTORS) {
    if (name === 'processResources' && typeof process.getActiveResourcesInfo !== 'function') continue;
    (load(`prom-client/lib/metrics/${name}`) as DefaultCollector)(registry, { eventLoopMonitoringPrecision: 10 });
  }
}

/** prom-client's lib/metrics/processCpuTotal.js without exemplars: CPU seconds since the last scrape, added at each. */
function processCpuTotal(registry: Registry): void {
  let last = process.cpuUsage();
  const registers = [registry];
  const user = new Counter({
    name: 'process_cpu_user_seconds_total',
    help: 'Total user CPU time spent in seconds.',
    registers,
    // This one metric's collect sets all three, as prom-client's does.
    collect() {
      const now = process.cpuUsage();
      const userMicros = now.user - last.user;
      const systemMicros = now.system - last.system;
      last = now;
      user.inc(userMicros / 1e6);
      system.inc(systemMicros / 1e6);
      total.inc((userMicros + systemMicros) / 1e6);
    },
  });
  const system = new Counter({ name: 'process_cpu_system_seconds_total', help: 'Total system CPU time spent in seconds.', registers });
  const total = new Counter({ name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.', registers });
}

// Relayed bytes arrive in buffers that live outside the JavaScript heap. V8 collects them only
// when its own heap fills or when their total passes a large limit, so a relay whose heap barely
// moves (a slow reader, a trickle of big messages) lets dead buffers pile up by tens of MiB
// before anything frees them. This watches the total and asks for a collection once it has grown
// by 1 MiB since the last one (checked every 50 ms), which keeps the proxy's memory flat without
// touching the hot path. Relay buffers mostly die young (backpressure bounds how long one waits),
// so the collection is a scavenge (1-3 ms with the 1 MiB young generation). A full collection
// stalls every connection of the worker for its whole length (the loaded p99.9 and the GC pause
// row of issue 9) and a forced one is atomic (14-20 ms measured here), so it runs only when
// promoted buffers hold 16 MiB that a scavenge could not free, at most every 5 s; anything less
// is left to V8's own incremental marking. While that marking runs, V8 (--separate-gc-phases, its
// default) turns any young collection, this one included, into the marking's final pause: an
// early finalisation, which docs/perf-notes.md measured at up to 20 ms, in 4 of 10 slow-reader runs.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { logger } from '../common/log.ts';

const log = logger('memory');

export type GcFunction = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

function collector(): GcFunction | undefined {
  const existing = (globalThis as { gc?: GcFunction }).gc;
  if (existing) return existing;
  try {
    // Exposes `gc` to contexts created from now on; the main context stays as it was.
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as GcFunction;
  } catch (error) {
    log.warn({ err: error }, 'no garbage collector access: relay buffers are left to V8 alone');
    return undefined;
  }
}

export interface BufferReclaimer {
  /** Connections are open again: watch their buffers. */
  resume(): void;
  /**
   * No connection is open: stop looking once a look finds nothing to reclaim. A timer that runs
   * at rest allocates (an empty 50 ms interval about 11 KB/s in Node 24, each look 0.6 KB), and
   * that keeps young-generation pages resident that V8's memory reducer had given back.
   */
  pause(): void;
  stop(): void;
}

export interface ReclaimerOptions {
  /** External growth since the last look that asks for a scavenge. */
  growthBytes?: number;
  /** External memory above its lowest point that a scavenge did not free: buffers in the old generation. */
  oldGrowthBytes?: number;
  /** At most one full collection per this long: each is an atomic pause. */
  fullIntervalMs?: number;
  intervalMs?: number;
  /** The collector to call; the one V8 exposes unless given (tests count the calls). */
  collect?: GcFunction;
}

export function startBufferReclaimer(options: ReclaimerOptions = {}): BufferReclaimer {
  const growthBytes = options.growthBytes ?? 1024 * 1024;
  const oldGrowthBytes = options.oldGrowthBytes ?? 16 * 1024 * 1024;
  const fullIntervalMs = options.fullIntervalMs ?? 5_000;
  const intervalMs = options.intervalMs ?? 50;
  const gc = options.collect ?? collector();
  if (!gc) return { resume: () => {}, pause: () => {}, stop: () => {} };
  // A microsecond to read (process.memoryUsage() reads /proc); external memory is mostly buffers.
  let { external_memory: baseline, used_heap_size: lastUsed } = getHeapStatistics();
  let floor = baseline;
  let lastFull = -Infinity;
  let paused = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const look = (): void => {
    const { external_memory: now, used_heap_size: used } = getHeapStatistics();
    // Memory given back on its own lowers the mark, so growth is measured from the low point.
    if (now < baseline) baseline = now;
    if (now < floor) floor = now;
    // A heap that shrank was collected since the last look: V8 keeps up on its own (a busy relay
    // allocates enough to scavenge dozens of times a second), so forcing one would only add work.
    const collected = used < lastUsed;
    lastUsed = used;
    if (collected || now - baseline < growthBytes) {
      if (paused) halt();
      return;
    }
    gc({ type: 'minor', execution: 'sync' });
    ({ external_memory: baseline, used_heap_size: lastUsed } = getHeapStatistics());
    // Buffers that were alive when V8 last marked (a major collection that started during a
    // burst) were promoted, and a scavenge cannot free them once they die; V8 would wait for its
    // external limit, tens of MiB away. Past oldGrowthBytes, one full collection, rarely.
    const nowMs = performance.now();
    if (baseline - floor >= oldGrowthBytes && nowMs - lastFull >= fullIntervalMs) {
      lastFull = nowMs;
      gc({ type: 'major', execution: 'sync' });
      ({ external_memory: baseline, used_heap_size: lastUsed } = getHeapStatistics());
      floor = baseline;
    }
  };
  function halt(): void {
    clearInterval(timer);
    timer = undefined;
  }
  function run(): void {
    if (timer !== undefined || stopped) return;
    timer = setInterval(look, intervalMs);
    timer.unref();
  }
  run();
  return {
    resume: () => {
      paused = false;
      run();
    },
    pause: () => {
      paused = true;
    },
    stop: () => {
      stopped = true;
      halt();
    },
  };
}

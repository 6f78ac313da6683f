// Relayed bytes arrive in buffers that live outside the JavaScript heap. V8 collects them only
// when its own heap fills or when their total passes a large limit, so a relay whose heap barely
// moves (a slow reader, a trickle of big messages) lets dead buffers pile up by tens of MiB
// before anything frees them. This watches the total and asks for a collection once it has grown
// by a bounded amount since the last one, which keeps the proxy's memory flat without touching
// the hot path. The check is cheap; a collection runs only when there is garbage to take, and it
// is a young-generation one first: relay buffers mostly die young (backpressure bounds how long
// one waits), so a scavenge frees them at a fraction of a full collection's cost, even at full
// relay speed; only what survives that (promoted buffers) calls for a full collection, and that one
// is started, not waited for: a synchronous full collection stalls every connection of the worker
// for its whole length (the loaded p99.9 of issue 9), where V8's incremental marking spreads it.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { logger } from '../common/log.ts';

const log = logger('memory');

type GcFunction = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => void;

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
  stop(): void;
}

export function startBufferReclaimer(options: { growthBytes?: number; intervalMs?: number } = {}): BufferReclaimer {
  const growthBytes = options.growthBytes ?? 8 * 1024 * 1024;
  const gc = collector();
  if (!gc) return { stop: () => {} };
  let baseline = process.memoryUsage().arrayBuffers;
  const timer = setInterval(() => {
    const now = process.memoryUsage().arrayBuffers;
    if (now - baseline < growthBytes) {
      // Memory given back on its own lowers the mark, so growth is measured from the low point.
      if (now < baseline) baseline = now;
      return;
    }
    gc({ type: 'minor', execution: 'sync' });
    const after = process.memoryUsage().arrayBuffers;
    // Buffers that waited long enough to be promoted need the full collection; it finishes in
    // steps between I/O callbacks, and the next check measures what it freed.
    if (after - baseline >= growthBytes) gc({ type: 'major', execution: 'async' });
    baseline = after;
  }, options.intervalMs ?? 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

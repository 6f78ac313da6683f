// What the proxy's RSS is made of during the bench's slow-reader phase: anonymous and file-backed
// resident memory and glibc's main heap, every 100 ms from just after `wsgate proxy` is ready,
// through the phase's unmeasured warm-up transfer and the measured one. A step in the file-backed
// part is the node binary's own pages (V8's optimizing compiler running for the first time), not
// buffering. WSGATE_BENCH_NODE_FLAGS changes the node flags.
//   node bench/slow-breakdown.ts [downstream|upstream]
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { slowReader } from './phases.ts';
import { statusBytes } from './procfs.ts';
import { withBenchSession } from './session.ts';

const MiB = 2 ** 20;

function sample(pid: number): { anon: number; file: number; heap: number } {
  let heap = 0;
  let inHeap = false;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inHeap = line.endsWith('[heap]');
    else if (inHeap && line.startsWith('Rss:')) heap += Number(line.split(/\s+/)[1]);
  }
  return { anon: statusBytes([pid], 'RssAnon') / MiB, file: statusBytes([pid], 'RssFile') / MiB, heap: heap / 1024 };
}

const direction = process.argv[2] === 'upstream' ? 'upstream' : 'downstream';
await withBenchSession('wsgate-slow-', async ({ withTarget, upstream }) => {
  await withTarget('wsgate-proxy', async (target) => {
    const [pid] = target.pids();
    if (pid === undefined) throw new Error('wsgate proxy exited');
    const started = performance.now();
    let last = '';
    let done = false;
    const sampler = (async (): Promise<void> => {
      while (!done) {
        const { anon, file, heap } = sample(pid);
        const line = `anonymous ${anon.toFixed(1)} MiB, file-backed ${file.toFixed(1)}, glibc heap ${heap.toFixed(1)}`;
        // Only changes of at least 0.1 MiB in some part, so the steps stand out.
        if (line !== last) console.log(`${((performance.now() - started) / 1000).toFixed(2).padStart(6)} s  ${line}`);
        last = line;
        await sleep(100);
      }
    })();
    const result = await slowReader({ target, upstream, log: () => {} }, direction, 64 * MiB, 32 * MiB);
    done = true;
    await sampler;
    console.log(`measured transfer (${direction}): baseline ${(result.baselineBytes / MiB).toFixed(1)} MiB, ${(result.warmupBytes / MiB).toFixed(1)} over the fresh start; growth at each tenth ${result.growthSeriesBytes.map((b) => (b / MiB).toFixed(1)).join(', ')} MiB`);
  });
});

// What V8's collector does while wsgate relays the bench's echo (100 connections, 3 s of warm-up,
// 4 s measured): collections by kind from --trace-gc (forced ones are the buffer reclaimer's), the
// proxy's CPU per relayed GiB and per million messages, and its peak RSS under that load.
// WSGATE_BENCH_NODE_FLAGS changes the node flags (--trace-gc is added), to compare heap flags.
//   node bench/gc-echo.ts [--size 65536] [--targets wsgate-proxy,wsgate-run]
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { echo } from './phases.ts';
import { rssBytes } from './procfs.ts';
import { parseList, withBenchSession } from './session.ts';
import { WSGATE_TARGETS } from './targets.ts';

const GC_LINE = /ms: (Scavenge|Mark-Compact|Minor Mark-Sweep)[^\n]*?, ([\d.]+) \/ [\d.]+ ms[^\n]*/g;

function collections(log: string): string {
  const kinds = new Map<string, { count: number; ms: number }>();
  for (const match of log.matchAll(GC_LINE)) {
    // V8 names a collection that gc() asked for "testing".
    const kind = `${match[1]!}${match[0].includes('testing') ? ' (forced)' : ''}`;
    const entry = kinds.get(kind) ?? { count: 0, ms: 0 };
    entry.count++;
    entry.ms += Number(match[2]);
    kinds.set(kind, entry);
  }
  return [...kinds].map(([kind, { count, ms }]) => `${kind} ${count} (${ms.toFixed(0)} ms)`).join(', ');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { size: { type: 'string', default: '65536' }, targets: { type: 'string', default: 'wsgate-proxy,wsgate-run' } } });
  const size = Number(values.size);
  const names = parseList(values.targets, WSGATE_TARGETS, '--targets')!;
  await withBenchSession('wsgate-gc-echo-', async ({ upstream, withTarget }) => {
    for (const name of names) {
      await withTarget(name, async (target) => {
        const [pid] = target.pids();
        if (pid === undefined) throw new Error(`${name} exited`);
        const from = target.logSize?.() ?? 0;
        let peakBytes = 0;
        let sampling = true;
        const sampler = (async (): Promise<void> => {
          while (sampling) {
            peakBytes = Math.max(peakBytes, rssBytes([pid]));
            await sleep(50);
          }
        })();
        const result = await echo({ target, upstream, log: () => {} }, size, { connections: 100, warmupMs: 3000, measureMs: 4000 });
        sampling = false;
        await sampler;
        const messages = result.roundTrips * 2;
        console.log(`${name}, ${size} B echo: CPU ${(result.cpuSeconds / ((messages * size) / 2 ** 30)).toFixed(2)} s per GiB, ${(result.cpuSeconds / (messages / 1e6)).toFixed(1)} s per 1M messages; peak RSS ${(peakBytes / 2 ** 20).toFixed(1)} MiB; collections in the 7 s: ${collections(target.logFrom?.(from) ?? '')}`);
      }, { traceGc: true });
    }
  });
}

await main();

// What the RSS of `wsgate proxy` at rest is made of: resident, anonymous and file-backed memory
// after it is ready (the bench's at-rest row reads it at 12 s), the node binary's segments, and the largest
// anonymous kinds, from /proc/PID/status and /proc/PID/smaps. WSGATE_BENCH_NODE_FLAGS changes the
// node flags, and the environment (MALLOC_ARENA_MAX, UV_THREADPOOL_SIZE) reaches the proxy.
// --at samples the RSS at more moments after ready (V8's memory reducer gives pages back about 9 s
// after start; what the proxy allocates at rest takes them again). --after-load runs the bench's
// echo (100 connections, 1 KiB and then 64 KiB, 5 s each) right after ready, closes it, and counts
// the moments from the last connection's close: what a proxy that has carried traffic holds at rest.
//   node bench/rest-breakdown.ts [--starts 3] [--at 3,10,30,60] [--after-load]
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { echo } from './phases.ts';
import { statusBytes } from './procfs.ts';
import { withBenchSession } from './session.ts';

const MAPPING = /^[0-9a-f]+-[0-9a-f]+ (\S+) ([0-9a-f]+) \S+ \S+ *(.*)$/;

function statusMiB(pid: number, field: string): string {
  return (statusBytes([pid], field) / 2 ** 20).toFixed(1);
}

/** Resident KiB by mapping: the node binary per segment, everything else by name ([anon], [heap], libraries). */
function smapsSummary(pid: number): string[] {
  const resident = new Map<string, number>();
  let key = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const mapping = MAPPING.exec(line);
    if (mapping) {
      const [, perms, offset, path] = mapping as unknown as [string, string, string, string];
      const name = path === '' ? '[anon]' : path;
      key = name.endsWith('/node') ? `node binary ${perms} at offset 0x${offset}` : name;
    } else if (line.startsWith('Rss:')) {
      resident.set(key, (resident.get(key) ?? 0) + Number(line.split(/\s+/)[1]));
    }
  }
  return [...resident].filter(([, kib]) => kib >= 256).sort((a, b) => b[1] - a[1]).map(([name, kib]) => `  ${(kib / 1024).toFixed(1).padStart(6)} MiB  ${name}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { starts: { type: 'string', default: '3' }, at: { type: 'string', default: '3,12' }, 'after-load': { type: 'boolean', default: false } } });
  const moments = values.at.split(',').map(Number).sort((a, b) => a - b);
  if (moments.some((s) => !(s > 0))) throw new Error('--at: seconds after ready, like 3,10,30');
  await withBenchSession('wsgate-rest-', async ({ withTarget, upstream }) => {
    for (let start = 0; start < Number(values.starts); start++) {
      await withTarget('wsgate-proxy', async (target) => {
        if (values['after-load']) {
          for (const size of [1024, 65536]) await echo({ target, upstream, log: () => {} }, size, { connections: 100, warmupMs: 1000, measureMs: 4000 });
          await upstream.until((s) => s.open === 0, 30_000, 'the echo connections to close');
        }
        let waited = 0;
        for (const seconds of moments) {
          await sleep((seconds - waited) * 1000);
          waited = seconds;
          const [pid] = target.pids();
          if (pid === undefined) throw new Error('wsgate proxy exited');
          console.log(`start ${start + 1}, ${seconds} s${values['after-load'] ? ' after the load' : ''}: RSS ${statusMiB(pid, 'VmRSS')} MiB = anonymous ${statusMiB(pid, 'RssAnon')} + file-backed ${statusMiB(pid, 'RssFile')}`);
        }
        const [pid] = target.pids();
        if (pid === undefined) throw new Error('wsgate proxy exited');
        if (start === 0) for (const line of smapsSummary(pid)) console.log(line);
      });
    }
  });
}

await main();

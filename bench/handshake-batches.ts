// Consecutive batches of handshakes on one start of each target, CPU per batch: shows how long a
// proxy takes to warm up (wsgate's JIT) and what a warm handshake costs, which one bench row
// cannot. WSGATE_BENCH_NODE_FLAGS changes wsgate's node flags as in bench/run.ts.
//   node bench/handshake-batches.ts [--targets wsgate-proxy,nginx] [--batches F,F,F,F,F,R,R] [--size 500]
// F is a batch of full TLS handshakes, R of resumed ones; each is the bench's handshake phase
// (50 at a time, WebSocket upgrade, clean close) with no warm-up of its own (a resumed batch opens one
// unmeasured connection per lane first, for the tickets).
import { parseArgs } from 'node:util';
import { handshakes } from './phases.ts';
import { parseList, withBenchSession } from './session.ts';
import { TARGETS } from './targets.ts';

const BATCHES = ['F', 'R'] as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { targets: { type: 'string', default: 'wsgate-proxy,nginx' }, batches: { type: 'string', default: 'F,F,F,F,F,R,R' }, size: { type: 'string', default: '500' } },
  });
  const names = parseList(values.targets, TARGETS, '--targets')!;
  const batches = parseList(values.batches, BATCHES, '--batches')!;
  const size = Number(values.size);
  const perThousand = (seconds: number): number => Math.round((seconds * 1e6) / size);
  await withBenchSession('wsgate-batches-', async ({ upstream, withTarget }) => {
    console.log(`CPU ms per 1000 handshakes (user+system / system), batches of ${size} in order`);
    for (const name of names) {
      const cells = await withTarget(name, async (target) => {
        const ctx = { target, upstream, log: (line: string) => console.log(line) };
        const out: string[] = [];
        for (const batch of batches) {
          const result = await handshakes(ctx, size, { parallel: 50, resumed: batch === 'R', warmup: 0 });
          out.push(`${batch} ${perThousand(result.cpuSeconds)} / ${perThousand(result.systemSeconds)}`);
        }
        return out;
      });
      console.log(`${name}: ${cells.join(', ')}`);
    }
  });
}

await main();

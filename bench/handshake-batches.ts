// Consecutive batches of handshakes on one start of each target, CPU per batch: shows how long a
// proxy takes to warm up (wsgate's JIT) and what a warm handshake costs, which one bench row
// cannot. WSGATE_BENCH_NODE_FLAGS changes wsgate's node flags as in bench/run.ts.
//   node bench/handshake-batches.ts [--targets wsgate-proxy,nginx] [--batches F,F,F,F,F,R,R] [--size 500]
// F is a batch of full TLS handshakes, R of resumed ones; each is the bench's handshake phase
// (50 at a time, WebSocket upgrade, clean close) with no warm-up of its own (a resumed batch opens 50
// unmeasured connections first, one per lane, for the tickets).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeCertificate } from './certs.ts';
import { BENCH_HOST } from './client.ts';
import { handshakes } from './phases.ts';
import { buildImageScript, startTarget, TARGETS, type TargetName } from './targets.ts';
import { startUpstream } from './upstream.ts';

const PROXY_CORE = '0';
const LOAD_CORE = 1;
const PARALLEL = 50;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { targets: { type: 'string', default: 'wsgate-proxy,nginx' }, batches: { type: 'string', default: 'F,F,F,F,F,R,R' }, size: { type: 'string', default: '500' } },
  });
  const names = values.targets.split(',').map((name) => {
    if (!(TARGETS as readonly string[]).includes(name)) throw new Error(`unknown target ${name}; one of ${TARGETS.join(', ')}`);
    return name as TargetName;
  });
  const batches = values.batches.split(',').map((batch) => {
    if (batch !== 'F' && batch !== 'R') throw new Error(`a batch is F (full) or R (resumed), not ${batch}`);
    return batch;
  });
  const size = Number(values.size);
  const cli = buildImageScript();
  execFileSync('taskset', ['-a', '-p', '-c', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });
  const workDir = mkdtempSync(join(tmpdir(), 'wsgate-batches-'));
  const upstream = await startUpstream(LOAD_CORE);
  try {
    const certificate = makeCertificate(workDir, BENCH_HOST);
    console.log(`CPU ms per 1000 handshakes (user+system / system), batches of ${size} in order`);
    for (const name of names) {
      const target = await startTarget(name, { workDir, upstreamPort: upstream.port, certificate, proxyCores: PROXY_CORE, loadCore: LOAD_CORE, accessLog: false, cli });
      try {
        const ctx = { target, upstream, log: (line: string) => console.log(line) };
        const cells: string[] = [];
        for (const batch of batches) {
          // A resumed batch opens one unmeasured connection per lane first: that is where each lane gets its ticket.
          const result = await handshakes(ctx, size, { parallel: PARALLEL, resumed: batch === 'R', warmup: batch === 'R' ? PARALLEL : 0 });
          const perThousand = (seconds: number): number => Math.round((seconds * 1e6) / size);
          cells.push(`${batch} ${perThousand(result.cpuSeconds)} / ${perThousand(result.systemSeconds)}`);
        }
        console.log(`${name}: ${cells.join(', ')}`);
      } finally {
        await target.stop();
      }
    }
  } finally {
    await upstream.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();

// Starts the bench upstream (upstream-server.ts) on the load generator's core and reads its
// counters over IPC.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { UpstreamStats } from './upstream-server.ts';

export type { UpstreamStats };

export interface Upstream {
  port: number;
  stats(): Promise<UpstreamStats>;
  /** Resolves once `done(stats)` holds, polling; rejects after `timeoutMs`. */
  until(done: (stats: UpstreamStats) => boolean, timeoutMs: number, what: string): Promise<UpstreamStats>;
  stop(): Promise<void>;
}

export async function startUpstream(core: number): Promise<Upstream> {
  const script = fileURLToPath(new URL('./upstream-server.ts', import.meta.url));
  const child: ChildProcess = spawn('taskset', ['-c', String(core), process.execPath, script], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ready] = (await once(child, 'message')) as [{ ready: number }];
  let nextId = 1;
  const waiting = new Map<number, (stats: UpstreamStats) => void>();
  child.on('message', (message: { id?: number; stats?: UpstreamStats }) => {
    if (message.id !== undefined && message.stats) {
      waiting.get(message.id)?.(message.stats);
      waiting.delete(message.id);
    }
  });
  const stats = (): Promise<UpstreamStats> =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      child.send({ cmd: 'stats', id });
    });
  return {
    port: ready.ready,
    stats,
    async until(done, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = await stats();
        if (done(current)) return current;
        if (Date.now() > deadline) throw new Error(`upstream: timed out waiting for ${what}: ${JSON.stringify(current)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.send({ cmd: 'exit', id: 0 });
      await once(child, 'exit');
    },
  };
}

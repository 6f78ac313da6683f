// What the single-purpose bench scripts share with bench/run.ts: the cores, wsgate built as the
// image runs it, a work directory with the bench certificate, the echo upstream, and one target
// started on those at a time and stopped whatever happens.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCertificate } from './certs.ts';
import { BENCH_HOST } from './client.ts';
import { buildImageScript, startTarget, type RunningTarget, type TargetName, type TargetOptions } from './targets.ts';
import { startUpstream, type Upstream } from './upstream.ts';

/** The proxies run here (taskset -c), alone. */
export const PROXY_CORE = 0;
/** The load generator, the upstream and helper processes share this one. */
export const LOAD_CORE = 1;

/** A comma-separated flag value checked against what it may name; undefined when the flag is absent. */
export function parseList<T extends string>(text: string | undefined, allowed: readonly T[], flag: string): T[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) if (!allowed.includes(item as T)) throw new Error(`${flag}: "${item}" is not one of ${allowed.join(', ')}`);
  return items as T[];
}

export interface BenchSession {
  upstream: Upstream;
  /** Starts `name` with the bench's defaults (access log off) and `extra`, runs `work`, stops it. */
  withTarget<T>(name: TargetName, work: (target: RunningTarget) => Promise<T>, extra?: Pick<TargetOptions, 'traceGc'>): Promise<T>;
}

/** Builds wsgate, pins this process to the load core, starts the upstream; all undone after `work`. */
export async function withBenchSession(prefix: string, work: (session: BenchSession) => Promise<void>): Promise<void> {
  const cli = buildImageScript();
  execFileSync('taskset', ['-a', '-p', '-c', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });
  const workDir = mkdtempSync(join(tmpdir(), prefix));
  const upstream = await startUpstream(LOAD_CORE);
  try {
    const certificate = makeCertificate(workDir, BENCH_HOST);
    await work({
      upstream,
      async withTarget(name, run, extra) {
        const target = await startTarget(name, { workDir, upstreamPort: upstream.port, certificate, proxyCores: String(PROXY_CORE), loadCore: LOAD_CORE, accessLog: false, cli, ...extra });
        try {
          return await run(target);
        } finally {
          await target.stop();
        }
      },
    });
  } finally {
    await upstream.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

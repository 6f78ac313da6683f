// A CPU quota for one target, so that --workers 2 can be compared with --workers 1 on a 2-core
// machine whose second core the load generator needs: capped at a fraction of a core per worker,
// the proxy is the bottleneck in both runs and the ratio measures how its workers scale, not how
// much CPU the load generator leaves over. cgroup v1's cpu controller (cfs quota) where it is
// writable; undefined elsewhere, and the bench then says the row was not measured.
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CPU_CONTROLLER = '/sys/fs/cgroup/cpu';
const PERIOD_US = 100_000;

export interface CpuQuota {
  /** argv that puts itself into the cgroup, then execs `argv` (so every process it forks is in it too). */
  wrap(argv: string[]): string[];
  remove(): void;
}

export function cpuQuota(name: string, coresWorth: number): CpuQuota | undefined {
  if (!existsSync(join(CPU_CONTROLLER, 'cpu.cfs_quota_us'))) return undefined;
  const dir = join(CPU_CONTROLLER, name);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(Math.round(coresWorth * PERIOD_US)));
  } catch {
    return undefined;
  }
  return {
    // The shell joins the cgroup before exec, so no child can fork outside it.
    wrap: (argv) => ['sh', '-c', `echo $$ > ${join(dir, 'cgroup.procs')} && exec "$@"`, 'sh', ...argv],
    remove() {
      try {
        rmdirSync(dir);
      } catch {
        // A process of the target outlived its stop; the empty group is left behind, capping nothing.
      }
    },
  };
}

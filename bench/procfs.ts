// What a proxy costs, read from /proc: CPU time (utime + stime) and resident memory (VmRSS),
// summed over the process and its descendants (nginx's master + worker; wsgate's primary and
// any cluster workers), so a proxy's helper processes are never left out.
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ; Linux reports /proc/<pid>/stat times in it.

function readStatFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name sits in parentheses and may contain spaces: split after the last ')'.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The process and every live descendant. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const fields = readStatFields(pid);
    if (!fields) continue;
    const parent = Number(fields[1]);
    const list = children.get(parent) ?? [];
    list.push(pid);
    children.set(parent, list);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

export interface CpuTime {
  user: number;
  system: number;
}

/** utime and stime in seconds, summed over `pids`. */
export function cpuTime(pids: number[]): CpuTime {
  let user = 0;
  let system = 0;
  for (const pid of pids) {
    const fields = readStatFields(pid);
    // Fields after the name: state(0) ppid(1) ... utime(11) stime(12).
    if (!fields) continue;
    user += Number(fields[11]);
    system += Number(fields[12]);
  }
  return { user: user / CLOCK_TICKS_PER_SECOND, system: system / CLOCK_TICKS_PER_SECOND };
}

export function cpuSeconds(pids: number[]): number {
  const { user, system } = cpuTime(pids);
  return user + system;
}

/** A memory field of /proc/PID/status (VmRSS, RssAnon, RssFile...) summed over `pids`, in bytes. */
export function statusBytes(pids: number[], field: string): number {
  const pattern = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm');
  let kib = 0;
  for (const pid of pids) {
    try {
      const match = pattern.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
      if (match) kib += Number(match[1]);
    } catch {
      // The process left between listing and reading.
    }
  }
  return kib * 1024;
}

export function rssBytes(pids: number[]): number {
  return statusBytes(pids, 'VmRSS');
}

export function cpuModel(): string {
  const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'latin1'));
  return match?.[1]?.trim() ?? 'unknown';
}

// Sums self time by function in V8 .cpuprofile files (node --cpu-prof), to say what dominates
// a phase where wsgate misses its target. Also runnable: node bench/profile.ts FILE.cpuprofile
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A span of CLOCK_MONOTONIC in microseconds: V8 stamps samples on it, as process.hrtime reads it. */
export interface WindowUs {
  fromUs: number;
  toUs: number;
}

export interface SelfTime {
  name: string;
  ms: number;
  /** Share of the busy (non-idle) time. */
  share: number;
}

export interface ProfileSummary {
  busyMs: number;
  idleMs: number;
  top: SelfTime[];
  /** The same self time summed by source file (native code under its own label). */
  byFile: SelfTime[];
}

function label(frame: ProfileNode['callFrame']): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  const file = frame.url.startsWith('node:') ? frame.url : basename(frame.url);
  return `${name} ${file}:${frame.lineNumber + 1}`;
}

function fileOf(frame: ProfileNode['callFrame']): string {
  if (!frame.url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  return frame.url.startsWith('node:') ? frame.url : basename(frame.url);
}

function ranked(totals: Map<string, number>, busyMs: number, top: number): SelfTime[] {
  return [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, ms]) => ({ name, ms, share: busyMs > 0 ? ms / busyMs : 0 }));
}

/** Self time by function, only for samples inside `window` when one is given (startup left out). */
export function summariseProfile(path: string, top = 15, window?: WindowUs): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byLabel = new Map<string, number>();
  const byFile = new Map<string, number>();
  let idleMs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    // timeDeltas[i + 1] is how long the sampled stack i stayed on the CPU.
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const frame = frames.get(profile.samples[i]!);
    if (!frame) continue;
    if (frame.functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    const name = label(frame);
    byLabel.set(name, (byLabel.get(name) ?? 0) + ms);
    const file = fileOf(frame);
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
  }
  const busyMs = [...byLabel.values()].reduce((sum, ms) => sum + ms, 0);
  return { busyMs, idleMs, top: ranked(byLabel, busyMs, top), byFile: ranked(byFile, busyMs, 8) };
}

export function formatSummary(summary: ProfileSummary): string {
  const lines = [`busy ${summary.busyMs.toFixed(0)} ms (idle ${summary.idleMs.toFixed(0)} ms); top self time:`];
  const row = (entry: SelfTime): string => `  ${(entry.share * 100).toFixed(1).padStart(5)}%  ${entry.ms.toFixed(0).padStart(6)} ms  ${entry.name}`;
  lines.push(...summary.top.map(row), 'by file:', ...summary.byFile.map(row));
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const file of process.argv.slice(2)) process.stdout.write(`${file}\n${formatSummary(summariseProfile(file))}\n`);
}

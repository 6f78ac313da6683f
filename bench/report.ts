// Turns phase results into rows: raw numbers per target, the ratio to nginx, the issue's target
// and a verdict; prints them and renders docs/benchmarks.md.
import type { HandshakeResult, IdleResult, LatencyResult, PhaseResult, RelayResult, SlowReaderResult } from './phases.ts';
import type { TargetName } from './targets.ts';

export const PHASES = ['relay1k', 'relay64k', 'latency', 'handshake', 'idle', 'slow'] as const;
export type PhaseName = (typeof PHASES)[number];
export type Results = Partial<Record<PhaseName, Partial<Record<TargetName, PhaseResult>>>>;

export interface Row {
  phase: PhaseName;
  metric: string;
  values: Partial<Record<TargetName, number>>;
  /** wsgate / nginx where the target is a ratio. */
  ratio?: number;
  target: string;
  verdict: 'pass' | 'MISS' | 'n/a';
  /** How far off a miss is, in words. */
  miss?: string;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** "Not at all once the flow is steady": RSS between 2/3 and the end of the run grows under this. */
export const SLOW_READER_FLAT_BYTES = 1 * MiB;
export const SLOW_READER_LIMIT_BYTES = 16 * MiB;

function each<T extends PhaseResult>(results: Results, phase: PhaseName, measure: (r: T) => number): Partial<Record<TargetName, number>> {
  const values: Partial<Record<TargetName, number>> = {};
  for (const [name, result] of Object.entries(results[phase] ?? {})) values[name as TargetName] = measure(result as T);
  return values;
}

function ratioRow(phase: PhaseName, metric: string, values: Partial<Record<TargetName, number>>, limit: number): Row {
  const { wsgate, nginx } = values;
  if (wsgate === undefined || nginx === undefined || nginx === 0) return { phase, metric, values, target: `≤ ${limit}x nginx`, verdict: 'n/a' };
  const ratio = wsgate / nginx;
  const pass = ratio <= limit;
  return {
    phase, metric, values, ratio, target: `≤ ${limit}x nginx`, verdict: pass ? 'pass' : 'MISS',
    ...(pass ? {} : { miss: `${ratio.toFixed(2)}x against ≤ ${limit}x (${((ratio / limit - 1) * 100).toFixed(0)}% over)` }),
  };
}

export function evaluate(results: Results): Row[] {
  const rows: Row[] = [];
  if (results.relay1k) {
    rows.push(ratioRow('relay1k', 'relay 1 KiB: proxy CPU s per 1M messages', each<RelayResult>(results, 'relay1k', (r) => (r.cpuSeconds / r.messages) * 1e6), 1.25));
  }
  if (results.relay64k) {
    rows.push(ratioRow('relay64k', 'relay 64 KiB: proxy CPU s per GiB', each<RelayResult>(results, 'relay64k', (r) => r.cpuSeconds / ((r.messages * r.payloadBytes) / GiB)), 1.0));
  }
  if (results.latency) {
    const p50 = each<LatencyResult>(results, 'latency', (r) => r.p50Us);
    const p99 = each<LatencyResult>(results, 'latency', (r) => r.p99Us);
    rows.push({ phase: 'latency', metric: 'round trip p50 (µs)', values: p50, target: '', verdict: 'n/a' });
    rows.push({ phase: 'latency', metric: 'round trip p99 (µs)', values: p99, target: '', verdict: 'n/a' });
    const added = (p: Partial<Record<TargetName, number>>): Partial<Record<TargetName, number>> => {
      const out: Partial<Record<TargetName, number>> = {};
      if (p.direct === undefined) return out;
      for (const name of ['wsgate', 'nginx'] as const) if (p[name] !== undefined) out[name] = p[name]! - p.direct;
      return out;
    };
    const added50 = added(p50);
    rows.push({ phase: 'latency', metric: 'added p50 vs direct (µs)', values: added50, ...(added50.nginx && added50.wsgate !== undefined ? { ratio: added50.wsgate! / added50.nginx } : {}), target: '', verdict: 'n/a' });
    const added99 = added(p99);
    const row: Row = { phase: 'latency', metric: 'added p99 vs direct (µs)', values: added99, target: '≤ nginx + 1000 µs', verdict: 'n/a' };
    if (added99.wsgate !== undefined && added99.nginx !== undefined) {
      if (added99.nginx > 0) row.ratio = added99.wsgate / added99.nginx;
      const over = added99.wsgate - (added99.nginx + 1000);
      row.verdict = over <= 0 ? 'pass' : 'MISS';
      if (over > 0) row.miss = `${over.toFixed(0)} µs over nginx + 1 ms`;
    }
    rows.push(row);
  }
  if (results.handshake) {
    rows.push(ratioRow('handshake', 'handshake: proxy CPU s per 1000 new wss connections', each<HandshakeResult>(results, 'handshake', (r) => (r.cpuSeconds / r.connections) * 1000), 1.5));
  }
  if (results.idle) {
    const n = Object.values(results.idle)[0]?.kind === 'idle' ? (Object.values(results.idle)[0] as IdleResult).connections : 0;
    rows.push(ratioRow('idle', `RSS per idle wss connection at ${n} (KiB)`, each<IdleResult>(results, 'idle', (r) => (r.rssAfterBytes - r.rssBeforeBytes) / r.connections / 1024), 1.0));
  }
  if (results.slow) {
    const max = each<SlowReaderResult>(results, 'slow', (r) => r.maxGrowthBytes / MiB);
    const climb = each<SlowReaderResult>(results, 'slow', (r) => (r.growthAtEndBytes - r.growthAtTwoThirdsBytes) / MiB);
    const maxRow: Row = { phase: 'slow', metric: 'slow reader: max RSS growth (MiB)', values: max, target: '< 16 MiB', verdict: 'n/a' };
    if (max.wsgate !== undefined) {
      maxRow.verdict = max.wsgate < SLOW_READER_LIMIT_BYTES / MiB ? 'pass' : 'MISS';
      if (maxRow.verdict === 'MISS') maxRow.miss = `${max.wsgate.toFixed(1)} MiB against < 16 MiB`;
    }
    const climbRow: Row = { phase: 'slow', metric: 'slow reader: RSS growth from 2/3 to end (MiB)', values: climb, target: '< 1 MiB (flat)', verdict: 'n/a' };
    if (climb.wsgate !== undefined) {
      climbRow.verdict = climb.wsgate < SLOW_READER_FLAT_BYTES / MiB ? 'pass' : 'MISS';
      if (climbRow.verdict === 'MISS') climbRow.miss = `still climbing: +${climb.wsgate.toFixed(1)} MiB in the last third`;
    }
    rows.push(maxRow, climbRow);
  }
  return rows;
}

/** The one number a phase's verdict rests on, to pick the median of repeated runs by. */
export function headline(result: PhaseResult): number {
  switch (result.kind) {
    case 'relay': return result.cpuSeconds / (result.messages * result.payloadBytes);
    case 'latency': return result.p99Us;
    case 'handshake': return result.cpuSeconds / result.connections;
    case 'idle': return (result.rssAfterBytes - result.rssBeforeBytes) / result.connections;
    case 'slow': return result.maxGrowthBytes;
  }
}

/** The headline in the table's unit, for the spread of repeated runs. */
export function headlineInTableUnits(result: PhaseResult): string {
  switch (result.kind) {
    case 'relay': return result.payloadBytes === 1024 ? `${((result.cpuSeconds / result.messages) * 1e6).toFixed(2)} s/1M` : `${(result.cpuSeconds / ((result.messages * result.payloadBytes) / GiB)).toFixed(2)} s/GiB`;
    case 'latency': return `p99 ${result.p99Us.toFixed(0)} µs`;
    case 'handshake': return `${((result.cpuSeconds / result.connections) * 1000).toFixed(2)} s/1000`;
    case 'idle': return `${((result.rssAfterBytes - result.rssBeforeBytes) / result.connections / 1024).toFixed(1)} KiB`;
    case 'slow': return `${(result.maxGrowthBytes / MiB).toFixed(1)} MiB`;
  }
}

export function medianRun<T extends PhaseResult>(runs: T[]): T {
  const sorted = [...runs].sort((a, b) => headline(a) - headline(b));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function format(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '—';
  const magnitude = Math.abs(value);
  return magnitude >= 100 ? value.toFixed(0) : magnitude >= 10 ? value.toFixed(1) : magnitude >= 1 ? value.toFixed(2) : value.toFixed(3);
}

const HEADER = ['metric', 'wsgate', 'nginx', 'direct', 'wsgate / nginx', 'target', 'verdict'];

function cells(row: Row): string[] {
  return [row.metric, format(row.values.wsgate), format(row.values.nginx), format(row.values.direct), row.ratio === undefined ? '—' : `${row.ratio.toFixed(2)}x`, row.target || '—', row.verdict === 'n/a' ? '—' : row.verdict];
}

export function markdownTable(rows: Row[]): string {
  const lines = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const row of rows) lines.push(`| ${cells(row).join(' | ')} |`);
  return lines.join('\n');
}

export function consoleTable(rows: Row[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return table.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

/** Throughput and context that explain the headline numbers. */
export function detailLines(results: Results): string[] {
  const lines: string[] = [];
  for (const phase of ['relay1k', 'relay64k'] as const) {
    for (const [name, r] of Object.entries(results[phase] ?? {}) as [TargetName, RelayResult][]) {
      const mib = (r.messages * r.payloadBytes) / MiB;
      lines.push(`${phase} ${name}: ${r.messages} messages (${mib.toFixed(0)} MiB payload) in ${r.wallSeconds.toFixed(2)} s = ${(mib / r.wallSeconds).toFixed(0)} MiB/s; proxy CPU ${r.cpuSeconds.toFixed(2)} s, ${r.systemSeconds.toFixed(2)} of it in the kernel (${((r.cpuSeconds / r.wallSeconds) * 100).toFixed(0)}% of its core); client TLS ${r.tls}`);
    }
  }
  for (const [name, r] of Object.entries(results.latency ?? {}) as [TargetName, LatencyResult][]) {
    lines.push(`latency ${name}: ${r.rounds} round trips, p50 ${r.p50Us.toFixed(0)} µs, p99 ${r.p99Us.toFixed(0)} µs, mean ${r.meanUs.toFixed(0)} µs`);
  }
  for (const [name, r] of Object.entries(results.handshake ?? {}) as [TargetName, HandshakeResult][]) {
    lines.push(`handshake ${name}: ${r.connections} connections in ${r.wallSeconds.toFixed(2)} s (${(r.connections / r.wallSeconds).toFixed(0)}/s); proxy CPU ${r.cpuSeconds.toFixed(2)} s, ${r.systemSeconds.toFixed(2)} of it in the kernel`);
  }
  for (const [name, r] of Object.entries(results.idle ?? {}) as [TargetName, IdleResult][]) {
    lines.push(`idle ${name}: RSS (${r.processes} process${r.processes === 1 ? '' : 'es'}) ${(r.rssBeforeBytes / MiB).toFixed(1)} MiB before, ${(r.rssAfterBytes / MiB).toFixed(1)} MiB with ${r.connections} connections`);
  }
  for (const [name, r] of Object.entries(results.slow ?? {}) as [TargetName, SlowReaderResult][]) {
    const series = r.growthSeriesBytes.map((bytes) => (bytes / MiB).toFixed(1)).join(', ');
    lines.push(`slow ${name}: RSS growth (MiB) every 5 s: ${series}`);
    lines.push(`slow ${name}: client had read (MiB) at the same moments: ${r.clientReadSeriesBytes.map((bytes) => (bytes / MiB).toFixed(1)).join(', ')}`);
    lines.push(`slow ${name}: baseline RSS ${(r.baselineBytes / MiB).toFixed(1)} MiB; growth max ${(r.maxGrowthBytes / MiB).toFixed(1)}, at 2/3 ${(r.growthAtTwoThirdsBytes / MiB).toFixed(1)}, at end ${(r.growthAtEndBytes / MiB).toFixed(1)} MiB over ${r.seconds} s; client read ${(r.clientReadBytes / MiB).toFixed(1)} MiB, upstream wrote ${(r.upstreamWroteBytes / MiB).toFixed(1)} MiB`);
  }
  return lines;
}

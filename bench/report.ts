// Turns phase results into the issue's table: raw numbers per target, wsgate's ratio to nginx
// and to the best C anchor, the bar and a verdict per wsgate mode; prints it and renders the
// data-plane section of docs/benchmarks.md.
import type { EchoResult, HandshakeResult, IdleResult, LatencyResult, PhaseResult, RestResult, SlowReaderResult } from './phases.ts';
import { ANCHORS, WSGATE_TARGETS, type TargetName } from './targets.ts';

export const PHASES = ['rest', 'echo1k', 'echo64k', 'latency', 'handshake', 'resumed', 'idle', 'slow', 'workers'] as const;
export type PhaseName = (typeof PHASES)[number];
/** Every run of every phase on every target; `slow` holds both directions, `workers` wsgate-proxy at 1 and 2 workers. */
export type Runs = Partial<Record<PhaseName, Partial<Record<string, PhaseResult[]>>>>;

export type Bar =
  | { kind: 'ratio'; limit: number }
  | { kind: 'below'; limit: number; unit: string }
  | { kind: 'atLeast'; limit: number };

export interface Row {
  phase: PhaseName;
  metric: string;
  /** The median run's value per target (keys: target names, or `w1`/`w2` for the workers row). */
  values: Partial<Record<string, number>>;
  /** Every run's value per target, for the spread. */
  spread: Partial<Record<string, number[]>>;
  bar?: Bar;
  /** Per wsgate mode: its value / nginx's and / the best anchor's. */
  ratios: Partial<Record<TargetName, { nginx?: number; best?: number }>>;
  verdicts: Partial<Record<TargetName, 'pass' | 'MISS'>>;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
export const SLOW_READER_LIMIT_MIB = 8;
export const SLOW_READER_FLAT_MIB = 1;
export const GC_PAUSE_LIMIT_MS = 5;
/** Cores' worth of CPU per worker in the capped workers row: low enough that the load generator keeps up with two. */
export const WORKER_QUOTA = 0.3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function collect<T extends PhaseResult>(runs: Runs, phase: PhaseName, measure: (r: T) => number | undefined, filter: (r: T) => boolean = () => true): Pick<Row, 'values' | 'spread'> {
  const values: Row['values'] = {};
  const spread: Row['spread'] = {};
  for (const [name, list] of Object.entries(runs[phase] ?? {})) {
    const numbers = (list as T[]).filter(filter).map(measure).filter((x): x is number => x !== undefined && Number.isFinite(x));
    if (numbers.length === 0) continue;
    spread[name] = numbers;
    values[name] = median(numbers);
  }
  return { values, spread };
}

function judge(phase: PhaseName, metric: string, data: Pick<Row, 'values' | 'spread'>, bar?: Bar, withRatios = true): Row {
  const row: Row = { phase, metric, ...data, ratios: {}, verdicts: {}, ...(bar ? { bar } : {}) };
  const anchors = ANCHORS.map((name) => data.values[name]).filter((x): x is number => x !== undefined && x > 0);
  const best = anchors.length > 0 ? Math.min(...anchors) : undefined;
  for (const name of WSGATE_TARGETS) {
    const value = data.values[name];
    if (value === undefined) continue;
    const nginx = data.values.nginx;
    if (withRatios) row.ratios[name] = { ...(nginx ? { nginx: value / nginx } : {}), ...(best ? { best: value / best } : {}) };
    if (!bar) continue;
    if (bar.kind === 'ratio' && nginx) row.verdicts[name] = value / nginx <= bar.limit ? 'pass' : 'MISS';
    if (bar.kind === 'below') row.verdicts[name] = value < bar.limit ? 'pass' : 'MISS';
  }
  return row;
}

export function evaluate(runs: Runs): Row[] {
  const rows: Row[] = [];
  const ms = 1 / 1000;
  if (runs.echo1k) {
    rows.push(judge('echo1k', 'echo, 100 conns, 1 KiB: proxy CPU s per 1M messages', collect<EchoResult>(runs, 'echo1k', (r) => (r.cpuSeconds / (2 * r.roundTrips)) * 1e6), { kind: 'ratio', limit: 1.25 }));
    rows.push(judge('echo1k', 'loaded round trip p50, 1 KiB (ms)', collect<EchoResult>(runs, 'echo1k', (r) => r.p50Us * ms)));
    rows.push(judge('echo1k', 'loaded round trip p99, 1 KiB (ms)', collect<EchoResult>(runs, 'echo1k', (r) => r.p99Us * ms), { kind: 'ratio', limit: 1.5 }));
    rows.push(judge('echo1k', 'loaded round trip p99.9, 1 KiB (ms)', collect<EchoResult>(runs, 'echo1k', (r) => r.p999Us * ms), { kind: 'ratio', limit: 1.5 }));
  }
  if (runs.echo64k) {
    rows.push(judge('echo64k', 'echo, 100 conns, 64 KiB: proxy CPU s per GiB', collect<EchoResult>(runs, 'echo64k', (r) => r.cpuSeconds / ((2 * r.roundTrips * r.payloadBytes) / GiB)), { kind: 'ratio', limit: 1.0 }));
  }
  if (runs.latency) {
    rows.push(judge('latency', 'unloaded round trip p50, 1 KiB (µs)', collect<LatencyResult>(runs, 'latency', (r) => r.p50Us)));
    rows.push(judge('latency', 'unloaded round trip p99, 1 KiB (µs)', collect<LatencyResult>(runs, 'latency', (r) => r.p99Us)));
    rows.push(judge('latency', 'unloaded round trip p99.9, 1 KiB (µs)', collect<LatencyResult>(runs, 'latency', (r) => r.p999Us)));
  }
  if (runs.handshake) {
    rows.push(judge('handshake', 'full TLS handshake + upgrade: proxy CPU ms per 1000', collect<HandshakeResult>(runs, 'handshake', (r) => (r.cpuSeconds / r.connections) * 1e6), { kind: 'ratio', limit: 1.5 }));
  }
  if (runs.resumed) {
    rows.push(judge('resumed', 'resumed TLS handshake + upgrade: proxy CPU ms per 1000', collect<HandshakeResult>(runs, 'resumed', (r) => (r.cpuSeconds / r.connections) * 1e6), { kind: 'ratio', limit: 1.5 }));
  }
  if (runs.idle) {
    const n = (Object.values(runs.idle)[0]?.[0] as IdleResult | undefined)?.connections ?? 0;
    rows.push(judge('idle', `RSS per idle wss connection, ${n} held (KiB)`, collect<IdleResult>(runs, 'idle', (r) => (r.rssAfterBytes - r.rssBeforeBytes) / r.connections / 1024), { kind: 'below', limit: 36.01, unit: 'KiB' }));
  }
  if (runs.rest) {
    const row = judge('rest', 'RSS of the proxy at rest (MiB)', collect<RestResult>(runs, 'rest', (r) => r.rssBytes / MiB), { kind: 'below', limit: 64.01, unit: 'MiB' });
    // The bar is for the sidecar's proxy container; `run` says what the controller adds.
    delete row.verdicts['wsgate-run'];
    rows.push(row);
  }
  if (runs.slow) {
    for (const direction of ['downstream', 'upstream'] as const) {
      const mine = (r: SlowReaderResult): boolean => r.direction === direction;
      const label = direction === 'downstream' ? 'slow client' : 'slow backend';
      rows.push(judge('slow', `${label} (64 MiB at 32 MiB/s): proxy RSS growth (MiB)`, collect<SlowReaderResult>(runs, 'slow', (r) => r.maxGrowthBytes / MiB, mine), { kind: 'below', limit: SLOW_READER_LIMIT_MIB, unit: 'MiB' }, false));
      rows.push(judge('slow', `${label}: growth in the second half (MiB)`, collect<SlowReaderResult>(runs, 'slow', (r) => (r.growthAtEndBytes - r.growthAtHalfBytes) / MiB, mine), { kind: 'below', limit: SLOW_READER_FLAT_MIB, unit: 'MiB' }, false));
      rows.push(judge('slow', `${label}: longest GC pause (ms)`, collect<SlowReaderResult>(runs, 'slow', (r) => r.gcMaxPauseMs, mine), { kind: 'below', limit: GC_PAUSE_LIMIT_MS, unit: 'ms' }, false));
    }
  }
  if (runs.workers) {
    const { values: all, spread: allSpread } = collect<EchoResult>(runs, 'workers', (r) => r.roundTrips / r.wallSeconds);
    const variants = [
      ['', '`wsgate proxy --workers 2` vs 1: 1 KiB echo round trips/s'],
      ['cap', `\`wsgate proxy --workers 2\` vs 1, capped at ${WORKER_QUOTA} of a core per worker: 1 KiB echo round trips/s`],
    ] as const;
    for (const [suffix, metric] of variants) {
      const one = all[`w1${suffix}`];
      const two = all[`w2${suffix}`];
      if (one === undefined && two === undefined) continue;
      const ratio = one && two ? two / one : undefined;
      rows.push({
        phase: 'workers',
        metric,
        values: { w1: one, w2: two },
        spread: { w1: allSpread[`w1${suffix}`] ?? [], w2: allSpread[`w2${suffix}`] ?? [] },
        bar: { kind: 'atLeast', limit: 1.7 },
        ratios: ratio === undefined ? {} : { 'wsgate-proxy': { nginx: ratio } },
        verdicts: ratio === undefined ? {} : { 'wsgate-proxy': ratio >= 1.7 ? 'pass' : 'MISS' },
      });
    }
  }
  return rows;
}

/** The one number a run is judged by, to show the spread of repeated runs. */
export function headline(result: PhaseResult): number {
  switch (result.kind) {
    case 'echo': return result.cpuSeconds / (result.roundTrips * result.payloadBytes);
    case 'latency': return result.p99Us;
    case 'handshake': return result.cpuSeconds / result.connections;
    case 'idle': return (result.rssAfterBytes - result.rssBeforeBytes) / result.connections;
    case 'rest': return result.rssBytes;
    case 'slow': return result.maxGrowthBytes;
  }
}

function format(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '—';
  const magnitude = Math.abs(value);
  return magnitude >= 100 ? value.toFixed(0) : magnitude >= 10 ? value.toFixed(1) : magnitude >= 1 ? value.toFixed(2) : value.toFixed(3);
}

const COLUMNS: TargetName[] = ['nginx', 'nginx-16k', 'haproxy', 'wsgate-proxy', 'wsgate-run', 'direct'];

function barText(bar: Bar | undefined): string {
  if (!bar) return '—';
  if (bar.kind === 'ratio') return `≤ ${bar.limit}x nginx`;
  if (bar.kind === 'atLeast') return `≥ ${bar.limit}x`;
  return `< ${Math.floor(bar.limit)} ${bar.unit}`;
}

function ratioText(ratio: number | undefined): string {
  return ratio === undefined ? '—' : `${ratio.toFixed(2)}x`;
}

function cells(row: Row): string[] {
  if (row.phase === 'workers') {
    const r = row.ratios['wsgate-proxy']?.nginx;
    return [row.metric, '—', '—', '—', `w1 ${format(row.values.w1)}, w2 ${format(row.values.w2)}: ${ratioText(r)}`, '—', '—', '—', '—', '—', barText(row.bar), `proxy ${row.verdicts['wsgate-proxy'] ?? '—'}`];
  }
  const verdict = WSGATE_TARGETS.map((name) => row.verdicts[name]).some((v) => v !== undefined)
    ? WSGATE_TARGETS.map((name) => `${name === 'wsgate-proxy' ? 'proxy' : 'run'} ${row.verdicts[name] ?? '—'}`).join(', ')
    : '—';
  return [
    row.metric,
    ...COLUMNS.map((name) => format(row.values[name])),
    ratioText(row.ratios['wsgate-proxy']?.nginx), ratioText(row.ratios['wsgate-run']?.nginx),
    `${ratioText(row.ratios['wsgate-proxy']?.best)} / ${ratioText(row.ratios['wsgate-run']?.best)}`,
    barText(row.bar), verdict,
  ];
}

const HEADER = ['metric', ...COLUMNS, 'proxy / nginx', 'run / nginx', 'proxy / best, run / best', 'bar', 'verdict'];

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

/** Each row's runs, so the reader sees how far the median can be trusted. */
export function spreadLines(rows: Row[]): string[] {
  const lines: string[] = [];
  for (const row of rows) {
    const parts = Object.entries(row.spread).filter(([, list]) => list && list.length > 1).map(([name, list]) => `${name} ${list!.map(format).join(', ')}`);
    if (parts.length > 0) lines.push(`${row.metric}: ${parts.join('; ')}`);
  }
  return lines;
}

/** Throughput and context that explain the headline numbers (the median run of each). */
export function detailLines(runs: Runs): string[] {
  const lines: string[] = [];
  const medianBy = <T extends PhaseResult>(list: T[]): T => [...list].sort((a, b) => headline(a) - headline(b))[Math.floor((list.length - 1) / 2)]!;
  for (const phase of ['echo1k', 'echo64k', 'workers'] as const) {
    for (const [name, list] of Object.entries(runs[phase] ?? {}) as [string, EchoResult[]][]) {
      const r = medianBy(list);
      const mib = (2 * r.roundTrips * r.payloadBytes) / MiB;
      lines.push(`${phase} ${name}: ${r.roundTrips} round trips in ${r.wallSeconds.toFixed(1)} s = ${(r.roundTrips / r.wallSeconds).toFixed(0)}/s (${(mib / r.wallSeconds).toFixed(0)} MiB/s relayed); proxy CPU ${r.cpuSeconds.toFixed(2)} s, ${r.systemSeconds.toFixed(2)} in the kernel (${((r.cpuSeconds / r.wallSeconds) * 100).toFixed(0)}% of a core); p50 ${(r.p50Us / 1000).toFixed(2)} ms, p99 ${(r.p99Us / 1000).toFixed(2)}, p99.9 ${(r.p999Us / 1000).toFixed(2)}; ${r.tls}`);
    }
  }
  for (const phase of ['handshake', 'resumed'] as const) {
    for (const [name, list] of Object.entries(runs[phase] ?? {}) as [string, HandshakeResult[]][]) {
      const r = medianBy(list);
      lines.push(`${phase} ${name}: ${r.connections} connections in ${r.wallSeconds.toFixed(2)} s (${(r.connections / r.wallSeconds).toFixed(0)}/s), ${(r.resumedShare * 100).toFixed(0)}% resumed; proxy CPU ${r.cpuSeconds.toFixed(2)} s, ${r.systemSeconds.toFixed(2)} in the kernel`);
    }
  }
  for (const [name, list] of Object.entries(runs.idle ?? {}) as [string, IdleResult[]][]) {
    const r = medianBy(list);
    lines.push(`idle ${name}: RSS (${r.processes} process${r.processes === 1 ? '' : 'es'}) ${(r.rssBeforeBytes / MiB).toFixed(1)} MiB before, ${(r.rssAfterBytes / MiB).toFixed(1)} MiB with ${r.connections} connections`);
  }
  for (const [name, list] of Object.entries(runs.rest ?? {}) as [string, RestResult[]][]) {
    lines.push(`rest ${name}: ${list.map((r) => (r.rssBytes / MiB).toFixed(1)).join(', ')} MiB (${list[0]!.processes} process${list[0]!.processes === 1 ? '' : 'es'})`);
  }
  for (const [name, list] of Object.entries(runs.slow ?? {}) as [string, SlowReaderResult[]][]) {
    for (const r of list) {
      const gc = r.gcMaxPauseMs === undefined ? '' : `; ${r.gcCount} GCs, longest pause ${r.gcMaxPauseMs.toFixed(2)} ms (${r.gcLongestKind ?? '?'})`;
      lines.push(`slow ${r.direction} ${name}: baseline ${(r.baselineBytes / MiB).toFixed(1)} MiB (${r.warmupBytes === undefined ? '' : `${(r.warmupBytes / MiB).toFixed(1)} over the fresh start after the unmeasured transfer`}); growth (MiB) at each tenth: ${r.growthSeriesBytes.map((b) => (b / MiB).toFixed(1)).join(', ')}; ${(r.totalBytes / MiB).toFixed(0)} MiB in ${r.seconds.toFixed(1)} s${gc}`);
    }
  }
  return lines;
}

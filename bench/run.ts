// `npm run bench`: wsgate against Debian's nginx and a direct connection, same machine, same run.
// Each proxy is pinned to core 0 and started fresh for every phase; this process (the load
// generator) and the upstream run on core 1. Prints a table and, on a full run, writes
// docs/benchmarks.md.
//   npm run bench                      full run, writes docs/benchmarks.md
//   npm run bench -- --quick           smaller counts (printed only, unless --write)
//   npm run bench -- --only relay1k,latency --targets wsgate,nginx,direct
//   npm run bench -- --no-profile      skip the CPU profiles of wsgate's misses
//   npm run bench -- --repeat 5        runs of relay/latency/handshake (median reported; default 5, 1 with --quick)
//   npm run bench -- --only slow --targets wsgate --slow-seconds 90
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeCertificate } from './certs.ts';
import { BENCH_HOST } from './client.ts';
import { handshakes, idleConnections, latencyInterleaved, relay, slowReader, type PhaseContext, type PhaseResult } from './phases.ts';
import { cpuModel } from './procfs.ts';
import { formatSummary, summariseProfile, type WindowUs } from './profile.ts';
import { consoleTable, detailLines, evaluate, headlineInTableUnits, markdownTable, medianRun, PHASES, type PhaseName, type Results, type Row } from './report.ts';
import { NGINX_BINARY, startTarget, type RunningTarget, type TargetName, type TargetOptions } from './targets.ts';
import { startUpstream } from './upstream.ts';

const PROXY_CORE = 0;
const LOAD_CORE = 1;
const ALL_TARGETS: TargetName[] = ['direct', 'nginx', 'wsgate'];
/** The short, noisy phases, repeated (interleaved) so the median run decides. */
const REPEATED: PhaseName[] = ['relay1k', 'relay64k', 'latency', 'handshake'];
/** Phases where the direct path has no proxy to measure. */
const PROXY_ONLY: PhaseName[] = ['relay1k', 'relay64k', 'handshake', 'idle', 'slow'];

interface Sizes {
  relay1kMessages: number;
  relay64kMessages: number;
  latencyRounds: number;
  handshakeConnections: number;
  idleConnections: number;
  slowSeconds: number;
}
const FULL: Sizes = { relay1kMessages: 1_000_000, relay64kMessages: 16_384, latencyRounds: 20_000, handshakeConnections: 3000, idleConnections: 5000, slowSeconds: 120 };
const QUICK: Sizes = { relay1kMessages: 200_000, relay64kMessages: 4096, latencyRounds: 5000, handshakeConnections: 1000, idleConnections: 1000, slowSeconds: 10 };

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Runs one phase on the given targets, all started together; latency is the one phase that takes several at once. */
async function runPhase(phase: PhaseName, contexts: Map<TargetName, PhaseContext>, sizes: Sizes): Promise<Map<TargetName, PhaseResult>> {
  if (phase === 'latency') return latencyInterleaved(contexts, sizes.latencyRounds) as Promise<Map<TargetName, PhaseResult>>;
  const [[name, ctx]] = [...contexts] as [[TargetName, PhaseContext]];
  const single = (): Promise<PhaseResult> => {
    switch (phase) {
      case 'relay1k': return relay(ctx, 1024, sizes.relay1kMessages);
      case 'relay64k': return relay(ctx, 65536, sizes.relay64kMessages);
      case 'handshake': return handshakes(ctx, sizes.handshakeConnections);
      case 'idle': return idleConnections(ctx, sizes.idleConnections);
      case 'slow': return slowReader(ctx, sizes.slowSeconds);
    }
  };
  return new Map([[name, await single()]]);
}

function parseList<T extends string>(text: string | undefined, allowed: readonly T[], flag: string): T[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) if (!allowed.includes(item as T)) throw new Error(`${flag}: "${item}" is not one of ${allowed.join(', ')}`);
  return items as T[];
}

function machine(): string[] {
  // Tools print their version on stdout or stderr (nginx -v uses stderr): take whichever has it.
  const version = (command: string, args: string[]): string => {
    const run = spawnSync(command, args, { encoding: 'utf8' });
    return `${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n')[0] || 'unknown';
  };
  // cpus(), not availableParallelism(): this process is pinned to one core by now.
  return [
    `CPU: ${cpuModel()}, ${cpus().length} cores; Linux ${release()}`,
    `Load average when the run started: ${readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ')} (other processes on the machine are not stopped; the spread of repeated runs is under Details)`,
    `Node ${process.version} (wsgate and the load generator); ${version(NGINX_BINARY, ['-v'])}; ${version('openssl', ['version'])}`,
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      targets: { type: 'string' },
      profile: { type: 'boolean', default: true },
      'no-profile': { type: 'boolean', default: false },
      write: { type: 'boolean' },
      repeat: { type: 'string' },
      'slow-seconds': { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`npm run bench -- [--quick] [--only ${PHASES.join(',')}] [--targets ${ALL_TARGETS.join(',')}] [--repeat N] [--slow-seconds S] [--no-profile] [--write|--no-write]\n`);
    return;
  }
  const sizes = { ...(values.quick ? QUICK : FULL) };
  if (values['slow-seconds']) sizes.slowSeconds = Number(values['slow-seconds']);
  const repeat = Number(values.repeat ?? (values.quick ? 1 : 5));
  if (!Number.isInteger(repeat) || repeat < 1 || !(sizes.slowSeconds >= 3)) throw new Error('--repeat wants a whole number ≥ 1, --slow-seconds a number ≥ 3');
  const phases = parseList(values.only, PHASES, '--only') ?? [...PHASES];
  const targets = parseList(values.targets, ALL_TARGETS, '--targets') ?? ALL_TARGETS;
  const fullRun = !values.quick && !values.only && !values.targets && !values['slow-seconds'] && repeat >= 5;
  const write = values['no-write'] ? false : (values.write ?? fullRun);
  const profileMisses = values.profile && !values['no-profile'];
  const argv = process.argv.slice(2);
  const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;

  // The load generator shares core 1 with the upstream; the proxies get core 0 to themselves.
  execFileSync('taskset', ['-a', '-p', '-c', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });
  const workDir = mkdtempSync(join(tmpdir(), 'wsgate-bench-'));
  const certificate = makeCertificate(workDir, BENCH_HOST);
  const upstream = await startUpstream(LOAD_CORE);
  const started = new Date();
  const machineLines = machine();
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  log(`bench: ${command}; work dir ${workDir}`);

  const results: Results = {};
  const failures: string[] = [];
  let lastWindow: WindowUs | undefined;
  const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
  const runOn = async (phase: PhaseName, names: TargetName[], extra: Partial<TargetOptions> = {}): Promise<Map<TargetName, PhaseResult>> => {
    const options: TargetOptions = { workDir, upstreamPort: upstream.port, certificate, proxyCore: PROXY_CORE, ...extra };
    const running: RunningTarget[] = [];
    const label = `${phase} on ${names.join(' + ')}`;
    try {
      const contexts = new Map<TargetName, PhaseContext>();
      for (const name of names) {
        const target = await startTarget(name, options);
        running.push(target);
        contexts.set(name, { target, upstream, log });
      }
      const t0 = performance.now();
      const fromUs = nowUs();
      const result = await runPhase(phase, contexts, sizes);
      lastWindow = { fromUs, toUs: nowUs() };
      log(`  ${label}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return result;
    } catch (error) {
      const message = `${label} failed: ${(error as Error).message}`;
      failures.push(message);
      log(`  ${message}`);
      return new Map();
    } finally {
      for (const target of running) await target.stop();
    }
  };

  const runs: Partial<Record<PhaseName, Partial<Record<TargetName, PhaseResult[]>>>> = {};
  try {
    for (let round = 0; round < repeat; round++) {
      for (const phase of phases) {
        if (round > 0 && !REPEATED.includes(phase)) continue;
        const batches = phase === 'latency' ? [targets] : targets.filter((name) => name !== 'direct' || !PROXY_ONLY.includes(phase)).map((name) => [name]);
        for (const names of batches) {
          for (const [name, result] of await runOn(phase, names)) ((runs[phase] ??= {})[name] ??= []).push(result);
        }
      }
    }
    const spread: string[] = [];
    for (const [phase, byTarget] of Object.entries(runs) as [PhaseName, Partial<Record<TargetName, PhaseResult[]>>][]) {
      const round = phase === 'latency' ? medianLatencyRound(byTarget) : undefined;
      for (const [name, list] of Object.entries(byTarget) as [TargetName, PhaseResult[]][]) {
        (results[phase] ??= {})[name] = round === undefined ? medianRun(list) : list[round]!;
        if (list.length > 1) spread.push(`${phase} ${name}: ${list.length} runs, ${list.map(headlineInTableUnits).join(', ')} (the median is in the table)`);
      }
    }
    const rows = evaluate(results);
    log(`\n${consoleTable(rows)}\n`);
    const details = [...detailLines(results), ...spread];
    for (const line of details) log(line);

    const profiles = profileMisses ? await profileMissedPhases(rows, runOn, () => lastWindow, workDir, log) : [];
    for (const failure of failures) log(`FAILED: ${failure}`);
    if (write) {
      const path = join(repoRoot, 'docs', 'benchmarks.md');
      writeFileSync(path, renderMarkdown({ rows, details, profiles, failures, command, started, sizes, repeat, machineLines }));
      log(`wrote ${path}`);
    }
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    await upstream.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

/**
 * Latency targets share each round (they run side by side), so one whole round is reported: the
 * one with the median wsgate-minus-nginx p99, the quantity the target is about.
 */
function medianLatencyRound(byTarget: Partial<Record<TargetName, PhaseResult[]>>): number | undefined {
  const lists = Object.values(byTarget);
  const rounds = lists[0]?.length ?? 0;
  if (rounds < 2 || lists.some((list) => list.length !== rounds)) return undefined;
  const p99 = (name: TargetName, i: number): number => {
    const result = byTarget[name]?.[i];
    return result?.kind === 'latency' ? result.p99Us : 0;
  };
  const order = Array.from({ length: rounds }, (_, i) => i).sort((a, b) => p99('wsgate', a) - p99('nginx', a) - (p99('wsgate', b) - p99('nginx', b)));
  return order[Math.floor((rounds - 1) / 2)];
}

interface PhaseProfile {
  phase: PhaseName;
  summary: string;
}

/** Re-runs each phase wsgate missed with --cpu-prof and sums self time by function. */
async function profileMissedPhases(
  rows: Row[],
  runOn: (phase: PhaseName, names: TargetName[], extra: Partial<TargetOptions>) => Promise<Map<TargetName, PhaseResult>>,
  lastWindow: () => WindowUs | undefined,
  workDir: string,
  log: (line: string) => void,
): Promise<PhaseProfile[]> {
  // The slow reader is about memory, not CPU: its RSS series (Details) says more than a CPU profile.
  const missed = [...new Set(rows.filter((row) => row.verdict === 'MISS' && row.phase !== 'slow').map((row) => row.phase))];
  const profiles: PhaseProfile[] = [];
  for (const phase of missed) {
    const dir = join(workDir, `profile-${phase}`);
    log(`profiling wsgate during ${phase} (a separate run; its numbers are not used)`);
    const ran = await runOn(phase, ['wsgate'], { cpuProfileDir: dir });
    const window = ran.size > 0 ? lastWindow() : undefined;
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f));
    } catch {
      // No profile directory: wsgate did not exit cleanly.
    }
    if (files.length === 0) {
      log(`  no .cpuprofile written for ${phase} (wsgate must exit cleanly on SIGTERM to write one)`);
      continue;
    }
    // Several processes (a cluster primary and its worker): the biggest profile is the one that worked.
    // Only the phase's own samples: startup (module loading, type stripping) is left out.
    const busiest = files.map((file) => ({ file, summary: summariseProfile(file, 15, window) })).sort((a, b) => b.summary.busyMs - a.summary.busyMs)[0]!;
    const summary = formatSummary(busiest.summary);
    log(`${phase}: ${summary}`);
    profiles.push({ phase, summary });
  }
  return profiles;
}

function renderMarkdown(input: { rows: Row[]; details: string[]; profiles: PhaseProfile[]; failures: string[]; command: string; started: Date; sizes: Sizes; repeat: number; machineLines: string[] }): string {
  const { rows, details, profiles, failures, command, started, sizes, repeat, machineLines } = input;
  const misses = rows.filter((row) => row.verdict === 'MISS');
  const out = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts); do not edit by hand.',
    '',
    `- Date: ${started.toISOString()}`,
    ...machineLines.map((line) => `- ${line}`),
    `- Command: \`${command}\``,
    '',
    '## Results',
    '',
    markdownTable(rows),
    '',
    misses.length === 0 ? 'Every target is met.' : `Missed: ${misses.map((row) => `${row.metric}: ${row.miss}`).join('; ')}.`,
    '',
    '## Details',
    '',
    ...details.map((line) => `- ${line}`),
    '',
  ];
  if (failures.length > 0) out.push('## Failures', '', ...failures.map((f) => `- ${f}`), '');
  if (profiles.length > 0) {
    out.push('## Where wsgate spends its time in the phases it misses', '', '`node --cpu-prof` in a separate run of the phase (startup and shutdown left out), the busiest process, self time by function and by file. `writeBuffer`/`writev` are the native socket writes: for the TLS side they include the encryption.', '');
    for (const profile of profiles) out.push(`### ${profile.phase}`, '', '```', profile.summary, '```', '');
  }
  out.push(
    '## Method',
    '',
    '- Client to proxy: wss (TLS 1.2/1.3, one ECDSA P-256 certificate made with openssl, served by both proxies); proxy to upstream: ws. Direct: ws from the client straight to the upstream.',
    '- wsgate: `wsgate proxy --config FILE --workers 1 --log-level warn`; nginx: Debian\'s, `worker_processes 1`, `access_log off`, Upgrade/Connection headers passed, `proxy_read_timeout 1h`. Each starts fresh for each phase, pinned to core 0 (`taskset -c 0`).',
    '- The load generator (this process) and the upstream (bench/upstream-server.ts) share core 1. Both are raw-socket programs: a real opening handshake (Sec-WebSocket-Accept checked), then pre-built frames written in bulk; the upstream counts frames by walking headers and checks the frame counts and mask bits that arrive.',
    '- Proxy CPU: utime + stime from /proc/PID/stat, summed over the proxy\'s process tree (nginx master + worker), read before and after the measured work. RSS: VmRSS from /proc/PID/status, summed the same way.',
    `- relay, latency and handshake run ${repeat} time${repeat === 1 ? '' : 's'}, interleaved across targets; the run with the median headline value is reported (spread under Details); for latency, whose targets share each round, the whole round with the median wsgate − nginx p99. Idle and slow reader run once.`,
    `- relay: ${sizes.relay1kMessages} messages of 1 KiB and ${sizes.relay64kMessages} of 64 KiB, client to upstream over 4 connections, after a warm-up of about 5%; the upstream must count exactly that many frames.`,
    `- latency: ${sizes.latencyRounds} sequential round trips of a 32-byte message on one connection per target (the upstream echoes), after ${sizes.latencyRounds / 10} warm-up rounds; all targets run at once and take turns in blocks of 250 round trips, so load from elsewhere on the machine hits them alike; added = proxy − direct.`,
    `- handshake: ${sizes.handshakeConnections} connections, 16 at a time, each a full TLS handshake (no resumption), the WebSocket handshake, then a clean close (close frame both ways); CPU read after the upstream has seen every close and 300 ms more.`,
    `- idle: RSS with ${sizes.idleConnections} open idle wss connections minus RSS before them (after 200 warm-up connections), divided by ${sizes.idleConnections}.`,
    `- slow reader: the upstream writes 64 KiB messages as fast as TCP takes them to a client whose socket stays paused but for one read every 50 ms; proxy RSS sampled every 250 ms for ${sizes.slowSeconds} s over the RSS just before the flood (long enough for a garbage-collected proxy to reach its peak: a short run would stop before the first full GC). "Flat": growth between 2/3 and the end of the run (3-sample means) under 1 MiB.`,
    '',
  );
  return out.join('\n');
}

await main();

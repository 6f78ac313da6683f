// `npm run bench`: wsgate (`proxy` and `run`) against Debian's nginx (default and 16k buffers),
// Debian's HAProxy (one thread) and a direct connection, same machine, same run. Each proxy is
// pinned to core 0 and started fresh for each bundle of phases; this process (the load
// generator), the upstream and the test API server of `wsgate run` run on core 1. Prints the
// table and, on a full run, writes the data-plane section of docs/benchmarks.md.
//   npm run bench                         full run (3 rounds, access log off and on), writes the doc
//   npm run bench -- --quick              short phases, one round, access log off (printed only)
//   npm run bench -- --only echo1k,handshake --targets wsgate-proxy,nginx
//   npm run bench -- --repeat 5 --access-log on
//   npm run bench -- --no-profile         skip the CPU profiles of wsgate's misses
//   npm run bench -- --from-source        run wsgate from src/cli.ts (type stripping) instead of building the bundle
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeCertificate } from './certs.ts';
import { cpuQuota } from './cgroup.ts';
import { BENCH_HOST } from './client.ts';
import { REST_SETTLE_S, atRest, echo, handshakes, idleConnections, latencyInterleaved, slowReader, type PhaseContext, type PhaseResult } from './phases.ts';
import { cpuModel } from './procfs.ts';
import { formatSummary, summariseProfile, type WindowUs } from './profile.ts';
import { consoleTable, detailLines, evaluate, markdownTable, PHASES, spreadLines, WORKER_QUOTA, type PhaseName, type Row, type Runs } from './report.ts';
import { LOAD_CORE, parseList, PROXY_CORE } from './session.ts';
import { buildImageScript, HAPROXY_BINARY, NGINX_BINARY, startTarget, TARGETS, type RunningTarget, type TargetName, type TargetOptions } from './targets.ts';
import { startUpstream, type Upstream } from './upstream.ts';

/** Phases run one after another on one fresh start of a target. */
const BUNDLE: PhaseName[] = ['rest', 'echo1k', 'echo64k', 'handshake', 'resumed'];
/** With the access log on, the phases a log line per connection (or per message) could change. */
const LOGGED: PhaseName[] = ['echo1k', 'handshake', 'resumed'];
const MiB = 1024 * 1024;

interface Sizes {
  echoConnections: number;
  echoWarmupMs: number;
  echoMeasureMs: number;
  latencyRounds: number;
  handshakeConnections: number;
  handshakeWarmup: number;
  handshakeParallel: number;
  idleConnections: number;
  slowBytes: number;
  slowRate: number;
}
const FULL: Sizes = { echoConnections: 100, echoWarmupMs: 2000, echoMeasureMs: 4000, latencyRounds: 1000, handshakeConnections: 500, handshakeWarmup: 1000, handshakeParallel: 50, idleConnections: 5000, slowBytes: 64 * MiB, slowRate: 32 * MiB };
const QUICK: Sizes = { ...FULL, echoWarmupMs: 1500, echoMeasureMs: 3000, latencyRounds: 500, handshakeConnections: 300, handshakeWarmup: 600, idleConnections: 1000 };

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const DOC_BEGIN = '<!-- bench/run.ts: data plane, begin (rewritten by npm run bench) -->';
const DOC_END = '<!-- bench/run.ts: data plane, end -->';

type Pass = 'off' | 'on';

function machine(): string[] {
  // Tools print their version on stdout or stderr (nginx -v uses stderr): take whichever has it.
  const version = (command: string, args: string[]): string => {
    const run = spawnSync(command, args, { encoding: 'utf8' });
    return `${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n')[0] || 'unknown';
  };
  // cpus(), not availableParallelism(): this process is pinned to one core by now.
  return [
    `CPU: ${cpuModel()}, ${cpus().length} cores; Linux ${release()}`,
    `Node ${process.version} (wsgate and the load generator); ${version(NGINX_BINARY, ['-v'])}; ${version(HAPROXY_BINARY, ['-v'])}; ${version('openssl', ['version'])}`,
  ];
}

const loadAverage = (): string => readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ');

interface Context {
  workDir: string;
  upstream: Upstream;
  certificate: ReturnType<typeof makeCertificate>;
  sizes: Sizes;
  cli: string;
  failures: string[];
  log(line: string): void;
}

/** Starts the targets, runs `work` on them, stops them; a failure is recorded, not thrown. */
async function withTargets<T>(ctx: Context, label: string, names: TargetName[], extra: Partial<TargetOptions>, work: (contexts: Map<TargetName, PhaseContext>) => Promise<T>): Promise<T | undefined> {
  const options: TargetOptions = { workDir: ctx.workDir, upstreamPort: ctx.upstream.port, certificate: ctx.certificate, proxyCores: String(PROXY_CORE), loadCore: LOAD_CORE, accessLog: false, cli: ctx.cli, ...extra };
  const running: RunningTarget[] = [];
  const t0 = performance.now();
  try {
    const contexts = new Map<TargetName, PhaseContext>();
    for (const name of names) {
      const target = await startTarget(name, options);
      running.push(target);
      contexts.set(name, { target, upstream: ctx.upstream, log: ctx.log });
    }
    const result = await work(contexts);
    ctx.log(`  ${label}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s (load ${loadAverage()})`);
    return result;
  } catch (error) {
    const message = `${label} failed: ${(error as Error).message}`;
    ctx.failures.push(message);
    ctx.log(`  ${message}`);
    return undefined;
  } finally {
    for (const target of running) await target.stop();
  }
}

function add(runs: Runs, phase: PhaseName, name: string, result: PhaseResult | undefined): void {
  if (result) ((runs[phase] ??= {})[name] ??= []).push(result);
}

/** The phases of one start: at rest first (nothing served yet), then the CPU phases. */
async function bundle(ctx: Context, runs: Runs, name: TargetName, phases: PhaseName[], pass: Pass): Promise<void> {
  const { sizes } = ctx;
  await withTargets(ctx, `${phases.join(', ')} on ${name} (access log ${pass})`, [name], { accessLog: pass === 'on' }, async (contexts) => {
    const phase = contexts.get(name)!;
    // A phase that fails leaves the others of the bundle to run.
    const step = async (which: PhaseName, run: () => Promise<PhaseResult>): Promise<void> => {
      if (!phases.includes(which)) return;
      try {
        add(runs, which, name, await run());
      } catch (error) {
        ctx.failures.push(`${which} on ${name} (access log ${pass}): ${(error as Error).message}`);
        ctx.log(`  ${which} on ${name} failed: ${(error as Error).message}`);
      }
    };
    const echoOptions = { connections: sizes.echoConnections, warmupMs: sizes.echoWarmupMs, measureMs: sizes.echoMeasureMs };
    await step('rest', () => atRest(phase));
    await step('echo1k', () => echo(phase, 1024, echoOptions));
    await step('echo64k', () => echo(phase, 65536, echoOptions));
    await step('handshake', () => handshakes(phase, sizes.handshakeConnections, { parallel: sizes.handshakeParallel, resumed: false, warmup: sizes.handshakeWarmup }));
    await step('resumed', () => handshakes(phase, sizes.handshakeConnections, { parallel: sizes.handshakeParallel, resumed: true, warmup: sizes.handshakeWarmup }));
  });
}

async function runPass(ctx: Context, pass: Pass, phases: PhaseName[], targets: TargetName[], repeat: number, firstPass: boolean): Promise<Runs> {
  const runs: Runs = {};
  const proxies = targets.filter((name) => name !== 'direct');
  const bundled = phases.filter((phase) => BUNDLE.includes(phase) && (firstPass || LOGGED.includes(phase)));
  for (let round = 0; round < repeat; round++) {
    ctx.log(`access log ${pass}, round ${round + 1} of ${repeat}`);
    // Rotated each round, so no target always runs first after a quiet spell.
    const order = proxies.map((_, i) => proxies[(i + round) % proxies.length]!);
    if (bundled.length > 0) for (const name of order) await bundle(ctx, runs, name, bundled, pass);
    if (firstPass && phases.includes('latency')) {
      const measured = await withTargets(ctx, `unloaded latency on ${targets.join(' + ')}`, targets, { accessLog: pass === 'on' }, (contexts) => latencyInterleaved(contexts, ctx.sizes.latencyRounds));
      for (const [name, result] of measured ?? []) add(runs, 'latency', name, result);
    }
    if (firstPass && phases.includes('workers') && targets.includes('wsgate-proxy')) {
      const echoOptions = { connections: ctx.sizes.echoConnections, warmupMs: ctx.sizes.echoWarmupMs, measureMs: ctx.sizes.echoMeasureMs };
      // Uncapped, then with the proxy capped at WORKER_QUOTA of a core per worker, so that the
      // load generator is not what limits the two-worker run.
      for (const capped of [false, true]) {
        for (const [workers, cores] of [[1, String(PROXY_CORE)], [2, `${PROXY_CORE},${LOAD_CORE}`]] as const) {
          const key = `w${workers}${capped ? 'cap' : ''}`;
          const quota = capped ? cpuQuota(`wsgate-bench-${process.pid}-${key}`, WORKER_QUOTA * workers) : undefined;
          if (capped && !quota) break;
          const label = `workers: wsgate-proxy --workers ${workers}${quota ? `, capped at ${WORKER_QUOTA * workers} of a core` : ''}`;
          try {
            add(runs, 'workers', key, await withTargets(ctx, label, ['wsgate-proxy'], { workers, proxyCores: cores, ...(quota ? { cpuQuota: quota } : {}) }, (c) => echo(c.get('wsgate-proxy')!, 1024, echoOptions)));
          } finally {
            quota?.remove();
          }
        }
      }
    }
    // Once: 5000 connections per target take long, and RSS is not what a noisy neighbour moves.
    if (firstPass && round === 0 && phases.includes('idle')) {
      for (const name of order) add(runs, 'idle', name, await withTargets(ctx, `idle on ${name}`, [name], {}, (c) => idleConnections(c.get(name)!, ctx.sizes.idleConnections)));
    }
    if (firstPass && phases.includes('slow')) {
      for (const name of order) {
        for (const direction of ['downstream', 'upstream'] as const) {
          add(runs, 'slow', name, await withTargets(ctx, `slow ${direction} on ${name}`, [name], { traceGc: true }, (c) => slowReader(c.get(name)!, direction, ctx.sizes.slowBytes, ctx.sizes.slowRate)));
        }
      }
    }
  }
  return runs;
}

interface PhaseProfile {
  phase: PhaseName;
  target: TargetName;
  summary: string;
}

/** Re-runs each CPU phase a wsgate mode missed with --cpu-prof and sums self time by function. */
async function profileMisses(ctx: Context, rows: Row[]): Promise<PhaseProfile[]> {
  const profiled: PhaseName[] = ['echo1k', 'echo64k', 'handshake', 'resumed'];
  const misses = new Map<string, { phase: PhaseName; target: TargetName }>();
  for (const row of rows) {
    for (const [target, verdict] of Object.entries(row.verdicts) as [TargetName, string][]) {
      if (verdict === 'MISS' && profiled.includes(row.phase)) misses.set(`${row.phase} ${target}`, { phase: row.phase, target });
    }
  }
  const profiles: PhaseProfile[] = [];
  for (const { phase, target } of misses.values()) {
    const dir = join(ctx.workDir, `profile-${phase}-${target}`);
    ctx.log(`profiling ${target} during ${phase} (a separate run; its numbers are not used)`);
    let window: WindowUs | undefined;
    const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
    await withTargets(ctx, `profile ${phase} on ${target}`, [target], { cpuProfileDir: dir }, async (contexts) => {
      const c = contexts.get(target)!;
      const sizes = ctx.sizes;
      const echoOptions = { connections: sizes.echoConnections, warmupMs: sizes.echoWarmupMs, measureMs: sizes.echoMeasureMs };
      const handshakeOptions = { parallel: sizes.handshakeParallel, resumed: phase === 'resumed', warmup: 0 };
      // The handshake warm-up is kept out of the profile's window: it is the JIT compiling, which the row does not count either.
      if (phase === 'handshake' || phase === 'resumed') await handshakes(c, sizes.handshakeWarmup, handshakeOptions);
      const fromUs = nowUs();
      if (phase === 'echo1k') await echo(c, 1024, echoOptions);
      else if (phase === 'echo64k') await echo(c, 65536, echoOptions);
      else await handshakes(c, sizes.handshakeConnections, handshakeOptions);
      window = { fromUs, toUs: nowUs() };
    });
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f));
    } catch {
      // No profile directory: wsgate did not exit cleanly.
    }
    if (files.length === 0 || !window) {
      ctx.log(`  no .cpuprofile written for ${phase} on ${target}`);
      continue;
    }
    const busiest = files.map((file) => summariseProfile(file, 15, window)).sort((a, b) => b.busyMs - a.busyMs)[0]!;
    const summary = formatSummary(busiest);
    ctx.log(`${phase} ${target}: ${summary}`);
    profiles.push({ phase, target, summary });
  }
  return profiles;
}

interface Report {
  pass: Pass;
  rows: Row[];
  spread: string[];
  details: string[];
}

function renderSection(input: { reports: Report[]; profiles: PhaseProfile[]; failures: string[]; command: string; started: Date; sizes: Sizes; cli: string; repeat: number; machineLines: string[]; loadStart: string; loadEnd: string; minutes: number }): string {
  const { reports, profiles, failures, command, started, sizes, cli, repeat, machineLines } = input;
  const out = [
    DOC_BEGIN,
    '## Data plane',
    '',
    'Written by `npm run bench` (bench/run.ts); edit the code, not this section.',
    '',
    `- Date: ${started.toISOString()}, ${input.minutes.toFixed(0)} minutes`,
    ...machineLines.map((line) => `- ${line}`),
    `- Load average at the start ${input.loadStart}, at the end ${input.loadEnd} (2 cores shared with other work, which is not stopped: read the spread)`,
    `- Command: \`${command}\``,
    '',
  ];
  for (const { pass, rows, spread, details } of reports) {
    const misses = rows.flatMap((row) => Object.entries(row.verdicts).filter(([, v]) => v === 'MISS').map(([name]) => `${row.metric} (${name})`));
    out.push(
      `### Access log ${pass}`,
      '',
      markdownTable(rows),
      '',
      misses.length === 0 ? 'Every bar is met.' : `Missed: ${misses.join('; ')}.`,
      '',
      '<details><summary>Spread (every run; the table has the median) and details</summary>',
      '',
      ...spread.map((line) => `- ${line}`),
      ...details.map((line) => `- ${line}`),
      '',
      '</details>',
      '',
    );
  }
  if (failures.length > 0) out.push('### Failures', '', ...failures.map((f) => `- ${f.split('\n')[0]}`), '');
  if (profiles.length > 0) {
    out.push('### Where wsgate spends its time in the rows it misses', '', '`node --cpu-prof` in a separate run of the phase (access log off; startup and shutdown left out), the busiest process, self time by function and by file. `writeBuffer`/`writev` are the native socket writes: for the TLS side they include the encryption.', '');
    for (const profile of profiles) out.push(`#### ${profile.phase} on ${profile.target}`, '', '```', profile.summary, '```', '');
  }
  out.push(
    '### Method',
    '',
    '- Client to proxy: wss (TLS 1.3, one ECDSA P-256 certificate made with openssl, served by every proxy; the client offers the X25519 key exchange only, which every target then uses: Node 24 would otherwise negotiate X25519MLKEM768 with wsgate alone, `BENCH_GROUPS` changes it); proxy to upstream: ws. Direct: ws from the client straight to the upstream.',
    `- wsgate runs as its image runs it, \`node ${cli}\` (the one-file bundle \`npm run build\` makes, built at the start of the bench; \`--from-source\` runs src/cli.ts). wsgate proxy: \`wsgate proxy --config FILE --workers 1\`; wsgate run: \`wsgate run --kubeconfig K --default-cert-secret default/bench-tls --workers 1\` against the test API server (test/support/apiserver.ts, in its own process on the load core) holding one Ingress to the bench upstream. Access log off = \`--log-level warn\`, on = \`--log-level info\` (one JSON line per connection to a file).`,
    '- nginx: Debian\'s, `worker_processes 1`, Upgrade/Connection/Host/X-Forwarded-For set, `proxy_read_timeout 1h`; nginx-16k adds `ssl_buffer_size 16k; proxy_buffer_size 16k; proxy_buffers 4 16k`. HAProxy: Debian\'s, `nbthread 1`, `mode http`, `option forwardfor`, `timeout tunnel 1h`. Access log on: nginx `access_log FILE`, HAProxy `log stdout` + `option httplog` to a file.',
    '- Every proxy is pinned to core 0 (`taskset -c 0`); the load generator (this process), the upstream (bench/upstream-server.ts) and the API server share core 1. Both ends are raw-socket programs: a real opening handshake (Sec-WebSocket-Accept checked), pre-built frames, frame headers walked, never payloads.',
    '- Proxy CPU: utime + stime from /proc/PID/stat over the proxy\'s process tree, read around the measured work. RSS: VmRSS, summed the same way.',
    `- ${repeat} round${repeat === 1 ? '' : 's'}; in each, every target is started fresh and runs at rest, echo 1 KiB, echo 64 KiB, full handshakes, resumed handshakes in that order (the order of targets rotates per round); then the unloaded latency, the workers comparison and the slow reader, each on a fresh start; idle runs in the first round only. With the access log on, only echo 1 KiB and the handshakes run (the line is written per connection). The table shows the median of the rounds; the spread lists every run.`,
    `- at rest: RSS ${REST_SETTLE_S} s after the proxy is ready, before any connection (V8's memory reducer gives the start's young-generation pages back at about 9 s).`,
    `- echo: ${sizes.echoConnections} connections, each sends a message (masked, binary) and the next one when the upstream's echo of the same size is back; ${sizes.echoWarmupMs / 1000} s warm-up, then ${sizes.echoMeasureMs / 1000} s measured. A message is one relayed message in one direction (a round trip is two); GiB counts payload both ways. The loaded round trip is every round trip that starts in the measured window. The upstream's frame count must match the client's.`,
    `- unloaded round trip: one connection per target, one 1 KiB message at a time, ${sizes.latencyRounds} round trips after ${sizes.latencyRounds / 10} warm-up; all targets at once, taking turns in blocks of 250.`,
    `- handshake: ${sizes.handshakeConnections} connections after ${sizes.handshakeWarmup} unmeasured ones of the same kind (a JIT-compiled proxy spends its first few hundred compiling the path; nginx and HAProxy cost the same from the first), ${sizes.handshakeParallel} at a time, each a TLS handshake (full; or resumed with the ticket the lane got last, ≥ 90% must resume), the WebSocket handshake, then a clean close; CPU read after the upstream has seen every close and 300 ms more.`,
    `- idle: RSS with ${sizes.idleConnections} open idle wss connections minus RSS before them (after 200 warm-up connections), divided by ${sizes.idleConnections}.`,
    `- slow reader: on a fresh start, one unmeasured transfer of three times the bytes at the same rate (so that V8's optimizing compiler has run; its first compile pages in about 4.6 MiB of the node binary, bench/slow-breakdown.ts), then the measured one: ${sizes.slowBytes / MiB} MiB of 64 KiB messages written as fast as TCP takes them, read at ${sizes.slowRate / MiB} MiB/s by the client (downstream: the upstream floods) or by the upstream (upstream: the client floods); proxy RSS every 50 ms over the RSS just before. Second half: growth at the end minus growth at the half (3-sample means). GC pauses: wsgate runs with \`node --trace-gc\` in this phase; the longest main-thread pause.`,
    `- workers: \`wsgate proxy --workers 2\` pinned to both cores against \`--workers 1\` on core 0, the 1 KiB echo above, round trips per second; the load generator stays on core 1, so with 2 workers it shares that core with a worker, and the row shows how much CPU the load generator leaves over more than how the workers scale. The capped row runs the same pair with the proxy's processes together held to ${WORKER_QUOTA} of a core per worker (cgroup v1 cpu quota, bench/cgroup.ts; the row is absent where that controller is not writable), so that the proxy, not the load generator, is the bottleneck in both runs.`,
    '',
    DOC_END,
  );
  return out.join('\n');
}

/** Replaces this bench's section of docs/benchmarks.md and leaves every other section as it is. */
function writeSection(section: string): string {
  const path = join(repoRoot, 'docs', 'benchmarks.md');
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const begin = old.indexOf(DOC_BEGIN);
  const end = old.indexOf(DOC_END);
  let next: string;
  if (begin >= 0 && end > begin) {
    next = old.slice(0, begin) + section + old.slice(end + DOC_END.length);
  } else {
    // The whole-file layout this bench wrote before the markers: its own sections end where the first other one starts.
    const generated = new Set(['Results', 'Details', 'Failures', 'Method', 'Where wsgate spends its time in the phases it misses']);
    const lines = old.split('\n');
    let keepFrom = lines.length;
    for (let i = 0; i < lines.length; i++) {
      const heading = /^## (.+)$/.exec(lines[i]!);
      if (heading && !generated.has(heading[1]!.trim())) {
        keepFrom = i;
        break;
      }
    }
    const others = lines.slice(keepFrom).join('\n');
    next = `# Benchmarks\n\n${section}\n\n${others}`;
  }
  writeFileSync(path, next.endsWith('\n') ? next : `${next}\n`);
  return path;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      targets: { type: 'string' },
      'no-profile': { type: 'boolean', default: false },
      write: { type: 'boolean' },
      'no-write': { type: 'boolean', default: false },
      repeat: { type: 'string' },
      'access-log': { type: 'string' },
      'from-source': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`npm run bench -- [--quick] [--only ${PHASES.join(',')}] [--targets ${TARGETS.join(',')}] [--repeat N] [--access-log off|on|both] [--from-source] [--no-profile] [--write|--no-write]\n`);
    return;
  }
  const sizes = { ...(values.quick ? QUICK : FULL) };
  const repeat = Number(values.repeat ?? (values.quick ? 1 : 3));
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat wants a whole number ≥ 1');
  const accessLog = values['access-log'] ?? (values.quick ? 'off' : 'both');
  if (!['off', 'on', 'both'].includes(accessLog)) throw new Error('--access-log wants off, on or both');
  const passes: Pass[] = accessLog === 'both' ? ['off', 'on'] : [accessLog as Pass];
  const phases = parseList(values.only, PHASES, '--only') ?? [...PHASES];
  const targets = parseList(values.targets, TARGETS, '--targets') ?? [...TARGETS];
  const fullRun = !values.quick && !values.only && !values.targets && repeat >= 3 && accessLog === 'both';
  const write = values['no-write'] ? false : (values.write ?? fullRun);
  const argv = process.argv.slice(2);
  const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;

  // wsgate as its image runs it (the bundle npm run build makes): built once here, so no type stripping is measured.
  const cli = values['from-source'] ? 'src/cli.ts' : buildImageScript();
  // The load generator shares core 1 with the upstream; the proxies get core 0 to themselves.
  execFileSync('taskset', ['-a', '-p', '-c', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });
  const workDir = mkdtempSync(join(tmpdir(), 'wsgate-bench-'));
  const certificate = makeCertificate(workDir, BENCH_HOST);
  const upstream = await startUpstream(LOAD_CORE);
  const started = new Date();
  const loadStart = loadAverage();
  const machineLines = machine();
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  log(`bench: ${command}; work dir ${workDir}; load ${loadStart}`);
  const ctx: Context = { workDir, upstream, certificate, sizes, cli, failures: [], log };
  try {
    const reports: Report[] = [];
    // The second pass (access log on) repeats only the LOGGED phases: a line is written when a connection ends.
    for (const [i, pass] of passes.entries()) {
      const runs = await runPass(ctx, pass, phases, targets, repeat, i === 0);
      const rows = evaluate(runs);
      const report = { pass, rows, spread: spreadLines(rows), details: detailLines(runs) };
      reports.push(report);
      log(`\naccess log ${pass}:\n${consoleTable(rows)}\n`);
      for (const line of [...report.spread, ...report.details]) log(line);
      // Written after each pass too, so a run cut short still leaves its figures.
      if (write) writeSection(renderSection({ reports, profiles: [], failures: ctx.failures, command, started, sizes, cli, repeat, machineLines, loadStart, loadEnd: loadAverage(), minutes: (Date.now() - started.getTime()) / 60_000 }));
    }
    const profiles = values['no-profile'] ? [] : await profileMisses(ctx, reports[0]?.rows ?? []);
    for (const failure of ctx.failures) log(`FAILED: ${failure}`);
    if (write) {
      const minutes = (Date.now() - started.getTime()) / 60_000;
      const path = writeSection(renderSection({ reports, profiles, failures: ctx.failures, command, started, sizes, cli, repeat, machineLines, loadStart, loadEnd: loadAverage(), minutes }));
      log(`wrote ${path}`);
    }
    if (ctx.failures.length > 0) process.exitCode = 1;
  } finally {
    await upstream.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();

// `node bench/longlived.ts`: the relay's cost with the long-lived features on (proxy pings every
// 30 s, a message-rate limit that is never exceeded) against the same relay without them. One
// wsgate proxy process (pinned to core 0 where taskset exists) serves two routes to one echo
// upstream; this process drives both routes in alternating phases (A B B A A B ...), each with many
// connections exchanging 1 KiB messages at a moderate rate, and reads the proxy's CPU time from
// /proc. The figure: proxy CPU microseconds per echoed message, median over the phases.
//   node bench/longlived.ts [--connections 200] [--rate 20] [--seconds 5] [--rounds 4]
// `--profile DIR` shows how much of the proxy's time the features' own code takes. `npm run bench` runs
// bench/longlived-paired.ts instead (both routes at once: the figure in docs/benchmarks.md).
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { startLongLivedBench, longLivedPolicy } from './longlived-setup.ts';
import { cpuSeconds, processTree } from './procfs.ts';
import { freePort } from './targets.ts';
import { summariseProfile } from './profile.ts';

const { values } = parseArgs({ options: {
  connections: { type: 'string', default: '200' },
  rate: { type: 'string', default: '20' },
  seconds: { type: 'string', default: '5' },
  rounds: { type: 'string', default: '4' },
  // A directory: the proxy runs with --cpu-prof there, and the share of its CPU time (during the
  // long-lived phases) spent in the pings', rate limit's and sweeper's own code is printed.
  profile: { type: 'string' },
} });
const CONNECTIONS = Number(values.connections);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const bench = await startLongLivedBench('longlived', longLivedPolicy(RATE));
const config = bench.config;
const httpPort = await freePort();
const adminPort = await freePort();
const profileDir = values.profile;
const nodeFlags = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir];
const args = [...nodeFlags, 'src/cli.ts', 'proxy', '--config', config, '--workers', '1', '--http-port', String(httpPort), '--https-port', String(await freePort()), '--admin-port', String(adminPort), '--bind-address', '127.0.0.1', '--log-level', 'warn'];
const pinned = spawnSync('taskset', ['--version']).status === 0;
const proxy = pinned ? spawn('taskset', ['-c', '0', process.execPath, ...args], { cwd: repoRoot, stdio: 'inherit' }) : spawn(process.execPath, args, { cwd: repoRoot, stdio: 'inherit' });
for (let i = 0; ; i++) {
  const ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`).then((r) => r.status === 200, () => false);
  if (ready) break;
  if (i > 200) throw new Error('proxy did not become ready');
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const pids = processTree(proxy.pid!);

/** Each phase's span on CLOCK_MONOTONIC, the clock V8 stamps profile samples with. */
const windows: { path: string; fromUs: number; toUs: number; echoed: number }[] = [];

async function phase(path: string): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, () => new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}${path}`, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  })));
  const payload = Buffer.alloc(1024, 7);
  let echoed = 0;
  for (const ws of sockets) ws.on('message', () => echoed++);
  const before = cpuSeconds(pids);
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const timers = sockets.map((ws, i) => {
    // Staggered, so the sends do not all land in one tick.
    const start = setTimeout(() => {
      const timer = setInterval(() => ws.send(payload), 1000 / RATE);
      timers[i] = timer;
    }, (i * 1000) / RATE / CONNECTIONS);
    return start;
  });
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  for (const timer of timers) clearInterval(timer);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const cpu = cpuSeconds(pids) - before;
  windows.push({ path, fromUs, toUs: Number(process.hrtime.bigint() / 1000n), echoed });
  const closedAll = sockets.map((ws) => new Promise((resolve) => { ws.once('close', resolve); ws.close(1000); }));
  await Promise.all(closedAll);
  const codes = sockets.filter((ws) => ws.readyState !== ws.CLOSED).length;
  if (codes !== 0) throw new Error('some connection did not close');
  return (cpu * 1e6) / echoed;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// Warm-up of both paths, not measured.
await phase('/plain');
await phase('/longlived');
const plain: number[] = [];
const longlived: number[] = [];
// The order alternates (A B, B A, ...): the phase that follows another inherits its garbage and
// closing connections, which would otherwise always count against the same route.
for (let round = 0; round < ROUNDS; round++) {
  if (round % 2 === 0) {
    plain.push(await phase('/plain'));
    longlived.push(await phase('/longlived'));
  } else {
    longlived.push(await phase('/longlived'));
    plain.push(await phase('/plain'));
  }
}
const a = median(plain);
const b = median(longlived);
// Each round's two phases ran back to back: their ratio cancels the machine's drift between rounds.
const paired = plain.map((x, i) => ((longlived[i]! - x) / x) * 100);
console.log(`connections ${CONNECTIONS}, ${RATE} msgs/s each (1 KiB, echoed), ${SECONDS} s x ${ROUNDS} rounds per route${pinned ? ', proxy pinned to core 0' : ''}`);
console.log(`plain relay:             ${a.toFixed(2)} us proxy CPU per echoed message  (phases: ${plain.map((x) => x.toFixed(2)).join(', ')})`);
console.log(`pings 30s + rate limit:  ${b.toFixed(2)} us proxy CPU per echoed message  (phases: ${longlived.map((x) => x.toFixed(2)).join(', ')})`);
console.log(`difference:              ${(((b - a) / a) * 100).toFixed(1)}% of the medians; per round ${paired.map((x) => `${x.toFixed(1)}%`).join(', ')}, median ${median(paired).toFixed(1)}%`);
proxy.kill('SIGTERM');
await new Promise((resolve) => proxy.once('exit', resolve));
bench.close();
if (profileDir !== undefined) {
  // Self time inside the measured long-lived phases, summed over the proxy's processes' profiles.
  const ours = /^(.*) (pings|rate-limit|sweeper|lifetime)\.ts:\d+$/;
  let busy = 0;
  const added = new Map<string, number>();
  for (const file of readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'))) {
    for (const window of windows.slice(2).filter((w) => w.path === '/longlived')) {
      const summary = summariseProfile(join(profileDir, file), 100_000, window);
      busy += summary.busyMs;
      for (const entry of summary.top) if (ours.test(entry.name)) added.set(entry.name, (added.get(entry.name) ?? 0) + entry.ms);
    }
  }
  const total = [...added.values()].reduce((a, b) => a + b, 0);
  console.log(`profile: ${busy.toFixed(0)} ms busy in the long-lived phases, ${total.toFixed(1)} ms (${((total / busy) * 100).toFixed(2)}%) in the pings', rate limit's and sweeper's code:`);
  for (const [name, ms] of [...added.entries()].sort((a, b) => b[1] - a[1])) console.log(`  ${ms.toFixed(1).padStart(7)} ms  ${name}`);
  // Where each route's profiled time goes, per echoed message: what differs between them is the features' cost.
  const perFile = (path: string): { perMessage: number; files: Map<string, number> } => {
    const files = new Map<string, number>();
    let ms = 0;
    let echoed = 0;
    for (const window of windows.slice(2).filter((w) => w.path === path)) {
      echoed += window.echoed;
      for (const file of readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'))) {
        const summary = summariseProfile(join(profileDir, file), 100_000, window);
        ms += summary.busyMs;
        for (const entry of summary.top) {
          const where = /\s(\S+):\d+$/.exec(entry.name)?.[1] ?? entry.name;
          files.set(where, (files.get(where) ?? 0) + entry.ms);
        }
      }
    }
    for (const [k, v] of files) files.set(k, (v * 1000) / echoed);
    return { perMessage: (ms * 1000) / echoed, files };
  };
  const p = perFile('/plain');
  const l = perFile('/longlived');
  console.log(`profiled JS/native busy time per echoed message: plain ${p.perMessage.toFixed(2)} us, long-lived ${l.perMessage.toFixed(2)} us; by file (us per message, plain -> long-lived):`);
  const names = [...new Set([...p.files.keys(), ...l.files.keys()])].sort((x, y) => (l.files.get(y) ?? 0) - (l.files.get(x) ?? 0)).slice(0, 14);
  for (const name of names) console.log(`  ${(p.files.get(name) ?? 0).toFixed(2).padStart(6)} -> ${(l.files.get(name) ?? 0).toFixed(2).padStart(6)}  ${name}`);
}

// `node bench/longlived-paired.ts`: the relay's cost with the long-lived features on (proxy pings
// every 30 s, a message-rate limit that is never exceeded, both directions) against the same relay
// without them, measured side by side. bench/longlived.ts runs the two routes one after the other,
// so on a shared machine the load changes between them by more than what is measured; here two
// wsgate proxy processes, both pinned to the same core, relay at the same time, one the plain
// route and one the long-lived route; which process serves which, and which starts first, change
// every round, so neither is favoured. Each process's CPU time (from /proc) over the same window,
// per echoed message, gives one ratio a round; the figure is the median ratio. `--policy '{}'`
// gives both routes the same (empty) policy: the method's own bias and spread.
//   node bench/longlived-paired.ts [--connections 150] [--rate 20] [--seconds 5] [--rounds 8] [--policy JSON]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { startLongLivedBench, longLivedPolicy } from './longlived-setup.ts';
import { cpuSeconds, processTree } from './procfs.ts';
import { freePort } from './targets.ts';

const { values } = parseArgs({ options: {
  connections: { type: 'string', default: '150' },
  rate: { type: 'string', default: '20' },
  seconds: { type: 'string', default: '5' },
  rounds: { type: 'string', default: '8' },
  // The long-lived route's policy instead of pings every 30 s and a rate limit in both directions (to isolate one feature).
  policy: { type: 'string' },
} });
const CONNECTIONS = Number(values.connections);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const bench = await startLongLivedBench('longlived-paired', values.policy === undefined ? longLivedPolicy(RATE) : JSON.parse(values.policy) as unknown);
const config = bench.config;
const pinned = spawnSync('taskset', ['--version']).status === 0;

interface Proxy { child: ChildProcess; httpPort: number; pids: number[] }

async function startProxy(): Promise<Proxy> {
  const httpPort = await freePort();
  const adminPort = await freePort();
  const args = ['src/cli.ts', 'proxy', '--config', config, '--workers', '1', '--http-port', String(httpPort), '--https-port', String(await freePort()), '--admin-port', String(adminPort), '--bind-address', '127.0.0.1', '--log-level', 'warn'];
  const child = pinned ? spawn('taskset', ['-c', '0', process.execPath, ...args], { cwd: repoRoot, stdio: 'inherit' }) : spawn(process.execPath, args, { cwd: repoRoot, stdio: 'inherit' });
  for (let i = 0; ; i++) {
    if (await fetch(`http://127.0.0.1:${adminPort}/readyz`).then((r) => r.status === 200, () => false)) break;
    if (i > 300) throw new Error('proxy did not become ready');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, httpPort, pids: processTree(child.pid!) };
}

interface Load { sockets: WebSocket[]; echoed: () => number; start: () => void; stop: () => void }

async function drive(proxy: Proxy, path: string): Promise<Load> {
  const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, () => new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.httpPort}${path}`, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  })));
  let echoed = 0;
  for (const ws of sockets) ws.on('message', () => echoed++);
  const payload = Buffer.alloc(1024, 7);
  const timers: ReturnType<typeof setTimeout>[] = [];
  return {
    sockets,
    echoed: () => echoed,
    // Staggered, so the sends do not all land in one tick.
    start: () => sockets.forEach((ws, i) => timers.push(setTimeout(() => timers.push(setInterval(() => ws.send(payload), 1000 / RATE)), (i * 1000) / RATE / CONNECTIONS))),
    stop: () => { for (const timer of timers) clearInterval(timer); },
  };
}

async function closeAll(load: Load): Promise<void> {
  await Promise.all(load.sockets.map((ws) => new Promise((resolve) => { ws.once('close', resolve); ws.close(1000); })));
}

/** Both proxies relay at once over one window: CPU microseconds per echoed message of each. */
async function round(plainProxy: Proxy, longProxy: Proxy, longFirst: boolean): Promise<{ plain: number; longlived: number }> {
  // Which route's clients connect and start sending first alternates too: that order alone moved
  // the figure by several percent with the same policy on both routes.
  const loads = longFirst
    ? [await drive(longProxy, '/longlived'), await drive(plainProxy, '/plain')].reverse()
    : [await drive(plainProxy, '/plain'), await drive(longProxy, '/longlived')];
  const order = longFirst ? [loads[1]!, loads[0]!] : loads;
  const before = [cpuSeconds(plainProxy.pids), cpuSeconds(longProxy.pids)];
  const echoedBefore = loads.map((l) => l.echoed());
  for (const load of order) load.start();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  for (const load of order) load.stop();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const cpu = [cpuSeconds(plainProxy.pids) - before[0]!, cpuSeconds(longProxy.pids) - before[1]!];
  const echoed = loads.map((l, i) => l.echoed() - echoedBefore[i]!);
  await Promise.all(loads.map(closeAll));
  return { plain: (cpu[0]! * 1e6) / echoed[0]!, longlived: (cpu[1]! * 1e6) / echoed[1]! };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const proxies = [await startProxy(), await startProxy()] as const;
// Warm-up of both paths in both processes, not measured.
await round(proxies[0], proxies[1], false);
await round(proxies[1], proxies[0], true);
// Rounds cycle through the four combinations of which process serves which route and which starts first.
const rows: { plain: number; longlived: number }[] = [];
for (let r = 0; r < ROUNDS; r++) rows.push(r % 2 === 0 ? await round(proxies[0], proxies[1], r % 4 === 2) : await round(proxies[1], proxies[0], r % 4 === 1));
const ratios = rows.map((row) => ((row.longlived - row.plain) / row.plain) * 100);
console.log(`connections ${CONNECTIONS} per proxy, ${RATE} msgs/s each (1 KiB, echoed), ${SECONDS} s x ${ROUNDS} rounds, two proxies relaying at once${pinned ? ', both pinned to core 0' : ''}`);
console.log(`plain relay:             ${median(rows.map((r) => r.plain)).toFixed(2)} us proxy CPU per echoed message  (rounds: ${rows.map((r) => r.plain.toFixed(2)).join(', ')})`);
console.log(`pings 30s + rate limit:  ${median(rows.map((r) => r.longlived)).toFixed(2)} us proxy CPU per echoed message  (rounds: ${rows.map((r) => r.longlived.toFixed(2)).join(', ')})`);
console.log(`difference per round:    ${ratios.map((x) => `${x.toFixed(1)}%`).join(', ')}; median ${median(ratios).toFixed(1)}%, range ${Math.min(...ratios).toFixed(1)}% to ${Math.max(...ratios).toFixed(1)}%`);
for (const proxy of proxies) proxy.child.kill('SIGTERM');
await Promise.all(proxies.map((proxy) => new Promise((resolve) => proxy.child.once('exit', resolve))));
bench.close();

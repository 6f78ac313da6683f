// `node bench/longlived.ts`: the relay's cost with the long-lived features on (proxy pings every
// 30 s, a message-rate limit that is never exceeded) against the same relay without them. One
// wsgate proxy process (pinned to core 0 where taskset exists) serves two routes to one echo
// upstream; this process drives both routes in alternating phases (A B A B ...), each with many
// connections exchanging 1 KiB messages at a moderate rate, and reads the proxy's CPU time from
// /proc. The figure: proxy CPU microseconds per echoed message, median over the phases.
//   node bench/longlived.ts [--connections 200] [--rate 20] [--seconds 5] [--rounds 4]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket, WebSocketServer } from 'ws';
import { cpuSeconds, processTree } from './procfs.ts';

const { values } = parseArgs({ options: {
  connections: { type: 'string', default: '200' },
  rate: { type: 'string', default: '20' },
  seconds: { type: 'string', default: '5' },
  rounds: { type: 'string', default: '4' },
} });
const CONNECTIONS = Number(values.connections);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const upstream = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
upstream.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
await new Promise((resolve) => upstream.once('listening', resolve));
const upstreamPort = (upstream.address() as { port: number }).port;

const dir = mkdtempSync(join(tmpdir(), 'wsgate-bench-longlived-'));
const config = join(dir, 'snapshot.json');
writeFileSync(config, JSON.stringify({
  version: 1,
  routes: [
    { host: '', path: '/plain', pathType: 'Prefix', pool: 'echo' },
    { host: '', path: '/longlived', pathType: 'Prefix', pool: 'echo', policy: { pingInterval: '30s', pingTimeout: '10s', maxMessagesPerSecond: RATE * 10, messageRateDirection: 'both' } },
  ],
  pools: [{ name: 'echo', endpoints: [{ address: '127.0.0.1', port: upstreamPort, state: 'ready' }] }],
}));
const httpPort = await freePort();
const adminPort = await freePort();
const args = ['src/cli.ts', 'proxy', '--config', config, '--workers', '1', '--http-port', String(httpPort), '--https-port', String(await freePort()), '--admin-port', String(adminPort), '--bind-address', '127.0.0.1', '--log-level', 'warn'];
const pinned = spawnSync('taskset', ['--version']).status === 0;
const proxy = pinned ? spawn('taskset', ['-c', '0', process.execPath, ...args], { cwd: repoRoot, stdio: 'inherit' }) : spawn(process.execPath, args, { cwd: repoRoot, stdio: 'inherit' });
for (let i = 0; ; i++) {
  const ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`).then((r) => r.status === 200, () => false);
  if (ready) break;
  if (i > 200) throw new Error('proxy did not become ready');
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const pids = processTree(proxy.pid!);

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
for (let round = 0; round < ROUNDS; round++) {
  plain.push(await phase('/plain'));
  longlived.push(await phase('/longlived'));
}
const a = median(plain);
const b = median(longlived);
console.log(`connections ${CONNECTIONS}, ${RATE} msgs/s each (1 KiB, echoed), ${SECONDS} s x ${ROUNDS} rounds per route${pinned ? ', proxy pinned to core 0' : ''}`);
console.log(`plain relay:             ${a.toFixed(2)} us proxy CPU per echoed message  (phases: ${plain.map((x) => x.toFixed(2)).join(', ')})`);
console.log(`pings 30s + rate limit:  ${b.toFixed(2)} us proxy CPU per echoed message  (phases: ${longlived.map((x) => x.toFixed(2)).join(', ')})`);
console.log(`difference:              ${(((b - a) / a) * 100).toFixed(1)}%`);
proxy.kill('SIGTERM');
await new Promise((resolve) => proxy.once('exit', resolve));
upstream.close();
rmSync(dir, { recursive: true, force: true });

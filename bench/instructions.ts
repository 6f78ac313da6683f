// Instructions per relayed message or per handshake of `wsgate proxy`, counted by valgrind's
// callgrind: an A/B measure the load of a shared machine does not move (CPU seconds per unit
// doubled between quiet and loaded runs of bench/run.ts; these counts stay within a few percent).
// User-space instructions only: the kernel's share (socket writes, connect) is not in them, and an
// instruction of AES-NI is not one of the JIT's, so compare wsgate with wsgate, not with nginx.
//   node bench/instructions.ts [--cli dist/bundle/wsgate.cjs] [--phase echo|resumed|full] [--node-flags "..."] [--annotate] [--policy JSON]
// --policy gives the route a policy (issue 13: pings and a rate limit) to count what it costs per message.
// The proxy runs under valgrind (about 50x slower): the warm-up lets the JIT settle before the
// count is switched on (callgrind_control -i on) for the measured work only.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TLSSocket } from 'node:tls';
import { parseArgs } from 'node:util';
import { makeCertificate } from './certs.ts';
import { BENCH_HOST, openWebSocket, runParallel, type Endpoint, type SessionSlot } from './client.ts';
import { freePort, imageScript } from './targets.ts';
import { startUpstream } from './upstream.ts';
import { closeFrame, frameBatch, FrameCounter } from './wsproto.ts';

const { values } = parseArgs({
  options: {
    cli: { type: 'string', default: imageScript() },
    phase: { type: 'string', default: 'echo' },
    'node-flags': { type: 'string', default: '--max-semi-space-size=1' },
    connections: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '1000' },
    handshakes: { type: 'string', default: '200' },
    annotate: { type: 'boolean', default: false },
    policy: { type: 'string' },
  },
});
const phase = values.phase;
if (!['echo', 'resumed', 'full'].includes(phase)) throw new Error('--phase wants echo, resumed or full');
const connections = Number(values.connections);

const dir = mkdtempSync(join(tmpdir(), 'wsgate-instructions-'));
const certificate = makeCertificate(dir, BENCH_HOST);
const upstream = await startUpstream(1);
const config = join(dir, 'snapshot.json');
writeFileSync(config, JSON.stringify({
  version: 1,
  routes: [{ host: '', path: '/', pathType: 'Prefix', pool: 'bench', ...(values.policy === undefined ? {} : { policy: JSON.parse(values.policy) as unknown }) }],
  pools: [{ name: 'bench', endpoints: [{ address: '127.0.0.1', port: upstream.port, state: 'ready' }] }],
  tls: { defaultCertificate: { name: 'bench/cert', cert: certificate.cert, key: certificate.key } },
}));
const [httpPort, httpsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
const out = join(dir, 'callgrind.out');
const child = spawn('valgrind', [
  // all-non-file: the JIT rewrites code in anonymous memory, which valgrind must notice.
  '--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', `--callgrind-out-file=${out}`,
  process.execPath, ...values['node-flags'].split(' ').filter(Boolean), resolve(values.cli), 'proxy', '--workers', '1', '--config', config,
  '--http-port', String(httpPort), '--https-port', String(httpsPort), '--admin-port', String(adminPort), '--bind-address', '127.0.0.1',
  '--log-level', 'warn', '--shutdown-delay', '0s', '--shutdown-timeout', '2s',
  // Generous: under valgrind a head takes far longer than natively.
  '--header-timeout', '60s',
], { stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
// A driver that fails (a rejected top-level await ends the process) must not leave the proxy
// running under valgrind.
process.once('exit', () => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

for (let i = 0; ; i++) {
  try {
    if ((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status === 200) break;
  } catch {
    // Not listening yet.
  }
  if (child.exitCode !== null || i > 900) throw new Error(`wsgate did not get ready:\n${stderr}`);
  await sleep(200);
}
const endpoint: Endpoint = { tls: true, port: httpsPort };
const count = (on: boolean): void => void execFileSync('callgrind_control', ['-i', on ? 'on' : 'off', String(child.pid)], { stdio: 'ignore' });

/** One connection, `rounds` 1 KiB round trips one after another. */
async function echoConnection(rounds: number): Promise<void> {
  const { socket, rest } = await openWebSocket(endpoint, '/echo');
  const counter = new FrameCounter(false);
  const frame = frameBatch(1024, 1, true);
  let received = 0;
  let wanted = 0;
  let wake: (() => void) | undefined;
  const onData = (chunk: Buffer): void => {
    received += counter.push(chunk);
    if (received >= wanted && wake) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  if (rest.length > 0) onData(rest);
  socket.on('data', onData);
  for (let i = 0; i < rounds; i++) {
    wanted++;
    socket.write(frame);
    if (received < wanted) await new Promise<void>((r) => (wake = r));
  }
  socket.destroy();
}

const slots = Array.from({ length: 10 }, (): SessionSlot => ({}));
let failures = 0;
/** `n` handshakes and clean closes, 10 at a time; a failed one (the proxy is slow under valgrind) is retried. */
async function handshakes(n: number): Promise<number> {
  let resumed = 0;
  await runParallel(n, 10, async (i) => {
    for (;;) {
      try {
        const { socket } = await openWebSocket(endpoint, '/idle', phase === 'resumed' ? slots[i % 10] : undefined);
        if ((socket as TLSSocket).isSessionReused()) resumed++;
        socket.write(closeFrame(1000, true));
        await new Promise<void>((r) => {
          socket.on('close', () => r());
          socket.on('data', () => socket.end());
        });
        return;
      } catch {
        failures++;
      }
    }
  });
  return resumed;
}

let units: number;
let label: string;
if (phase === 'echo') {
  const rounds = Number(values.rounds);
  await Promise.all(Array.from({ length: connections }, () => echoConnection(Math.ceil(rounds / 2))));
  count(true);
  await Promise.all(Array.from({ length: connections }, () => echoConnection(rounds)));
  count(false);
  units = connections * rounds * 2;
  label = 'relayed 1 KiB messages';
} else {
  const n = Number(values.handshakes);
  await handshakes(Math.ceil(n / 3));
  await sleep(500);
  count(true);
  const resumed = await handshakes(n);
  // The closes' teardown counts too.
  await sleep(1500);
  count(false);
  units = n;
  label = `${phase} handshakes (${resumed} resumed, ${failures} retried)`;
}
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
await upstream.stop();
const text = readFileSync(out, 'utf8');
const total = Number(/^totals: (\d+)/m.exec(text)?.[1] ?? 0);
process.stdout.write(`${values.cli} ${phase} (${values['node-flags']}): ${(total / 1e6).toFixed(1)} M instructions / ${units} ${label} = ${(total / units / 1000).toFixed(1)} k per unit\n`);
if (values.annotate) process.stdout.write(execFileSync('callgrind_annotate', ['--inclusive=no', '--threshold=90', out], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).split('\n').slice(0, 60).join('\n'));
rmSync(dir, { recursive: true, force: true });

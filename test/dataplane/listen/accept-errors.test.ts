// SPEC §9 wsgate_accept_errors_total: connections refused at the file-descriptor limit are
// counted, logged at most once a second, and the proxy keeps serving. The process runs under a
// low `ulimit -n` and gets far more connections than it has descriptors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { acceptErrorReason, AcceptErrorLog, watchAcceptErrors } from '../../../src/dataplane/listen/accept-errors.ts';
import { CLI_SCRIPT, freePorts, listenFlags, type ListenPorts, waitUntilReady } from '../../support/cli.ts';
import { closed, connect, endpoint, eventually, metricValue, nextMessage, pool, route, scrape, snapshot, startUpstream, type TestUpstream } from '../../support/proxy.ts';

const FD_LIMIT = 128;
const CONNECTIONS = 400;

let upstream: TestUpstream;
let child: ChildProcess;
let ports: ListenPorts;
const lines: Array<{ at: number; line: Record<string, unknown> }> = [];

before(async () => {
  upstream = await startUpstream('echo');
  const dir = await mkdtemp(join(tmpdir(), 'wsgate-accept-'));
  const config = join(dir, 'wsgate.json');
  await writeFile(config, JSON.stringify(snapshot([route('/', 'echo')], [pool('echo', [endpoint(upstream.port)])])));
  ports = await freePorts();
  // Held connections that never send a head must stay for the whole test.
  const args = [CLI_SCRIPT, 'proxy', '--config', config, '--workers', '1', '--header-timeout', '120s', ...listenFlags(ports)];
  const command = `ulimit -n ${FD_LIMIT} && exec "$0" "$@"`;
  child = spawn('bash', ['-c', command, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      lines.push({ at: Date.now(), line: JSON.parse(text) as Record<string, unknown> });
    } catch {
      // Not ours to judge here.
    }
  });
  await waitUntilReady(ports.admin);
});

after(async () => {
  child.kill('SIGKILL');
  await upstream.close();
});

function hold(port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.once('connect', () => resolve(socket));
    // Refused before connecting (backlog full): nothing to hold.
    socket.once('close', () => resolve(socket));
  });
}

const refusalLines = (): Array<{ at: number; line: Record<string, unknown> }> =>
  lines.filter(({ line }) => typeof line.msg === 'string' && line.msg.startsWith('connections refused at accept'));

test('past the fd limit connections are refused and counted as emfile; the proxy keeps serving', async () => {
  const held: net.Socket[] = [];
  for (let i = 0; i < CONNECTIONS; i += 1) held.push(await hold(i % 2 === 0 ? ports.http : ports.https));
  await eventually(async () => metricValue(await scrape(ports.admin), 'wsgate_accept_errors_total', { reason: 'emfile' }) > 0, 'emfile counted');
  assert.equal(child.exitCode, null, 'the proxy is alive');
  assert.equal(child.signalCode, null, 'the proxy is alive');
  await eventually(() => refusalLines().length > 0, 'the refusal logged');

  for (const socket of held) socket.destroy();
  await eventually(async () => {
    try {
      const ws = await connect(`ws://127.0.0.1:${ports.http}/after`, { perMessageDeflate: false });
      ws.send('plain');
      assert.equal(await nextMessage(ws), 'plain');
      ws.close();
      await closed(ws);
      const wss = await connect(`wss://127.0.0.1:${ports.https}/after`, { perMessageDeflate: false, rejectUnauthorized: false });
      wss.send('tls');
      assert.equal(await nextMessage(wss), 'tls');
      wss.close();
      await closed(wss);
      return true;
    } catch {
      return false;
    }
  }, 'ws and wss served again once the connections are gone');

  // At most one line a second: lines n seconds apart number at most n + 1 (a little slack for
  // the pipe delivering them in bursts).
  const refusals = refusalLines();
  const spanSeconds = (refusals.at(-1)!.at - refusals[0]!.at) / 1000;
  assert.ok(refusals.length <= Math.ceil(spanSeconds) + 2, `${refusals.length} refusal lines in ${spanSeconds} s`);
  const logged = refusals.reduce((sum, { line }) => sum + Number(line.count), 0);
  assert.ok(logged > 0 && logged <= CONNECTIONS, `the lines carry the counts (${logged})`);
});

test('reasons are the errno in lower case, bounded', () => {
  assert.equal(acceptErrorReason('EMFILE'), 'emfile');
  assert.equal(acceptErrorReason('ENFILE'), 'enfile');
  assert.equal(acceptErrorReason('ECONNABORTED'), 'econnaborted');
  assert.equal(acceptErrorReason('EWHATEVER'), 'other');
  assert.equal(acceptErrorReason(undefined), 'other');
});

test('the log writes the first refusal at once and sums the rest per window', async () => {
  const written: number[] = [];
  const errorLog = new AcceptErrorLog(50, (count) => written.push(count));
  for (let i = 0; i < 5; i += 1) errorLog.record('emfile');
  assert.deepEqual(written, [1]);
  await eventually(() => written.length === 2, 'the window closed');
  assert.deepEqual(written, [1, 4]);
});

test('a listener that fails to bind is not a refused connection', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as net.AddressInfo).port;
  const server = net.createServer();
  const counted: string[] = [];
  watchAcceptErrors([server], (reason) => counted.push(reason));
  const failed = new Promise<NodeJS.ErrnoException>((resolve) => server.once('error', resolve));
  server.listen(port, '127.0.0.1');
  assert.equal((await failed).code, 'EADDRINUSE');
  assert.deepEqual(counted, []);
  // Once listening, an error the server reports is counted by its errno.
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  server.emit('error', Object.assign(new Error('accept failed'), { code: 'ENFILE' }));
  assert.deepEqual(counted, ['enfile']);
  server.close();
  taken.close();
});

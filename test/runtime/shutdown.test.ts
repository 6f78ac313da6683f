// SIGTERM per SPEC §8, on the real command: /readyz fails at once, new connections are still
// taken during --shutdown-delay, then every connection gets 1001 and the process exits 0.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { freePorts, listenFlags, readyzStatus, spawnWsgate, waitUntilReady, type ListenPorts } from '../support/cli.ts';
import { closed, connect, endpoint, eventually, nextMessage, pool, route, snapshot, startUpstream, type TestUpstream } from '../support/proxy.ts';

let upstream: TestUpstream;
let child: ChildProcess;
let ports: ListenPorts;
let exit: Promise<number | null>;

before(async () => {
  upstream = await startUpstream('echo');
  const dir = await mkdtemp(join(tmpdir(), 'wsgate-shutdown-'));
  const config = join(dir, 'wsgate.json');
  await writeFile(config, JSON.stringify(snapshot([route('/', 'echo')], [pool('echo', [endpoint(upstream.port)])])));
  ports = await freePorts();
  ({ child, exit } = spawnWsgate(['proxy', '--config', config, ...listenFlags(ports), '--workers', '1', '--shutdown-delay', '1500ms', '--shutdown-timeout', '20s', '--log-level', 'warn']));
  await waitUntilReady(ports.admin);
});

after(async () => {
  child.kill('SIGKILL');
  await upstream.close();
});

test('SIGTERM: readiness off at once, still accepting during the delay, then 1001 to everyone, exit 0', async () => {
  const url = `ws://127.0.0.1:${ports.http}/`;
  const clients = await Promise.all(Array.from({ length: 10 }, () => connect(url)));
  const closes = clients.map((ws) => closed(ws));
  child.kill('SIGTERM');
  await eventually(async () => (await readyzStatus(ports.admin)) === 503, 'readyz fails');
  // Still inside --shutdown-delay: a new connection is taken and works.
  const late = await connect(url);
  late.send('late');
  assert.equal(await nextMessage(late), 'late');
  closes.push(closed(late));
  const codes = await Promise.all(closes);
  assert.deepEqual(codes.map((c) => c.code), Array(11).fill(1001));
  assert.equal(await exit, 0);
});

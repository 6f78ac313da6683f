// SPEC §10: one JSON access line per connection end, with what an operator needs to explain it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePorts, listenFlags, spawnWsgate, waitUntilReady } from '../support/cli.ts';
import { closed, connect, endpoint, eventually, nextMessage, pool, route, snapshot, startUpstream, type TestUpstream } from '../support/proxy.ts';

let upstream: TestUpstream;
let child: ChildProcess;
let httpPort: number;
const lines: Array<Record<string, unknown>> = [];

before(async () => {
  upstream = await startUpstream('echo');
  const dir = await mkdtemp(join(tmpdir(), 'wsgate-access-'));
  const config = join(dir, 'wsgate.json');
  await writeFile(config, JSON.stringify(snapshot([route('/chat', 'echo', { source: { namespace: 'prod', ingress: 'chat' } })], [pool('echo', [endpoint(upstream.port)])])));
  const ports = await freePorts();
  httpPort = ports.http;
  ({ child } = spawnWsgate(['proxy', '--config', config, '--workers', '1', ...listenFlags(ports)], { stdio: ['ignore', 'pipe', 'inherit'] }));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      assert.fail(`a log line that is not JSON: ${line}`);
    }
  });
  await waitUntilReady(ports.admin);
});

after(async () => {
  child.kill('SIGKILL');
  await upstream.close();
});

const accessLines = (): Array<Record<string, unknown>> => lines.filter((l) => l.component === 'access');

test('a relayed connection leaves one line with bytes, messages, close code and side', async () => {
  const ws = await connect(`ws://127.0.0.1:${httpPort}/chat/room-1`, { perMessageDeflate: false });
  ws.send('hello');
  await nextMessage(ws);
  ws.close(4000, 'done');
  await closed(ws);
  await eventually(() => accessLines().some((l) => l.status === 101), 'access line written');
  const mine = accessLines().filter((l) => l.path === '/chat/room-1');
  assert.equal(mine.length, 1, 'exactly one line per connection end');
  const line = mine[0]!;
  assert.equal(line.client, '127.0.0.1');
  assert.equal(line.host, `127.0.0.1:${httpPort}`);
  assert.equal(line.route, 'prod/chat');
  assert.equal(line.upstream, `127.0.0.1:${upstream.port}`);
  assert.equal(line.closeCode, 4000);
  assert.equal(line.closeSide, 'client');
  assert.equal(line.messagesUp, 1);
  assert.equal(line.messagesDown, 1);
  assert.ok((line.bytesUp as number) > 0 && (line.bytesDown as number) > 0);
  assert.equal(typeof line.durationMs, 'number');
});

test('a refused handshake leaves a line with its status and reason', async () => {
  await assert.rejects(connect(`ws://127.0.0.1:${httpPort}/elsewhere`), { status: 404 });
  await eventually(() => accessLines().some((l) => l.path === '/elsewhere'), 'access line written');
  const line = accessLines().find((l) => l.path === '/elsewhere')!;
  assert.equal(line.status, 404);
  assert.equal(line.reason, 'no_route');
});

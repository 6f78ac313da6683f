// --workers 2 on the real command: one pod-wide connection limit, one aggregated /metrics,
// every worker applies each snapshot, SIGTERM drains them all with 1001.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WebSocket } from 'ws';
import type { Snapshot } from '../../src/config/snapshot.ts';
import { freePorts, listenFlags, spawnWsgate, waitUntilReady, type ListenPorts } from '../support/cli.ts';
import {
  closed, connect, endpoint, eventually, metricValue, nextMessage, pool, route, scrape, snapshot, startUpstream,
  type TestUpstream,
} from '../support/proxy.ts';

let upstream: TestUpstream;
let child: ChildProcess;
let ports: ListenPorts;
let exit: Promise<number | null>;
let config: string;

const base = (extraRoutes: Snapshot['routes'] = []): Snapshot =>
  snapshot(
    [route('/', 'echo', { source: { namespace: 'ns', ingress: 'limited' }, policy: { maxConnections: 4 } }), ...extraRoutes],
    [pool('echo', [endpoint(upstream.port)])],
  );

async function writeConfig(doc: Snapshot): Promise<void> {
  // As the controller does: write a temp file, rename it over.
  const tmp = `${config}.tmp`;
  await writeFile(tmp, JSON.stringify(doc));
  await rename(tmp, config);
}

before(async () => {
  upstream = await startUpstream('echo');
  const dir = await mkdtemp(join(tmpdir(), 'wsgate-workers-'));
  config = join(dir, 'wsgate.json');
  await writeConfig(base());
  ports = await freePorts();
  ({ child, exit } = spawnWsgate(['proxy', '--config', config, ...listenFlags(ports), '--workers', '2', '--shutdown-delay', '200ms', '--log-level', 'warn']));
  await waitUntilReady(ports.admin, 'cluster ready');
});

after(async () => {
  child.kill('SIGKILL');
  await upstream.close();
});

test('max-connections is one limit for the pod, across workers', async () => {
  const url = `ws://127.0.0.1:${ports.http}/`;
  const open: WebSocket[] = [];
  for (let i = 0; i < 4; i++) open.push(await connect(url));
  await assert.rejects(connect(url), { status: 503 });
  await assert.rejects(connect(url), { status: 503 });
  const text = await scrape(ports.admin);
  assert.equal(metricValue(text, 'wsgate_connections_active', { ingress: 'limited' }), 4, 'one aggregated gauge');
  assert.equal(metricValue(text, 'wsgate_handshake_failures_total', { reason: 'limit' }), 2);
  for (const ws of open) {
    ws.send('x');
    assert.equal(await nextMessage(ws), 'x');
    ws.close();
  }
  await eventually(async () => metricValue(await scrape(ports.admin), 'wsgate_connections_active', { ingress: 'limited' }) === 0, 'released');
});

test('a new snapshot reaches every worker', async () => {
  await writeConfig(base([route('/added', 'echo', { source: { namespace: 'ns', ingress: 'added' } })]));
  await eventually(async () => {
    const current = (await (await fetch(`http://127.0.0.1:${ports.admin}/config`)).json()) as Snapshot;
    return current.routes.some((r) => r.path === '/added') && (await fetch(`http://127.0.0.1:${ports.admin}/readyz`)).status === 200;
  }, 'primary has the new snapshot and every worker applied it');
  // Six at once, more than the old catch-all route's limit of 4: only the new, unlimited route
  // takes them, on whichever worker each lands.
  const clients = await Promise.all(Array.from({ length: 6 }, () => connect(`ws://127.0.0.1:${ports.http}/added`)));
  assert.equal(metricValue(await scrape(ports.admin), 'wsgate_connections_active', { ingress: 'added' }), 6);
  for (const ws of clients) ws.close();
  await eventually(async () => metricValue(await scrape(ports.admin), 'wsgate_connections_active', { ingress: 'added' }) === 0, 'closed');
});

test('SIGTERM: every connection on every worker gets 1001, exit 0', async () => {
  const url = `ws://127.0.0.1:${ports.http}/added`;
  const clients = await Promise.all(Array.from({ length: 6 }, () => connect(url)));
  const closes = clients.map((ws) => closed(ws));
  child.kill('SIGTERM');
  const codes = await Promise.all(closes);
  assert.deepEqual(codes.map((c) => c.code), Array(6).fill(1001));
  assert.equal(await exit, 0);
});

// Issue 11 through the real `wsgate` process: what an operator's tools see. Log lines (level
// names, ISO time, in the primary and in workers), --access-log=false, --admin-bind-address
// apart from --bind-address, /config from loopback, and wsgate_config_last_reload_successful
// following a refused and a repaired file, aggregated over workers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Snapshot } from '../../src/config/snapshot.ts';
import { closed, connect, deadPort, endpoint, eventually, metricValue, nextMessage, pool, route, scrape, snapshot, startUpstream, type TestUpstream } from '../support/proxy.ts';
import { CLI_SCRIPT } from '../support/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');

interface Wsgate {
  child: ChildProcess;
  /** stdout split in lines, as a log shipper reads it. */
  lines: string[];
  stderr: string[];
  stop(): Promise<void>;
}

function startWsgate(args: string[], env: Record<string, string> = {}): Wsgate {
  const child = spawn(process.execPath, [CLI_SCRIPT, ...args], { cwd: ROOT, env: { ...process.env, WSGATE_LOG_LEVEL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const stderr: string[] = [];
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  return {
    child,
    lines,
    stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function status(url: string): Promise<number | undefined> {
  return (await fetch(url).catch(() => undefined))?.status;
}

function parsed(lines: string[]): Array<Record<string, unknown>> {
  return lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

function echoSnapshot(upstream: TestUpstream): Snapshot {
  return snapshot([route('/', 'echo')], [pool('echo', [endpoint(upstream.port)])]);
}

describe('wsgate proxy --workers 2, traffic on 127.0.0.2, admin on 127.0.0.1', () => {
  let dir: string;
  let file: string;
  let upstream: TestUpstream;
  let wsgate: Wsgate;
  let httpPort: number;
  let adminPort: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wsgate-ops-'));
    file = join(dir, 'snapshot.json');
    upstream = await startUpstream('echo');
    await writeFile(file, JSON.stringify(echoSnapshot(upstream)));
    httpPort = await deadPort();
    adminPort = await deadPort();
    wsgate = startWsgate(['proxy', '--config', file, '--workers', '2', '--bind-address', '127.0.0.2', '--admin-bind-address', '127.0.0.1',
      '--http-port', String(httpPort), '--https-port', String(await deadPort()), '--admin-port', String(adminPort), '--shutdown-delay', '0s', '--shutdown-timeout', '2s']);
    await eventually(async () => (await status(`http://127.0.0.1:${adminPort}/readyz`)) === 200, 'ready', 60_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${wsgate.lines.join('\n')}\n${wsgate.stderr.join('')}`);
    });
  });

  after(async () => {
    await wsgate.stop();
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens for traffic on --bind-address and serves admin on --admin-bind-address only', async () => {
    const ws = await connect(`ws://127.0.0.2:${httpPort}/`);
    ws.send('hi');
    assert.equal(await nextMessage(ws), 'hi');
    ws.close(1000);
    await closed(ws);
    assert.equal(await status(`http://127.0.0.2:${adminPort}/metrics`), undefined, 'no admin port on the traffic address');
    assert.equal(await status(`http://127.0.0.1:${adminPort}/config`), 200, '/config answers a loopback client');
  });

  it('logs JSON with a level name and ISO-8601 time, in the primary and in the workers, with the access line', async () => {
    await eventually(() => parsed(wsgate.lines).some((l) => l['msg'] === 'connection closed'), 'the access line');
    const lines = parsed(wsgate.lines);
    const pids = new Set(lines.map((l) => l['pid']));
    assert.ok(pids.size >= 2, `lines from the primary and a worker (pids ${[...pids].join(', ')})`);
    for (const line of lines) {
      assert.match(String(line['level']), /^(trace|debug|info|warn|error|fatal)$/, JSON.stringify(line));
      assert.match(String(line['time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, JSON.stringify(line));
    }
  });

  it('wsgate_config_last_reload_successful is 0 while the refused file stays, 1 once it is repaired', async () => {
    const gauge = async (): Promise<number> => metricValue(await scrape(adminPort), 'wsgate_config_last_reload_successful');
    assert.equal(await gauge(), 1);
    const failuresBefore = metricValue(await scrape(adminPort), 'wsgate_config_reloads_total', { result: 'failure' });
    await writeFile(file, 'version: 1\nroutes: [{ host: "", path: /, pathType: Prefix, pool: missing }]\npools: []\n');
    await eventually(async () => metricValue(await scrape(adminPort), 'wsgate_config_reloads_total', { result: 'failure' }) > failuresBefore, 'the refusal counted', 20_000);
    assert.equal(await gauge(), 0);
    assert.equal(await gauge(), 0, 'still 0 at the next scrape: the refused file is still there');
    // The good file back: the snapshot in effect, so no reload, but nothing is refused any more.
    await writeFile(file, JSON.stringify(echoSnapshot(upstream)));
    await eventually(async () => (await gauge()) === 1, 'back to 1', 20_000);
  });
});

describe('wsgate proxy --access-log=false', () => {
  it('drops the per-connection line and keeps every other', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wsgate-ops-'));
    const file = join(dir, 'snapshot.json');
    const upstream = await startUpstream('echo');
    await writeFile(file, JSON.stringify(echoSnapshot(upstream)));
    const httpPort = await deadPort();
    const adminPort = await deadPort();
    const wsgate = startWsgate(['proxy', '--config', file, '--workers', '1', '--bind-address', '127.0.0.1', '--access-log=false',
      '--http-port', String(httpPort), '--https-port', String(await deadPort()), '--admin-port', String(adminPort), '--shutdown-delay', '0s', '--shutdown-timeout', '2s'],
    { WSGATE_LOG_LEVEL: 'INFO' });
    t.after(async () => {
      await wsgate.stop();
      await upstream.close();
      await rm(dir, { recursive: true, force: true });
    });
    await eventually(async () => (await status(`http://127.0.0.1:${adminPort}/readyz`)) === 200, 'ready', 60_000);
    const ws = await connect(`ws://127.0.0.1:${httpPort}/`);
    ws.close(1000);
    await closed(ws);
    // The close is counted once the proxy has logged (or would have logged) the line.
    await eventually(async () => metricValue(await scrape(adminPort), 'wsgate_close_codes_total', { code: '1000' }) === 1, 'the close counted');
    const lines = parsed(wsgate.lines);
    assert.ok(lines.some((l) => l['msg'] === 'snapshot applied' && l['level'] === 'info'), 'other info lines stay (level INFO accepted)');
    assert.deepEqual(lines.filter((l) => l['component'] === 'access'), []);
  });
});

// The image's install path without Docker (the Dockerfile does exactly this): `npm pack`, then
// install the tarball into an empty folder with production dependencies only, and run the
// installed `wsgate`: --help, then the demo serving a real wss echo, then a clean SIGTERM.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, listenFlags, spawnWsgate, waitUntilReady } from '../support/cli.ts';
import { closed, connect, eventually, nextMessage } from '../support/proxy.ts';

const repo = new URL('../..', import.meta.url).pathname;
/** The script `wsgate` runs once installed (the bundle), as package.json names it. */
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { bin: { wsgate: string } };
let dir: string;
let cli: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wsgate-pack-'));
  execFileSync('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack made a tarball');
  const app = join(dir, 'app');
  execFileSync('mkdir', ['-p', app]);
  await writeFile(join(app, 'package.json'), '{ "name": "wsgate-install-check", "private": true }\n');
  execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--silent', join(dir, tarball)], { cwd: app, stdio: ['ignore', 'ignore', 'inherit'] });
  cli = join(app, 'node_modules', 'wsgate', pkg.bin.wsgate);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('the package holds the build and no development dependency', () => {
  const installed = join(dir, 'app', 'node_modules');
  assert.ok(existsSync(cli), `${pkg.bin.wsgate} is in the package`);
  assert.ok(existsSync(join(installed, '.bin', 'wsgate')), 'the bin is linked');
  assert.ok(existsSync(join(installed, 'wsgate', 'schema', 'snapshot.schema.json')), 'the published schema ships');
  for (const dev of ['typescript', 'eslint', 'fast-check', 'node']) assert.ok(!existsSync(join(installed, dev)), `${dev} is not installed`);
  for (const dep of ['ws', 'prom-client', 'pino', '@kubernetes/client-node']) assert.ok(existsSync(join(installed, dep)), `${dep} is installed`);
});

test('the installed wsgate prints its help', () => {
  const out = execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
  assert.match(out, /usage: wsgate <command>/);
  assert.match(out, /--https-port/);
});

test('the installed wsgate runs the demo: wss echo, then SIGTERM exits 0', async () => {
  const ports = await freePorts();
  const { child, exit } = spawnWsgate(['demo', '--workers', '1', ...listenFlags(ports), '--shutdown-delay', '0s', '--log-level', 'warn'], { cli, stdio: ['ignore', 'pipe', 'inherit'] });
  let banner = '';
  child.stdout!.on('data', (d) => (banner += d));
  try {
    await waitUntilReady(ports.admin, 'demo ready');
    // Readiness turns on just before the banner is written, and the pipe delivers it later still.
    await eventually(() => banner.includes(`wss://localhost:${ports.https}/`), 'the banner names the wss URL');
    const ws = await connect(`wss://127.0.0.1:${ports.https}/echo`);
    ws.send('from the package');
    assert.equal(await nextMessage(ws), 'from the package');
    const end = closed(ws);
    child.kill('SIGTERM');
    assert.equal((await end).code, 1001);
    assert.equal(await exit, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

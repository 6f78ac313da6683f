// The built image, run for real: its own files, as its own user, on the host network (buildah run
// --isolation chroot; there is no container engine daemon here). Started by test/image/run.ts,
// which builds the image first and passes its name in WSGATE_IMAGE; not part of `npm test`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import YAML from 'yaml';
import { DATA_PLANE_V8_FLAGS } from '../../src/runtime/v8-flags.ts';
import { buildah, buildahRun, inspectImage, type ImageFacts } from './buildah.ts';
import { expectedImageName, repoRoot } from './names.ts';
import { freePorts, listenFlags, waitUntilReady, type ListenPorts } from '../support/cli.ts';
import { closed, connect, eventually, metricValue, nextMessage, scrape, startUpstream } from '../support/proxy.ts';

const image = process.env.WSGATE_IMAGE ?? expectedImageName();
const values = YAML.parse(readFileSync(join(repoRoot, 'charts/wsgate/values.yaml'), 'utf8')) as {
  image: { repository: string; pullPolicy: string };
  ports: { http: number; https: number; admin: number };
  securityContext: { runAsUser: number; runAsGroup: number };
};
const chart = YAML.parse(readFileSync(join(repoRoot, 'charts/wsgate/Chart.yaml'), 'utf8')) as { appVersion: string; home: string };
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; license: string; bin: Record<string, string>; devDependencies: Record<string, string> };
/** Where the chart puts the snapshot the proxy container serves. */
const CHART_SNAPSHOT_PATH = '/run/wsgate/snapshot.json';

let facts: ImageFacts;
let container: string;
let rootfs: string;

before(() => {
  const found = inspectImage(image);
  assert.ok(found, `image ${image} exists (npm run test:image builds it)`);
  facts = found;
  container = buildah(['from', '--pull=never', '--name', `wsgate-image-check-${process.pid}`, image]);
  rootfs = buildah(['mount', container]);
});

after(() => {
  if (container) buildah(['rm', container], { quiet: true });
});

/** uid and gid NAME has in the image's own /etc/passwd (a number stands for itself). */
function imageUser(name: string): { uid: number; gid: number } {
  if (/^\d+$/.test(name)) return { uid: Number(name), gid: Number(name) };
  const line = readFileSync(join(rootfs, 'etc/passwd'), 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  assert.ok(line, `user ${name} is in the image's /etc/passwd`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Every file below DIR, as paths relative to it. */
function walk(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('the image is what the chart runs', () => {
  it('is tagged as the chart\'s default image reference, which IfNotPresent takes from the node', () => {
    assert.equal(image, `${values.image.repository}:${chart.appVersion}`);
    assert.equal(chart.appVersion, pkg.version, 'the chart\'s appVersion is the package version');
    // A kind-loaded (or otherwise side-loaded) tag is only used when the kubelet does not pull it.
    assert.equal(values.image.pullPolicy, 'IfNotPresent');
  });

  it('starts wsgate\'s bin with Node, so the chart\'s args are wsgate commands', () => {
    // Node, its V8 flags (the young-generation size the proxy is measured with: issue 9), then
    // the bin; whatever follows is the chart's args.
    const entrypoint = facts.config.Entrypoint ?? [];
    assert.equal(entrypoint[0], '/nodejs/bin/node');
    assert.equal(entrypoint.at(-1), `/app/${pkg.bin.wsgate}`);
    assert.ok(entrypoint.slice(1, -1).every((arg) => arg.startsWith('--')), `only node flags between node and the bin: ${JSON.stringify(entrypoint)}`);
    // The heap sizes the benchmarks measured, the same the cluster primary gives its workers.
    for (const flag of DATA_PLANE_V8_FLAGS) assert.ok(entrypoint.includes(flag), `${flag} in ${JSON.stringify(entrypoint)}`);
    assert.deepEqual(facts.config.Cmd, ['--help']);
    assert.equal(facts.config.WorkingDir, '/app');
    assert.ok(facts.config.Env?.includes('NODE_ENV=production'));
  });

  it('runs as the user the chart\'s securityContext names', () => {
    const { uid, gid } = imageUser(facts.config.User ?? 'root');
    assert.equal(uid, values.securityContext.runAsUser);
    assert.equal(gid, values.securityContext.runAsGroup);
    assert.equal(uid, 65532);
  });

  it('exposes the chart\'s ports and carries the OCI labels of this version', () => {
    assert.deepEqual(Object.keys(facts.config.ExposedPorts ?? {}).sort(), [values.ports.http, values.ports.https, values.ports.admin].map((p) => `${p}/tcp`).sort());
    const labels = facts.config.Labels ?? {};
    assert.equal(labels['org.opencontainers.image.title'], 'wsgate');
    assert.equal(labels['org.opencontainers.image.version'], chart.appVersion);
    assert.equal(labels['org.opencontainers.image.source'], chart.home);
    assert.equal(labels['org.opencontainers.image.licenses'], pkg.license);
    const expectedRevision = process.env.WSGATE_IMAGE_REVISION;
    if (expectedRevision) assert.equal(labels['org.opencontainers.image.revision'], expectedRevision);
    assert.match(labels['org.opencontainers.image.revision'] ?? '', /^[0-9a-f]{40}$|^unknown$/);
  });
});

describe('/app holds the package and its production dependencies, nothing else', () => {
  it('outside node_modules, exactly the files `npm pack` ships, byte for byte', () => {
    const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--silent'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { files: { path: string }[] }[];
    const shipped = (packed[0]?.files ?? []).map((f) => f.path).sort();
    assert.ok(shipped.includes(pkg.bin.wsgate as string), 'npm pack ships the bin');
    const app = join(rootfs, 'app');
    const inImage = walk(app).filter((p) => !p.startsWith('node_modules/')).sort();
    assert.deepEqual(inImage, shipped);
    for (const path of shipped) assert.equal(sha256(join(app, path)), sha256(join(repoRoot, path)), `${path} is the one built from this tree`);
  });

  it('node_modules: every production package of the lock file, no development one', () => {
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean }> };
    const installed = new Set(
      walk(join(rootfs, 'app'))
        .filter((p) => p.startsWith('node_modules/') && p.endsWith('/package.json'))
        .map((p) => p.slice(0, -'/package.json'.length))
        .filter((dir) => dir in lock.packages),
    );
    const production = Object.entries(lock.packages).filter(([path, entry]) => path !== '' && !entry.dev);
    for (const [path, entry] of production) if (!entry.optional) assert.ok(installed.has(path), `${path} is installed`);
    for (const path of installed) assert.equal(lock.packages[path]?.dev, undefined, `${path} is a development dependency`);
    // A devDependency that a production package also needs (@types/node, for one) is production.
    const devOnly = Object.keys(pkg.devDependencies).filter((name) => lock.packages[`node_modules/${name}`]?.dev);
    assert.ok(devOnly.includes('typescript') && devOnly.includes('node'));
    for (const name of devOnly) assert.ok(!installed.has(`node_modules/${name}`), `${name} (devDependency) is not installed`);
  });

  it('no tests, no TypeScript, no sources: only what runs', () => {
    const app = join(rootfs, 'app');
    for (const dir of ['src', 'test', 'bench', 'fuzz', 'soak', 'charts', '.git']) assert.ok(!existsSync(join(app, dir)), `/app/${dir} is absent`);
    const typescript = walk(app).filter((p) => /\.[cm]?ts$/.test(p));
    assert.deepEqual(typescript, [], 'no TypeScript file anywhere in /app');
  });

  it('belongs to root and is read-only to the user it runs as', () => {
    const app = join(rootfs, 'app');
    for (const path of ['', ...walk(app), 'node_modules', 'dist']) {
      const st = lstatSync(join(app, path));
      assert.equal(st.uid, 0, `/app/${path} owner`);
      if (!st.isSymbolicLink()) assert.equal(st.mode & 0o022, 0, `/app/${path} is writable by group or others`);
    }
  });

  it('has no shell and no package manager, and Node only at /nodejs/bin/node', () => {
    for (const path of ['bin/sh', 'bin/bash', 'bin/dash', 'usr/bin/sh', 'usr/bin/apt', 'usr/bin/dpkg', 'usr/local/bin/npm', 'usr/local/bin/node', 'usr/local/lib/node_modules']) {
      assert.ok(!existsSync(join(rootfs, path)), `/${path} is absent`);
    }
    const node = join(rootfs, 'nodejs/bin/node');
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    assert.match(version, /^v24\./);
    assert.ok(existsSync(join(rootfs, 'etc/ssl/certs/ca-certificates.crt')), 'CA certificates');
  });
});

/** wsgate started from the image's entrypoint with ARGS, as the image's user. */
interface Started {
  child: ChildProcess;
  exit: Promise<number | null>;
  output: () => string;
}

function startFromImage(args: string[]): Started {
  const argv = [...(facts.config.Entrypoint ?? []), ...args];
  const child = buildahRun(container, facts.config.User ?? 'root', argv);
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exit, output: () => output };
}

/** Host pids of the wsgate processes serving ADMIN_PORT (chroot isolation shares the pid space). */
function wsgatePids(adminPort: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (argv[0] === '/nodejs/bin/node' && argv.includes(`/app/${pkg.bin.wsgate}`) && argv.includes(String(adminPort))) pids.push(Number(entry));
  }
  return pids;
}

function statusIds(pid: number, key: 'Uid' | 'Gid'): number[] {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${key}:`)) ?? '';
  return line.split(/\s+/).slice(1).filter(Boolean).map(Number);
}

/** The pid the kubelet would signal: the wsgate process whose parent is not wsgate. */
function mainPid(adminPort: number): number {
  const pids = wsgatePids(adminPort);
  const main = pids.filter((pid) => {
    const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return !pids.includes(ppid);
  });
  assert.equal(main.length, 1, `one main wsgate process (found ${pids.join(', ')})`);
  return main[0] as number;
}

async function stopped(started: Started): Promise<void> {
  if (started.child.exitCode === null) started.child.kill('SIGKILL');
  await started.exit;
}

describe('the image runs', () => {
  let ports: ListenPorts;

  it('demo: a wss echo from a ws client, counted in /metrics, as uid 65532 in the image\'s root; SIGTERM drains with 1001 and exits 0', async () => {
    ports = await freePorts();
    const demo = startFromImage(['demo', '--workers', '1', ...listenFlags(ports), '--shutdown-delay', '0s']);
    try {
      await waitUntilReady(ports.admin, 'demo ready in the image').catch((err: Error) => assert.fail(`${err.message}\n${demo.output()}`));
      // Readiness turns on just before the banner is written, and the pipe delivers it later still.
      await eventually(() => demo.output().includes(`wss://localhost:${ports.https}/`), 'the banner names the wss URL');

      const pids = wsgatePids(ports.admin);
      assert.ok(pids.length >= 1);
      for (const pid of pids) {
        assert.deepEqual(statusIds(pid, 'Uid'), [65532, 65532, 65532, 65532], `pid ${pid} uids`);
        assert.deepEqual(statusIds(pid, 'Gid'), [65532, 65532, 65532, 65532], `pid ${pid} gids`);
        // Its root is the image's file tree (buildah binds it elsewhere, so compare contents).
        const root = `/proc/${pid}/root`;
        assert.equal(sha256(join(root, 'app', pkg.bin.wsgate as string)), sha256(join(rootfs, 'app', pkg.bin.wsgate as string)), `pid ${pid} runs the image's wsgate`);
        assert.ok(!existsSync(join(root, 'bin/sh')), `pid ${pid} has no shell at hand`);
      }

      const ws = await connect(`wss://127.0.0.1:${ports.https}/echo`);
      ws.send('through the image');
      assert.equal(await nextMessage(ws), 'through the image');
      ws.close(1000);
      await closed(ws);
      await eventually(async () => metricValue(await scrape(ports.admin), 'wsgate_close_codes_total', { code: '1000', side: 'client' }) === 1, 'the close counted');
      const metrics = await scrape(ports.admin);
      assert.equal(metricValue(metrics, 'wsgate_connections_total', { namespace: 'demo', ingress: 'echo' }), 1);
      assert.ok(metricValue(metrics, 'wsgate_messages_total', { direction: 'upstream' }) >= 1);

      const held = await connect(`wss://127.0.0.1:${ports.https}/echo`);
      const end = closed(held);
      process.kill(mainPid(ports.admin), 'SIGTERM');
      assert.equal((await end).code, 1001);
      assert.equal(await demo.exit, 0, demo.output());
    } finally {
      await stopped(demo);
    }
  });

  it('proxy --config FILE (copied into the image where the chart mounts it) serves its route to a ws upstream', async () => {
    const upstream = await startUpstream('chat');
    const dir = await mkdtemp(join(tmpdir(), 'wsgate-image-'));
    ports = await freePorts();
    const snapshot = {
      version: 1,
      routes: [{ host: 'chat.example.test', path: '/ws', pathType: 'Prefix', pool: 'prod/chat', source: { namespace: 'prod', ingress: 'chat' } }],
      pools: [{ name: 'prod/chat', source: { namespace: 'prod', service: 'chat' }, endpoints: [{ address: '127.0.0.1', port: upstream.port, state: 'ready' }] }],
    };
    writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(snapshot));
    buildah(['copy', '--chmod', '0644', container, join(dir, 'snapshot.json'), CHART_SNAPSHOT_PATH], { quiet: true });
    const proxy = startFromImage(['proxy', `--config=${CHART_SNAPSHOT_PATH}`, '--workers', '1', ...listenFlags(ports), '--shutdown-delay', '0s']);
    try {
      await waitUntilReady(ports.admin, 'proxy ready in the image').catch((err: Error) => assert.fail(`${err.message}\n${proxy.output()}`));
      const ws = await connect(`ws://127.0.0.1:${ports.http}/ws/room`, { headers: { Host: 'chat.example.test' } });
      ws.send('hello upstream');
      assert.equal(await nextMessage(ws), 'hello upstream');
      assert.equal(upstream.handshakes.length, 1);
      assert.equal(upstream.handshakes[0]?.url, '/ws/room');
      assert.equal(upstream.handshakes[0]?.headers['x-forwarded-proto'], 'http');
      const refused = await connect(`ws://127.0.0.1:${ports.http}/other`, { headers: { Host: 'chat.example.test' } }).then(() => 0, (err: { status?: number }) => err.status);
      assert.equal(refused, 404);
      assert.equal(metricValue(await scrape(ports.admin), 'wsgate_connections_active', { namespace: 'prod', ingress: 'chat', service: 'chat' }), 1);

      const end = closed(ws);
      process.kill(mainPid(ports.admin), 'SIGTERM');
      assert.equal((await end).code, 1001);
      assert.equal(await proxy.exit, 0, proxy.output());
    } finally {
      await stopped(proxy);
      await upstream.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import { test, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/common/errors.ts';
import { snapshotHash } from '../../../src/config/canonical.ts';
import { writeFileAtomic } from '../../../src/config/atomic-write.ts';
import type { Snapshot } from '../../../src/config/snapshot.ts';
import { watchSnapshotFile } from '../../../src/providers/file/watch.ts';

const root = mkdtempSync(join(tmpdir(), 'wsgate-file-provider-'));
after(() => rmSync(root, { recursive: true, force: true }));

function folder(): string {
  return mkdtempSync(join(root, 'case-'));
}

/** A valid snapshot whose one endpoint listens on `port`: each port is a different snapshot. */
function config(port: number, extra = ''): string {
  return `version: 1
routes:
  - { host: '', path: /, pathType: Prefix, pool: echo }
pools:
  - name: echo
    endpoints:
      - { address: 127.0.0.1, port: ${port}, state: ready }
${extra}`;
}

type Event = { kind: 'snapshot'; snapshot: Snapshot; hash: string } | { kind: 'error'; error: ConfigError };

/** Starts a watcher that queues what it reports; `next()` waits for the next report. */
function watchFile(t: TestContext, path: string, options: { pollMs?: number; debounceMs?: number } = {}) {
  const events: Event[] = [];
  let wake: (() => void) | undefined;
  const push = (event: Event) => {
    events.push(event);
    wake?.();
  };
  const watcher = watchSnapshotFile(
    path,
    {
      onSnapshot: (snapshot, hash) => push({ kind: 'snapshot', snapshot, hash }),
      onError: (error) => push({ kind: 'error', error }),
    },
    // A long poll unless asked: these tests are about fs.watch seeing the change.
    { pollMs: options.pollMs ?? 600_000, ...(options.debounceMs === undefined ? {} : { debounceMs: options.debounceMs }) },
  );
  t.after(() => watcher.close());
  let read = 0;
  return {
    async next(): Promise<Event> {
      while (read === events.length) await new Promise<void>((resolve) => (wake = resolve));
      return events[read++]!;
    },
    async nextSnapshot(): Promise<Snapshot> {
      const event = await this.next();
      assert.equal(event.kind, 'snapshot', event.kind === 'error' ? event.error.message : '');
      return (event as Extract<Event, { kind: 'snapshot' }>).snapshot;
    },
    async nextError(): Promise<ConfigError> {
      const event = await this.next();
      assert.equal(event.kind, 'error', 'expected an error report');
      return (event as Extract<Event, { kind: 'error' }>).error;
    },
  };
}

const portOf = (snapshot: Snapshot) => snapshot.pools[0]!.endpoints[0]!.port;

test('the first state is reported once, with the content hash', async (t) => {
  const path = join(folder(), 'wsgate.yaml');
  writeFileSync(path, config(9001));
  const watch = watchFile(t, path);
  const event = await watch.next();
  assert.equal(event.kind, 'snapshot');
  assert.ok(event.kind === 'snapshot');
  assert.equal(portOf(event.snapshot), 9001);
  assert.equal(event.hash, snapshotHash(event.snapshot));
});

test('an in-place write (truncate + write, as many editors save) is picked up', async (t) => {
  const path = join(folder(), 'wsgate.yaml');
  writeFileSync(path, config(9001));
  const watch = watchFile(t, path);
  assert.equal(portOf(await watch.nextSnapshot()), 9001);
  writeFileSync(path, config(9002));
  assert.equal(portOf(await watch.nextSnapshot()), 9002);
  writeFileSync(path, config(9003));
  assert.equal(portOf(await watch.nextSnapshot()), 9003);
});

test('a write by rename (the controller, vim, VS Code) is picked up each time', async (t) => {
  const dir = folder();
  const path = join(dir, 'wsgate.yaml');
  writeFileSync(path, config(9001));
  const watch = watchFile(t, path);
  assert.equal(portOf(await watch.nextSnapshot()), 9001);
  await writeFileAtomic(path, config(9002));
  assert.equal(portOf(await watch.nextSnapshot()), 9002);
  // An editor's own temp name, renamed over the file: the watch on the file's inode would be gone now.
  writeFileSync(join(dir, '.wsgate.yaml.swp'), config(9003));
  renameSync(join(dir, '.wsgate.yaml.swp'), path);
  assert.equal(portOf(await watch.nextSnapshot()), 9003);
});

test('the same content written again is not reported again', async (t) => {
  const path = join(folder(), 'wsgate.yaml');
  writeFileSync(path, config(9001));
  const watch = watchFile(t, path);
  const first = await watch.next();
  await writeFileAtomic(path, config(9001));
  writeFileSync(path, config(9001));
  // Same data with other formatting: the same snapshot.
  await writeFileAtomic(path, JSON.stringify((first as Extract<Event, { kind: 'snapshot' }>).snapshot));
  await writeFileAtomic(path, config(9004));
  // The next report is the changed content: nothing came for the three rewrites in between.
  assert.equal(portOf(await watch.nextSnapshot()), 9004);
});

test('an invalid file is reported as an error, without a snapshot, until it is fixed', async (t) => {
  const path = join(folder(), 'wsgate.yaml');
  writeFileSync(path, config(9001));
  const watch = watchFile(t, path);
  await watch.nextSnapshot();
  await writeFileAtomic(path, config(9001).replace('pool: echo', 'pool: nope'));
  const error = await watch.nextError();
  assert.ok(error instanceof ConfigError);
  assert.deepEqual(error.errors, [`${path}:3:50: routes[0].pool: "nope" is not a pool (pools: echo)`]);
  await writeFileAtomic(path, 'version: 1\nroutes: [\n');
  assert.match((await watch.nextError()).errors[0]!, /syntax error/);
  await writeFileAtomic(path, config(9002));
  assert.equal(portOf(await watch.nextSnapshot()), 9002);
});

test('a file that is invalid from the start reports an error first', async (t) => {
  const path = join(folder(), 'wsgate.yaml');
  writeFileSync(path, config(0));
  const watch = watchFile(t, path);
  assert.match((await watch.nextError()).errors[0]!, /port: must be a port from 1 to 65535, not 0$/);
  writeFileSync(path, config(9001));
  assert.equal(portOf(await watch.nextSnapshot()), 9001);
});

test('a file that is missing, or disappears, is picked up when it comes back', async (t) => {
  const dir = folder();
  const path = join(dir, 'wsgate.yaml');
  const watch = watchFile(t, path);
  assert.deepEqual((await watch.nextError()).errors, [`${path}: cannot read the file (no such file)`]);
  writeFileSync(path, config(9001));
  assert.equal(portOf(await watch.nextSnapshot()), 9001);
  unlinkSync(path);
  assert.deepEqual((await watch.nextError()).errors, [`${path}: cannot read the file (no such file)`]);
  await writeFileAtomic(path, config(9002));
  assert.equal(portOf(await watch.nextSnapshot()), 9002);
});

test('a Kubernetes volume update (the ..data symlink swapped) is picked up', async (t) => {
  // The layout kubelet gives ConfigMap and Secret volumes: wsgate.yaml -> ..data/wsgate.yaml,
  // ..data -> ..<timestamp>, and an update renames a new ..data symlink over the old one.
  const dir = folder();
  const version = (name: string, port: number) => {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'wsgate.yaml'), config(port));
  };
  version('..2026_01_01_v1', 9001);
  symlinkSync('..2026_01_01_v1', join(dir, '..data'));
  symlinkSync('..data/wsgate.yaml', join(dir, 'wsgate.yaml'));
  const watch = watchFile(t, join(dir, 'wsgate.yaml'));
  assert.equal(portOf(await watch.nextSnapshot()), 9001);
  version('..2026_01_02_v2', 9002);
  symlinkSync('..2026_01_02_v2', join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  rmSync(join(dir, '..2026_01_01_v1'), { recursive: true });
  assert.equal(portOf(await watch.nextSnapshot()), 9002);
});

test('a certificate file in another folder is followed by the poll', async (t) => {
  const dir = folder();
  const certs = join(dir, 'tls');
  mkdirSync(certs);
  const makeCert = (name: string) =>
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', '/CN=echo', '-keyout', `${name}.key`, '-out', `${name}.crt`], { cwd: dir, stdio: 'ignore' });
  makeCert('old');
  makeCert('new');
  writeFileSync(join(certs, 'tls.crt'), readFileSync(join(dir, 'old.crt')));
  writeFileSync(join(certs, 'tls.key'), readFileSync(join(dir, 'old.key')));
  const configDir = join(dir, 'config');
  mkdirSync(configDir);
  const path = join(configDir, 'wsgate.yaml');
  writeFileSync(path, config(9001, 'tls:\n  defaultCertificate: { name: rotated, certFile: ../tls/tls.crt, keyFile: ../tls/tls.key }\n'));
  const watch = watchFile(t, path, { pollMs: 100 });
  assert.equal((await watch.nextSnapshot()).tls!.defaultCertificate!.cert, readFileSync(join(dir, 'old.crt'), 'utf8'));
  // cert-manager style rotation: both files replaced. Between the two, the poll may see a
  // certificate with the other key; that is an error report, never a snapshot.
  await writeFileAtomic(join(certs, 'tls.crt'), readFileSync(join(dir, 'new.crt'), 'utf8'));
  await writeFileAtomic(join(certs, 'tls.key'), readFileSync(join(dir, 'new.key'), 'utf8'));
  for (;;) {
    const event = await watch.next();
    if (event.kind === 'error') {
      assert.match(event.error.errors[0]!, /does not match the certificate/);
      continue;
    }
    assert.equal(event.snapshot.tls!.defaultCertificate!.cert, readFileSync(join(dir, 'new.crt'), 'utf8'));
    assert.equal(event.snapshot.tls!.defaultCertificate!.key, readFileSync(join(dir, 'new.key'), 'utf8'));
    break;
  }
});

test('a file renamed into place is read at once: no quiet period, no poll', async (t) => {
  const path = join(folder(), 'snapshot.json');
  writeFileSync(path, config(9001));
  // A quiet period of a minute and no poll: only the rename event itself can deliver in time.
  const watcher = watchFile(t, path, { debounceMs: 60_000 });
  assert.equal(portOf(await watcher.nextSnapshot()), 9001);
  const started = performance.now();
  await writeFileAtomic(path, config(9002));
  assert.equal(portOf(await watcher.nextSnapshot()), 9002);
  assert.ok(performance.now() - started < 30_000, 'delivered long before the quiet period would have ended');
});

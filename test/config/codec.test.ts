import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigError } from '../../src/common/errors.ts';
import { canonicalJson, loadSnapshotFile, parseSnapshotText, redactSnapshot, snapshotHash, writeFileAtomic } from '../../src/config/codec.ts';
import type { Snapshot } from '../../src/config/snapshot.ts';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsgate-codec-'));
  mkdirSync(join(dir, 'certs'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: join(dir, 'certs'), stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=chat.example.com', '-keyout', 'rsa.key', '-out', 'rsa.crt');
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', '/CN=wsgate', '-keyout', 'ec.key', '-out', 'ec.crt');
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a file in the test folder and returns its path. */
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function configErrorOf(work: () => unknown): Promise<ConfigError> {
  try {
    await work();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.code, 'WSGATE_CONFIG_INVALID');
    return error;
  }
  assert.fail('expected a ConfigError');
}

const YAML_DOC = `# comments are fine
version: 1
routes:
  - host: chat.example.com
    path: /ws
    pathType: Prefix
    pool: chat
pools:
  - name: chat
    endpoints:
      - { address: 10.0.0.1, port: 8080, state: ready }
`;

// ---- text ----

test('YAML and JSON texts of the same snapshot parse to the same data', () => {
  const fromYaml = parseSnapshotText(YAML_DOC);
  const fromJson = parseSnapshotText(JSON.stringify(fromYaml, null, 2));
  assert.deepEqual(fromJson, fromYaml);
  assert.deepEqual((fromYaml as Snapshot).pools[0]!.endpoints[0], { address: '10.0.0.1', port: 8080, state: 'ready' });
});

test('YAML 1.2: yes/no/on/off stay strings', () => {
  assert.deepEqual(parseSnapshotText('a: yes\nb: off\nc: true\n'), { a: 'yes', b: 'off', c: true });
});

test('a syntax error names the file, line and column', async () => {
  const error = await configErrorOf(() => parseSnapshotText('version: 1\nroutes: []\nroutes: []\n', 'wsgate.yaml'));
  assert.deepEqual(error.errors, ['wsgate.yaml:3:1: syntax error: Map keys must be unique']);
  const json = await configErrorOf(() => parseSnapshotText('{\n  "version": 1,\n  "routes": [\n}\n', 'snap.json'));
  assert.match(json.errors[0]!, /^snap\.json:4:1: syntax error: /);
  const bare = await configErrorOf(() => parseSnapshotText('a: b: c\n'));
  assert.match(bare.errors[0]!, /^1:4: syntax error: Nested mappings/);
});

test('several YAML documents in one file are refused', async () => {
  const error = await configErrorOf(() => parseSnapshotText('version: 1\n---\nversion: 1\n', 'x.yaml'));
  assert.match(error.errors[0]!, /^x\.yaml:2:1: syntax error: Source contains multiple documents/);
});

test('an alias bomb is refused rather than expanded', async () => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 0; i < 8; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`);
  const error = await configErrorOf(() => parseSnapshotText(lines.join('\n'), 'bomb.yaml'));
  assert.match(error.errors[0]!, /^bomb\.yaml: .*alias/i);
});

// ---- files ----

function tlsDoc(certFile: string, keyFile: string): string {
  return `${YAML_DOC}tls:
  certificates:
    - name: default/chat
      hosts: [chat.example.com]
      certFile: ${certFile}
      keyFile: ${keyFile}
  defaultCertificate:
    name: default/fallback
    certFile: certs/ec.crt
    keyFile: certs/ec.key
`;
}

test('certFile and keyFile are read relative to the snapshot, RSA and ECDSA, and inlined', async () => {
  const snapshot = await loadSnapshotFile(file('tls.yaml', tlsDoc('certs/rsa.crt', 'certs/rsa.key')));
  const [cert] = snapshot.tls!.certificates!;
  assert.equal(cert!.cert, readFileSync(join(dir, 'certs/rsa.crt'), 'utf8'));
  assert.equal(cert!.key, readFileSync(join(dir, 'certs/rsa.key'), 'utf8'));
  assert.equal('certFile' in cert!, false);
  assert.equal('keyFile' in cert!, false);
  assert.equal(snapshot.tls!.defaultCertificate!.cert, readFileSync(join(dir, 'certs/ec.crt'), 'utf8'));
  // An absolute path works too, and the process's working folder plays no part.
  const absolute = await loadSnapshotFile(file('abs.yaml', tlsDoc(join(dir, 'certs/rsa.crt'), join(dir, 'certs/rsa.key'))));
  assert.equal(absolute.tls!.certificates![0]!.cert, cert!.cert);
});

test('a key file that does not match its certificate file is reported on keyFile, with the line', async () => {
  const path = file('mismatch.yaml', tlsDoc('certs/rsa.crt', 'certs/ec.key'));
  const error = await configErrorOf(() => loadSnapshotFile(path));
  assert.deepEqual(error.errors, [`${path}:17:16: tls.certificates[0].keyFile: "certs/ec.key" does not match the certificate (the first one in the chain)`]);
});

test('missing certificate files are each reported', async () => {
  const path = file('missing.yaml', tlsDoc('certs/nope.crt', 'certs/nope.key'));
  const error = await configErrorOf(() => loadSnapshotFile(path));
  assert.deepEqual(error.errors, [
    `${path}:16:17: tls.certificates[0].certFile: cannot read "certs/nope.crt" (no such file)`,
    `${path}:17:16: tls.certificates[0].keyFile: cannot read "certs/nope.key" (no such file)`,
  ]);
});

test('a JSON snapshot file loads like a YAML one', async () => {
  const fromYaml = await loadSnapshotFile(file('same.yaml', YAML_DOC));
  const fromJson = await loadSnapshotFile(file('same.json', JSON.stringify(fromYaml)));
  assert.deepEqual(fromJson, fromYaml);
});

test('an invalid file lists every error with its line and column', async () => {
  const path = file('bad.yaml', YAML_DOC.replace('pool: chat', 'pool: chats').replace('port: 8080', 'port: 0'));
  const error = await configErrorOf(() => loadSnapshotFile(path));
  assert.deepEqual(error.errors, [
    `${path}:7:11: routes[0].pool: "chats" is not a pool (pools: chat)`,
    `${path}:11:36: pools[0].endpoints[0].port: must be a port from 1 to 65535, not 0`,
  ]);
  assert.equal(error.message, error.errors.join('; '));
});

test('a file that cannot be read is a ConfigError', async () => {
  const path = join(dir, 'absent.yaml');
  const error = await configErrorOf(() => loadSnapshotFile(path));
  assert.deepEqual(error.errors, [`${path}: cannot read the file (no such file)`]);
});

// ---- identity ----

test('canonical JSON sorts keys at every depth and keeps array order', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } }), '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  assert.equal(canonicalJson({ a: undefined, b: null, c: [undefined] }), '{"b":null,"c":[null]}');
  assert.equal(canonicalJson('é"\n'), JSON.stringify('é"\n'));
});

/** The same object with its keys inserted in reverse order, at every depth. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversedKeys(v)]));
}

test('canonical JSON does not depend on key order and round-trips JSON data', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      const text = canonicalJson(value);
      assert.equal(canonicalJson(reversedKeys(value)), text);
      assert.equal(canonicalJson(JSON.parse(text)), text);
      assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
    }),
    { numRuns: 300 },
  );
});

test('the snapshot hash is sha256 of the content, blind to key order', () => {
  const snapshot = parseSnapshotText(YAML_DOC) as Snapshot;
  const hash = snapshotHash(snapshot);
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.equal(snapshotHash(reversedKeys(snapshot) as Snapshot), hash);
  const changed = structuredClone(snapshot);
  changed.pools[0]!.endpoints[0]!.port = 8081;
  assert.notEqual(snapshotHash(changed), hash);
});

test('redaction hides every private key and leaves the original alone', async () => {
  const snapshot = await loadSnapshotFile(file('redact.yaml', tlsDoc('certs/rsa.crt', 'certs/rsa.key')));
  const shown = redactSnapshot(snapshot);
  assert.equal(shown.tls!.certificates![0]!.key, '<redacted>');
  assert.equal(shown.tls!.defaultCertificate!.key, '<redacted>');
  assert.equal(shown.tls!.certificates![0]!.cert, snapshot.tls!.certificates![0]!.cert);
  assert.doesNotMatch(JSON.stringify(shown), /PRIVATE KEY/);
  assert.match(snapshot.tls!.certificates![0]!.key!, /PRIVATE KEY/);
  assert.deepEqual(redactSnapshot(parseSnapshotText(YAML_DOC) as Snapshot), parseSnapshotText(YAML_DOC));
});

// ---- atomic write ----

test('writeFileAtomic replaces the file and leaves no temporary file behind', async () => {
  const folder = mkdtempSync(join(dir, 'atomic-'));
  const target = join(folder, 'snapshot.json');
  await writeFileAtomic(target, 'one');
  await writeFileAtomic(target, 'two');
  assert.equal(readFileSync(target, 'utf8'), 'two');
  assert.deepEqual(readdirSync(folder), ['snapshot.json']);
  // Private keys inside: not readable by other users.
  assert.equal(statSync(target).mode & 0o007, 0);
});

test('writeFileAtomic into a missing folder fails and creates nothing', async () => {
  await assert.rejects(writeFileAtomic(join(dir, 'no-such-folder', 'x.json'), 'x'), { code: 'ENOENT' });
});

test('a reader never sees a partial file while writes are going on', async () => {
  const folder = mkdtempSync(join(dir, 'race-'));
  const target = join(folder, 'snapshot.json');
  // Large enough that a non-atomic write would be seen half done.
  const versions = ['a', 'b', 'c'].map((letter) => JSON.stringify({ v: letter.repeat(1 << 20) }));
  await writeFileAtomic(target, versions[0]!);
  let writing = true;
  const writer = (async () => {
    for (let i = 1; i <= 30; i++) await writeFileAtomic(target, versions[i % versions.length]!);
    writing = false;
  })();
  let reads = 0;
  while (writing) {
    const seen = await readFile(target, 'utf8');
    assert.ok(versions.includes(seen), `read ${seen.length} characters that are no whole version`);
    reads++;
  }
  await writer;
  assert.ok(reads > 0);
  assert.deepEqual(readdirSync(folder), ['snapshot.json']);
});

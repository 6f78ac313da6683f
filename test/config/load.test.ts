import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSnapshotFile } from '../../src/config/load.ts';
import { parseSnapshotText } from '../../src/config/text.ts';
import { redactSnapshot } from '../../src/config/redact.ts';
import type { Snapshot } from '../../src/config/snapshot.ts';
import { YAML_DOC, configErrorOf } from './fixtures.ts';

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

test('redaction hides the affinity cookie key too (an HMAC key, as secret as a private key)', () => {
  const snapshot: Snapshot = { version: 1, routes: [], pools: [], affinityKey: Buffer.alloc(32, 7).toString('base64') };
  const shown = redactSnapshot(snapshot);
  assert.equal(shown.affinityKey, '<redacted>');
  assert.equal(snapshot.affinityKey, Buffer.alloc(32, 7).toString('base64'));
});

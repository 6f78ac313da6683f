// `wsgate check --config FILE`: the lines an operator reads, and the shipped examples pass it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfigFile } from '../../src/commands/check.ts';
import { parseSnapshotText } from '../../src/config/text.ts';
import { validateSnapshot } from '../../src/config/validate.ts';

const examples = new URL('../../examples/', import.meta.url);
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsgate-check-'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('a valid file has nothing to report', async () => {
  const path = file('ok.yaml', 'version: 1\nroutes: []\npools: []\n');
  assert.deepEqual(await checkConfigFile(path), []);
});

test('one line per error: file, line, column, path and what is wrong, in file order', async () => {
  const path = file(
    'bad.yaml',
    `version: 1
pools:
  - name: echo
    endpoints: []
  - name: api
    balance: hash
    idleTimeout: 0s
    endpoints: []
routes:
  - { host: echo.example.com, path: /, pathType: Prefix, pool: echo }
  - { host: api.example.com, path: /, pathType: Prefix, pool: api }
  - { host: chat.example.com, path: /ws, pathType: Prefix, pool: chat, polcy: {} }
`,
  );
  assert.deepEqual(await checkConfigFile(path), [
    `${path}:5:5: pools[1].hashBy: required when balance is "hash"`,
    `${path}:7:18: pools[1].idleTimeout: "0s" must be greater than 0`,
    `${path}:12:66: routes[2].pool: "chat" is not a pool (pools: echo, api)`,
    `${path}:12:72: routes[2].polcy: unknown field (did you mean "policy"?)`,
  ]);
});

test('a syntax error is one line with its position', async () => {
  const path = file('syntax.yaml', 'version: 1\nroutes: [\npools: []\n');
  const lines = await checkConfigFile(path);
  assert.equal(lines.length > 0, true);
  assert.match(lines[0]!, new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: syntax error: `));
});

test('a missing file is one line', async () => {
  const path = join(dir, 'nothing-here.yaml');
  assert.deepEqual(await checkConfigFile(path), [`${path}: cannot read the file (no such file)`]);
});

test('examples/minimal.yaml is valid as shipped', async () => {
  assert.deepEqual(await checkConfigFile(new URL('minimal.yaml', examples).pathname), []);
});

test('examples/wsgate.yaml is valid once its certificate files exist', async () => {
  const source = new URL('wsgate.yaml', examples).pathname;
  // As shipped, only the certificate files it asks the reader to make are missing.
  const shipped = await checkConfigFile(source);
  assert.equal(shipped.length, 4);
  for (const line of shipped) assert.match(line, /(certFile|keyFile): cannot read "certs\/[a-z.]+" \(no such file\)$/);
  assert.deepEqual(validateSnapshot(parseSnapshotText(readFileSync(source, 'utf8'))).ok, true);

  // Made with the commands from the example's own header comment.
  const folder = mkdtempSync(join(dir, 'example-'));
  mkdirSync(join(folder, 'certs'));
  copyFileSync(source, join(folder, 'wsgate.yaml'));
  const header = readFileSync(source, 'utf8').split('\n').filter((line) => line.startsWith('#   '));
  const commands = header.map((line) => line.slice(4)).join('\n').replaceAll('\\\n', ' ').split('\n').filter((c) => c.startsWith('openssl'));
  assert.equal(commands.length, 2);
  for (const command of commands) execFileSync('sh', ['-c', command], { cwd: join(folder, 'certs'), stdio: 'ignore' });
  assert.deepEqual(await checkConfigFile(join(folder, 'wsgate.yaml')), []);
});

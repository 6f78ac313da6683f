import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSnapshotText } from '../../src/config/text.ts';
import type { Snapshot } from '../../src/config/snapshot.ts';
import { YAML_DOC, configErrorOf } from './fixtures.ts';

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

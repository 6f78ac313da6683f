import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson, snapshotHash } from '../../src/config/canonical.ts';
import { parseSnapshotText } from '../../src/config/text.ts';
import type { Snapshot } from '../../src/config/snapshot.ts';
import { YAML_DOC } from './fixtures.ts';

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

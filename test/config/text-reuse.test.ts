// The snapshot file reader of `proxy --config`: the same data as parseText for every text, the
// controller's layout read element by element (unchanged pools and routes are last read's frozen
// objects), anything else, or anything doubtful, read whole with parseText's errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptSnapshot } from '../../src/config/accept.ts';
import { SnapshotAcceptor } from '../../src/config/incremental.ts';
import { prettyCanonicalJson } from '../../src/config/pretty.ts';
import { parseText } from '../../src/config/text.ts';
import { SnapshotTextReader } from '../../src/config/text-reuse.ts';
import { translate } from '../../src/translate/translate.ts';
import { ingress, syntheticCluster } from '../support/k8s.ts';
import { configErrorOf } from './fixtures.ts';

function clusterText(extra = 0): string {
  const cluster = syntheticCluster(30, 3);
  for (let i = 0; i < extra; i += 1) {
    cluster.ingresses.push(ingress(`probe-${i}`, { namespace: 'ns-0', host: `probe-${i}.a.example.com`, paths: [{ path: '/ws', service: 'app-0', port: 80 }] }));
  }
  return prettyCanonicalJson(translate(cluster, { ingressClass: 'wsgate' }).snapshot);
}

test('the controller\'s file, change after change: the data parseText gives, unchanged pools and routes reused (frozen), hashes as acceptSnapshot\'s', () => {
  const reader = new SnapshotTextReader();
  const acceptor = new SnapshotAcceptor();
  const texts = [clusterText(), clusterText(), clusterText(1), clusterText(2), clusterText()];
  let previous: Record<string, unknown[]> | undefined;
  for (const text of texts) {
    const value = reader.parse(text, 'snap.json').value as Record<string, unknown[]>;
    assert.deepEqual(value, parseText(text).value);
    assert.equal(reader.stats.whole, 0);
    const accepted = acceptor.accept(value);
    const whole = acceptSnapshot(JSON.parse(text));
    assert.ok(accepted.ok && whole.ok);
    assert.equal(accepted.hash, whole.hash);
    if (previous !== undefined) {
      // Every pool of the last read that is still there is the very object it was.
      const kept = value.pools!.filter((pool) => previous!.pools!.includes(pool));
      assert.ok(kept.length >= 30, `${kept.length} pools reused`);
      const certificates = (value as unknown as { tls: { certificates: unknown[] } }).tls.certificates;
      assert.equal(reader.stats.reused + reader.stats.parsed, value.pools!.length + value.routes!.length + certificates.length);
      assert.ok(certificates.some((c) => (previous as unknown as { tls: { certificates: unknown[] } }).tls.certificates.includes(c)), 'certificates reused');
    }
    assert.ok(Object.isFrozen(value.pools![0]) && Object.isFrozen((value.pools![0] as { endpoints: object[] }).endpoints[0]));
    previous = value;
  }
  assert.ok(reader.stats.parsed <= 6, `${reader.stats.parsed} elements parsed for the last change`);
});

test('a certificate naming files is a fresh, writable object at every read (the loader inlines the files into it)', () => {
  const reader = new SnapshotTextReader();
  const doc = JSON.parse(clusterText()) as { tls: { certificates: Array<Record<string, unknown>> } };
  const first = doc.tls.certificates[0]!;
  delete first.cert;
  delete first.key;
  first.certFile = 'tls.crt';
  first.keyFile = 'tls.key';
  const text = prettyCanonicalJson(doc);
  const a = (reader.parse(text).value as typeof doc).tls.certificates;
  const b = (reader.parse(text).value as typeof doc).tls.certificates;
  assert.notEqual(a[0], b[0]);
  assert.ok(!Object.isFrozen(b[0]));
  assert.equal(a[1], b[1]);
  assert.deepEqual(b, parseText(text).value && (parseText(text).value as typeof doc).tls.certificates);
});

test('texts outside the layout, or doubtful in it, are read whole: same data, same errors', async () => {
  const reader = new SnapshotTextReader();
  const text = clusterText();
  reader.parse(text);
  const pool = '    {\n      "name": "x"\n    }';
  const cases = [
    // Not the layout: compact JSON, YAML.
    JSON.stringify(JSON.parse(text)),
    'version: 1\npools: []\nroutes: []\n',
    // A repeated key inside a changed pool, and at the top level.
    text.replace('\n  "pools": [\n', `\n  "pools": [\n    {\n      "name": "a",\n      "name": "b"\n    },\n`),
    text.replace('\n  "routes": [\n', '\n  "version": 2,\n  "routes": [\n'),
    // "pools" that is not the top-level one (the top level has its own, empty).
    `{\n  "a": {\n  "pools": [\n${pool}\n  ]\n  },\n  "pools": [],\n  "routes": [],\n  "version": 1\n}\n`,
    // The text of the mark itself, and a chunk that does not parse.
    text.replace('"version": 1', '"version": "\\u0000wsgate-element-reuse"'),
    text.replace('\n  "pools": [\n    {', '\n  "pools": [\n    {,'),
  ];
  for (const body of cases) {
    const whole = await configErrorOf(() => parseText(body, 'snap.json')).catch(() => undefined);
    if (whole !== undefined) {
      const mine = await configErrorOf(() => reader.parse(body, 'snap.json'));
      assert.deepEqual(mine.errors, whole.errors);
      continue;
    }
    assert.deepEqual(reader.parse(body, 'snap.json').value, parseText(body, 'snap.json').value);
  }
  // The nested "pools" stays nested: its element is not the top level's.
  const nested = reader.parse(cases[4]!).value as { a: { pools: unknown[] }; pools: unknown[] };
  assert.deepEqual(nested.pools, []);
  assert.equal(nested.a.pools.length, 1);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptSnapshot } from '../../src/config/accept.ts';
import { SnapshotAcceptor } from '../../src/config/incremental.ts';
import { parseSnapshotText, parseText } from '../../src/config/text.ts';
import { translate } from '../../src/translate/translate.ts';
import { syntheticCluster } from '../support/k8s.ts';

// The changes below reach into any field of the document, valid or not, as a user's edit would.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = { version: number; pools: Array<Record<string, any>>; routes: Array<Record<string, any>>; tls?: Record<string, any> };

function clusterDoc(ingresses: number): Doc {
  return structuredClone(translate(syntheticCluster(ingresses, 3), { ingressClass: 'wsgate' }).snapshot) as unknown as Doc;
}

/** Accepted by the acceptor (after `base`) exactly when and as acceptSnapshot accepts it. */
function sameAsWhole(acceptor: SnapshotAcceptor, doc: Doc): void {
  const whole = acceptSnapshot(structuredClone(doc));
  const step = acceptor.accept(doc);
  assert.equal(step.ok, whole.ok);
  if (whole.ok && step.ok) assert.equal(step.hash, whole.hash);
  if (!whole.ok && !step.ok) assert.deepEqual(step.issues, whole.issues);
}

test('each change of a sequence is accepted or refused exactly as a whole validation would, with the same hash', () => {
  const acceptor = new SnapshotAcceptor();
  const doc = clusterDoc(20);
  sameAsWhole(acceptor, doc);
  const changes: Array<(d: Doc) => void> = [
    (d) => (d.pools[3]!.endpoints[0].port = 9999), // an endpoint moved
    (d) => d.routes.push({ ...d.routes[0], path: '/other' }), // a route added
    (d) => (d.routes[1]!.pool = 'no-such-pool'), // a route naming a pool that does not exist
    (d) => (d.routes[1]!.pool = d.pools[1]!.name), // fixed again
    (d) => d.pools.push({ ...d.pools[0] }), // a pool name given twice
    (d) => d.pools.pop(),
    (d) => d.routes.push({ ...d.routes[2] }), // the same host, path and pathType twice
    (d) => d.routes.pop(),
    (d) => (d.pools[2]!.connectTimeout = '0s'), // a rule of one pool
    (d) => (d.pools[2]!.connectTimeout = '1s'),
    (d) => (d.tls!.certificates[0].cert = 'not a PEM'), // a broken certificate
    (d) => (d.tls!.certificates[0].cert = d.tls!.certificates[1].cert),
    (d) => (d.routes[4]!.policy = { allowedOrigins: ['ftp://x'] }),
    (d) => (d.routes[4]!.policy = { allowedOrigins: ['https://x.example.com'] }),
    (d) => d.pools.splice(5, 1), // a pool that routes still name, removed
    (d) => (d.version = 2),
  ];
  for (const change of changes) {
    change(doc);
    sameAsWhole(acceptor, doc);
  }
  assert.ok(acceptor.stats.incremental >= 8, `incremental accepts: ${JSON.stringify(acceptor.stats)}`);
});

test('an unchanged document is accepted again with the same hash, validating nothing', () => {
  const acceptor = new SnapshotAcceptor();
  const doc = clusterDoc(5);
  const first = acceptor.accept(doc);
  const again = acceptor.accept(structuredClone(doc));
  assert.ok(first.ok && again.ok);
  assert.equal(again.hash, first.hash);
  assert.deepEqual(acceptor.stats, { incremental: 1, full: 1 });
});

test('a JSON snapshot parses natively to the same data as through YAML, and a repeated key is still refused', () => {
  const doc = clusterDoc(5);
  const text = JSON.stringify(doc, null, 2);
  assert.deepEqual(parseSnapshotText(text), doc);
  assert.deepEqual(parseSnapshotText(' \n{"a": "x\\"y:", "b": [{"c": 1}]}'), { a: 'x"y:', b: [{ c: 1 }] });
  assert.throws(() => parseSnapshotText('{"version": 1, "routes": [], "routes": []}', 'snap.json'), /snap\.json:1:30: syntax error: Map keys must be unique/);
  // Places are still found for error lines.
  assert.deepEqual(parseText('{\n  "version": 1,\n  "routes": [\n    {"host": 1}\n  ]\n}').locate(['routes', 0, 'host']), { line: 4, col: 14 });
});

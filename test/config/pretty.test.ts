// The controller's --output text made piece by piece (PrettyWriter) is byte for byte the text
// prettyCanonicalJson gives, change after change, and reuses the pieces that did not change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptedCanonicalText, SnapshotAcceptor } from '../../src/config/incremental.ts';
import { prettyCanonicalJson, PrettyWriter } from '../../src/config/pretty.ts';
import { translate } from '../../src/translate/translate.ts';
import { ingress, syntheticCluster } from '../support/k8s.ts';

test('PrettyWriter gives prettyCanonicalJson\'s bytes for each snapshot of a sequence, reusing unchanged pools, routes and certificates', () => {
  const cluster = syntheticCluster(50, 3);
  const acceptor = new SnapshotAcceptor();
  const writer = new PrettyWriter(acceptedCanonicalText);
  const step = (): { text: string; reused: number; elements: number } => {
    const { snapshot } = translate(cluster, { ingressClass: 'wsgate' });
    const accepted = acceptor.accept(snapshot);
    assert.ok(accepted.ok);
    const text = writer.bytes(accepted.snapshot).toString();
    assert.equal(text, prettyCanonicalJson(accepted.snapshot));
    const elements = accepted.snapshot.pools.length + accepted.snapshot.routes.length + (accepted.snapshot.tls?.certificates?.length ?? 0);
    return { text, reused: writer.reused, elements };
  };
  const first = step();
  assert.equal(first.reused, 0);
  // Nothing changed: every element's text is the last one.
  const same = step();
  assert.equal(same.text, first.text);
  assert.equal(same.reused, same.elements);
  // One new Ingress (a route, a pool, a host in its namespace's certificate): all else reused.
  cluster.ingresses.push(ingress('probe', { namespace: 'ns-0', host: 'probe.a.example.com', paths: [{ path: '/ws', service: 'app-0', port: 80 }], tls: [{ hosts: ['probe.a.example.com'], secretName: 'wildcard' }] }));
  const added = step();
  assert.notEqual(added.text, first.text);
  assert.equal(added.reused, added.elements - 3);
  // Removed again: the text goes back to the first one's.
  cluster.ingresses.pop();
  assert.equal(step().text, first.text);
});

test('PrettyWriter agrees with prettyCanonicalJson on values the native stringify treats specially', () => {
  const writer = new PrettyWriter(() => undefined);
  const values: unknown[] = [
    { b: 1, a: [1, undefined, () => 1, { y: undefined, x: null }], c: {}, d: [], e: undefined },
    { when: new Date(0), nested: { deeper: { deepest: { z: 1, a: [{ q: 2, p: 1 }] } } } },
    { __proto__key: 1, ['__proto__']: { a: 1 }, 'quote"d': 'line\nbreak', n: Number.NaN, inf: Infinity },
    [],
    {},
    'text',
    3,
    null,
  ];
  for (const value of values) assert.equal(writer.bytes(value).toString(), prettyCanonicalJson(value));
});

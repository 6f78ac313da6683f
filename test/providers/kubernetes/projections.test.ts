// Issue 10, memory at scale: the informer caches keep only what translate reads. Each kind's
// projection drops managedFields, kubectl's last-applied copy and unread fields, and translating
// the projected objects gives the very same snapshot and diagnostics as the whole ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { watchedKinds } from '../../../src/providers/kubernetes/informers/kinds.ts';
import { LAST_APPLIED_ANNOTATION } from '../../../src/providers/kubernetes/informers/projections.ts';
import { translate } from '../../../src/translate/translate.ts';
import type { Resources } from '../../../src/translate/types.ts';
import { syntheticCluster } from '../../support/k8s.ts';

/** What a real API server adds to every object, and kubectl apply to annotations. */
function noisy<T extends KubernetesObject>(object: T): T {
  const copy = structuredClone(object);
  copy.metadata = {
    ...copy.metadata,
    managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': {} } }],
    annotations: { ...copy.metadata?.annotations, [LAST_APPLIED_ANNOTATION]: JSON.stringify(object), 'example.com/owner': 'team-a' },
  };
  return copy;
}

test('every kind is projected to what translate reads, and translate gives the same result from it', () => {
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: 'http://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
  const kinds = watchedKinds(kc, undefined);
  const whole = syntheticCluster(20, 3);
  const raw: Resources = {
    ingressClasses: whole.ingressClasses.map(noisy),
    ingresses: whole.ingresses.map(noisy),
    services: whole.services.map(noisy),
    endpointSlices: whole.endpointSlices.map(noisy),
    secrets: whole.secrets.map(noisy),
    configMaps: [noisy({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ca', namespace: 'ns-0' }, data: { 'ca.crt': 'x', 'other.txt': 'y'.repeat(1000) } })],
  };
  const projected: Resources = {
    ingressClasses: raw.ingressClasses.map(kinds.ingressClasses.project!),
    ingresses: raw.ingresses.map(kinds.ingresses.project!),
    services: raw.services.map(kinds.services.project!),
    endpointSlices: raw.endpointSlices.map(kinds.endpointSlices.project!),
    secrets: raw.secrets.map(kinds.secrets.project!),
    configMaps: raw.configMaps!.map(kinds.configMaps.project!),
  };
  for (const objects of Object.values(projected) as KubernetesObject[][]) {
    for (const object of objects) {
      assert.equal(object.metadata?.managedFields, undefined);
      assert.equal(object.metadata?.annotations?.[LAST_APPLIED_ANNOTATION], undefined);
    }
  }
  // Ingress annotations are read: kept (but for last-applied); other kinds' unread ones dropped.
  assert.equal(projected.ingresses[0]!.metadata?.annotations?.['wsgate.io/idle-timeout'], '10m');
  assert.equal(projected.services[0]!.metadata?.annotations, undefined);
  assert.deepEqual(projected.configMaps![0]!.data, { 'ca.crt': 'x' });
  assert.ok(JSON.stringify(projected).length < JSON.stringify(raw).length / 2, 'the cache holds well under half');

  const options = { ingressClass: 'wsgate' };
  const fromRaw = translate(raw, options);
  const fromProjected = translate(projected, options);
  assert.deepEqual(fromProjected.snapshot, fromRaw.snapshot);
  // IgnoredAnnotations would differ only for nginx annotations, which are kept; diagnostics match.
  assert.deepEqual(fromProjected.diagnostics, fromRaw.diagnostics);
});

// SPEC §6 upstream-tls-ca-secret: the CA travels in the snapshot, so a change to a CA Secret an
// Ingress names (by the wsgate.io key or the ingress-nginx alias, NAME or NS/NAME) re-runs
// translate, and a change to a Secret no Ingress names still does not; likewise for a ConfigMap of
// that name (the CA when no Secret is), and only for one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Ingress } from '@kubernetes/client-node';
import { References } from '../../../src/providers/kubernetes/references.ts';

const ingress = (name: string, annotations: Record<string, string>): V1Ingress => ({ metadata: { name, namespace: 'prod', annotations }, spec: {} });
const secret = (namespace: string, name: string) => ({ kind: 'Secret' as const, object: { metadata: { namespace, name } } });
const configMap = (namespace: string, name: string) => ({ kind: 'ConfigMap' as const, object: { metadata: { namespace, name } } });

test('a CA Secret named by upstream-tls-ca-secret or proxy-ssl-secret matters; others do not', () => {
  const references = References.of(
    {
      ingressClasses: [],
      ingresses: [
        ingress('a', { 'wsgate.io/upstream-tls-ca-secret': 'backend-ca' }),
        ingress('b', { 'wsgate.io/upstream-tls-ca-secret': 'shared/ca' }),
        ingress('c', { 'nginx.ingress.kubernetes.io/proxy-ssl-secret': 'legacy/nginx-ca' }),
      ],
      services: [],
      endpointSlices: [],
      secrets: [],
    },
    undefined,
  );
  assert.equal(references.matters(secret('prod', 'backend-ca')), true, 'NAME is in the Ingress namespace');
  assert.equal(references.matters(secret('shared', 'ca')), true, 'NS/NAME');
  assert.equal(references.matters(secret('legacy', 'nginx-ca')), true, 'the ingress-nginx alias');
  assert.equal(references.matters(secret('prod', 'unrelated')), false);
  assert.equal(references.matters(secret('default', 'backend-ca')), false, 'not another namespace');
  // A ConfigMap of the name is the CA when no Secret is: it matters by the same names, no others.
  assert.equal(references.matters(configMap('prod', 'backend-ca')), true, 'ConfigMap NAME');
  assert.equal(references.matters(configMap('shared', 'ca')), true, 'ConfigMap NS/NAME');
  assert.equal(references.matters(configMap('legacy', 'nginx-ca')), true, 'ConfigMap by the alias');
  assert.equal(references.matters(configMap('prod', 'unrelated')), false);
  assert.equal(references.matters(configMap('default', 'backend-ca')), false, 'ConfigMap in another namespace');
});

test('a TLS secretName or the default certificate does not make a ConfigMap of that name matter', () => {
  const references = References.of(
    {
      ingressClasses: [],
      ingresses: [{ metadata: { name: 'tls', namespace: 'prod' }, spec: { tls: [{ secretName: 'site-tls' }] } }],
      services: [],
      endpointSlices: [],
      secrets: [],
    },
    'certs/default',
  );
  assert.equal(references.matters(secret('prod', 'site-tls')), true);
  assert.equal(references.matters(configMap('prod', 'site-tls')), false);
  assert.equal(references.matters(configMap('certs', 'default')), false);
});

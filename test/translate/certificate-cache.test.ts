// The certificate checks a rebuild loop remembers change nothing in the output: translate() with a
// SecretCertificateCache, fresh or warm, gives the bytes it gives without one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../../src/config/canonical.ts';
import { SecretCertificateCache } from '../../src/translate/secret-certificate.ts';
import { translate } from '../../src/translate/translate.ts';
import { ingress, ingressClass, resources, service, tlsSecret } from '../support/k8s.ts';

test('translate output is the same with and without a certificate cache', () => {
  const cluster = resources(
    ingressClass(),
    ingress('chat', { host: 'chat.example.test', paths: [{ path: '/', service: 'chat', port: 80 }], tls: [{ hosts: ['chat.example.test'], secretName: 'good' }] }),
    ingress('bad', { host: 'bad.example.test', paths: [{ path: '/', service: 'chat', port: 80 }], tls: [{ hosts: ['bad.example.test'], secretName: 'broken' }] }),
    service('chat'),
    tlsSecret('good'),
    tlsSecret('broken', { cert: 'not a certificate' }),
  );
  const plain = canonicalJson(translate(cluster, { defaultCertSecret: 'default/good' }));
  const certificateCache = new SecretCertificateCache();
  assert.equal(canonicalJson(translate(cluster, { defaultCertSecret: 'default/good', certificateCache })), plain);
  assert.equal(canonicalJson(translate(cluster, { defaultCertSecret: 'default/good', certificateCache })), plain);
  // A Secret whose content changed under the same object is checked again, not answered from memory.
  const secret = cluster.secrets.find((s) => s.metadata?.name === 'broken')!;
  secret.data = tlsSecret('good').data!;
  const fixed = canonicalJson(translate(cluster, { defaultCertSecret: 'default/good' }));
  assert.notEqual(fixed, plain);
  assert.equal(canonicalJson(translate(cluster, { defaultCertSecret: 'default/good', certificateCache })), fixed);
});

// Irrelevant cluster events do not re-run translate: with the real informers against the test API
// server, a change to a Secret, ConfigMap, Service or EndpointSlice no Ingress names is counted as ignored and
// starts no translation; a change to one an Ingress names does, and so does one named only later.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { startKubernetesController, type KubernetesController } from '../../../src/providers/kubernetes/assemble.ts';
import { startApiServer, type ApiServer, type KubeObject } from '../../support/apiserver.ts';
import { writeKubeconfig } from '../../support/kubeconfig.ts';
import { endpointSlice, ingress, ingressClass, service, tlsSecret } from '../../support/k8s.ts';
import { eventually } from '../../support/proxy.ts';

const obj = (o: unknown): KubeObject => o as KubeObject;
const touched = (o: unknown, n: number): KubeObject => {
  const object = obj(structuredClone(o));
  (object['metadata'] as { annotations?: Record<string, string> }).annotations = { touched: String(n) };
  return object;
};

describe('SnapshotSync skips changes to objects the last translation did not read', () => {
  let api: ApiServer;
  let dir: string;
  let running: KubernetesController;

  before(async () => {
    api = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'wsgate-references-'));
    const kc = new KubeConfig();
    kc.loadFromFile(await writeKubeconfig(dir, api));
    api.apply(obj(ingressClass()));
    api.apply(obj(ingress('chat', { host: 'chat.example.test', paths: [{ path: '/', service: 'chat', port: 80 }], tls: [{ hosts: ['chat.example.test'], secretName: 'used' }] })));
    for (const name of ['chat', 'other']) {
      api.apply(obj(service(name)));
      api.apply(obj(endpointSlice(name, { endpoints: ['10.0.0.1'] })));
    }
    api.apply(obj(tlsSecret('used')));
    api.apply(obj(tlsSecret('unused')));
    api.apply(obj(tlsSecret('default-cert', { namespace: 'certs' })));
    running = startKubernetesController(
      kc,
      { ingressClass: 'wsgate', electionNamespace: 'default', identity: 'references-test', defaultCertSecret: 'certs/default-cert', quietMs: 5, maxDelayMs: 20 },
      { accept: () => {}, refuse: () => {} },
    );
    await eventually(() => running.ready(), 'first snapshot');
  });
  after(async () => {
    await running.stop();
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Applies `change` and waits until the controller has either ignored it or translated again. */
  async function outcome(change: () => void): Promise<'ignored' | 'translated'> {
    const { ignored, rebuilds } = { ignored: running.sync.ignored, rebuilds: running.sync.rebuilds };
    change();
    await eventually(() => running.sync.ignored > ignored || running.sync.rebuilds > rebuilds, 'change seen');
    assert.ok(running.sync.ignored - ignored + (running.sync.rebuilds - rebuilds) === 1, 'exactly one of the two');
    return running.sync.ignored > ignored ? 'ignored' : 'translated';
  }

  it('ignores updates and deletes of unreferenced Secrets, Services and EndpointSlices', async () => {
    const rebuilds = running.sync.rebuilds;
    assert.equal(await outcome(() => api.apply(touched(tlsSecret('unused'), 1))), 'ignored');
    assert.equal(await outcome(() => api.apply(touched(service('other'), 1))), 'ignored');
    assert.equal(await outcome(() => api.apply(touched(endpointSlice('other', { endpoints: ['10.0.0.2'] }), 1))), 'ignored');
    assert.equal(await outcome(() => api.apply(obj(tlsSecret('new-unused')))), 'ignored');
    assert.equal(await outcome(() => void api.remove('Secret', 'default', 'new-unused')), 'ignored');
    assert.equal(running.sync.rebuilds, rebuilds);
  });

  it('translates again for referenced ones, the default certificate, and Ingress changes', async () => {
    assert.equal(await outcome(() => api.apply(touched(tlsSecret('used'), 2))), 'translated');
    assert.equal(await outcome(() => api.apply(touched(service('chat'), 2))), 'translated');
    assert.equal(await outcome(() => api.apply(obj(endpointSlice('chat', { endpoints: ['10.0.0.3'] })))), 'translated');
    assert.equal(await outcome(() => api.apply(touched(tlsSecret('default-cert', { namespace: 'certs' }), 2))), 'translated');
    assert.equal(await outcome(() => api.apply(touched(ingress('unrelated', { className: 'other' }), 2))), 'translated');
    assert.equal(await outcome(() => api.apply(touched(ingressClass('other', { controller: 'example.com/other' }), 2))), 'translated');
  });

  it('a Secret that becomes referenced later counts from then on, and it was in the store all along', async () => {
    assert.equal(await outcome(() => api.apply(touched(tlsSecret('unused'), 3))), 'ignored');
    assert.equal(
      await outcome(() => api.apply(obj(ingress('late', { host: 'late.example.test', paths: [{ path: '/', service: 'other', port: 80 }], tls: [{ hosts: ['late.example.test'], secretName: 'unused' }] })))),
      'translated',
    );
    await eventually(() => running.sync.diagnostics.some((d) => d.object.name === 'late' && d.reason === 'Sync'), 'late served');
    assert.ok(!running.sync.diagnostics.some((d) => d.object.name === 'late' && d.reason === 'MissingSecret'));
    assert.equal(await outcome(() => api.apply(touched(tlsSecret('unused'), 4))), 'translated');
    assert.equal(await outcome(() => api.apply(touched(service('other'), 4))), 'translated');
  });

  it('a CA ConfigMap matters once an Ingress names it, and translate reads it from the store', async () => {
    const configMap = (name: string, ca: string): KubeObject => obj({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { 'ca.crt': ca } });
    assert.equal(await outcome(() => api.apply(configMap('ca-unused', 'x'))), 'ignored');
    const annotations = { 'wsgate.io/upstream-tls': 'true', 'wsgate.io/upstream-tls-verify': 'true', 'wsgate.io/upstream-tls-ca-secret': 'backend-ca' };
    assert.equal(await outcome(() => api.apply(obj(ingress('ca', { host: 'ca.example.test', annotations, paths: [{ path: '/', service: 'other', port: 80 }] })))), 'translated');
    await eventually(() => running.sync.diagnostics.some((d) => d.object.name === 'ca' && d.reason === 'MissingSecret'), 'no CA yet');
    assert.equal(await outcome(() => api.apply(configMap('backend-ca', 'not a certificate'))), 'translated');
    await eventually(
      () => running.sync.diagnostics.some((d) => d.object.name === 'ca' && d.reason === 'InvalidCertificate' && d.message.includes('ConfigMap default/backend-ca')),
      'the ConfigMap read',
    );
    assert.equal(await outcome(() => api.apply(touched(configMap('ca-unused', 'x'), 5))), 'ignored');
  });
});

// BackendTLSPolicy (GEP-1897) through translate() and a real proxy: wss to a TLS "pod" on
// loopback, verified against the policy's CA and hostname, on a Service port without appProtocol;
// `wellKnownCACertificates: System` trusts Node's bundled roots (and so refuses a private CA:
// fail closed, never unverified); a policy whose CA does not resolve fails closed too.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { translate } from '../../../src/translate/translate.ts';
import { compileSnapshot } from '../../../src/dataplane/compile.ts';
import { EndpointRegistry } from '../../../src/dataplane/upstream/registry.ts';
import { gateway, gatewayClass, gatewayResources, httpRoute } from '../../support/gateway.ts';
import { endpointSlice, service } from '../../support/k8s.ts';
import { makeCa, makeCert } from '../../support/certs.ts';
import { startTestProxy, type TestProxy } from '../../support/proxy.ts';

function policy(name: string, serviceName: string, validation: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'gateway.networking.k8s.io/v1alpha3', kind: 'BackendTLSPolicy', metadata: { name, namespace: 'default' }, spec: { targetRefs: [{ group: '', kind: 'Service', name: serviceName }], validation } };
}

/** The first message, or the refusal's status. The listener is there before the 101: the greeting may come in the same read. */
function status(proxy: TestProxy, path: string): Promise<number | string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(proxy.wsUrl(path));
    ws.once('message', (data: RawData) => {
      resolve(String(data));
      ws.terminate();
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

describe('BackendTLSPolicy through the proxy', () => {
  let proxy: TestProxy;
  let backend: https.Server;
  let documents: Record<string, unknown>[];

  before(async () => {
    const ca = await makeCa({ commonName: 'pods CA' });
    const cert = await makeCert({ hosts: ['chat.backend.test'], ca });
    backend = https.createServer({ cert: cert.cert, key: cert.key });
    new WebSocketServer({ server: backend }).on('connection', (ws) => ws.send('hello over tls'));
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const port = (backend.address() as AddressInfo).port;
    documents = [gatewayClass() as never, gateway('gw') as never, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'pods-ca', namespace: 'default' }, data: { 'ca.crt': ca.cert } }];
    const rules = [];
    for (const name of ['verified', 'system', 'missing-ca']) {
      // A plain port: no appProtocol. The policy alone makes it TLS.
      documents.push(service(name, { ports: [{ name: 'https', port: 443 }] }) as never);
      documents.push(endpointSlice(name, { name: `${name}-1`, ports: [{ name: 'https', port }], endpoints: ['127.0.0.1'] }) as never);
      rules.push({ matches: [{ path: { type: 'PathPrefix' as const, value: `/${name}` } }], backendRefs: [{ name, port: 443 }] });
    }
    documents.push(policy('verified', 'verified', { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'pods-ca' }], hostname: 'chat.backend.test' }));
    documents.push(policy('system', 'system', { wellKnownCACertificates: 'System', hostname: 'chat.backend.test' }));
    documents.push(policy('missing-ca', 'missing-ca', { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'absent' }], hostname: 'chat.backend.test' }));
    documents.push(httpRoute('tls', { rules }) as never);
    const { snapshot } = translate(gatewayResources(documents));
    proxy = await startTestProxy(snapshot);
  });

  after(async () => {
    await proxy.close();
    await new Promise((resolve) => backend.close(resolve));
  });

  it('a policy with a ConfigMap CA on a port without appProtocol: TLS to the pod, verified, relayed', async () => {
    assert.equal(await status(proxy, '/verified'), 'hello over tls');
  });

  it('wellKnownCACertificates System: a pod certificate from a private CA is refused (502), never relayed unverified', async () => {
    assert.equal(await status(proxy, '/system'), 502);
  });

  it('wellKnownCACertificates System: the pool trusts exactly Node\'s bundled roots', () => {
    const { snapshot } = translate(gatewayResources(documents));
    const pool = snapshot.pools.find((p) => p.source?.service === 'system')!;
    assert.equal(pool.upstreamTlsSystemRoots, true);
    assert.equal(pool.upstreamTlsCa, undefined);
    const compiled = compileSnapshot(snapshot, new EndpointRegistry()).pools.get(pool.name)!;
    assert.deepEqual(compiled.upstreamVerify?.ca, [...tls.rootCertificates]);
    assert.ok(tls.rootCertificates.length > 50, 'Node bundles the Mozilla roots');
    // The CA-ConfigMap pool does not get the system roots.
    const verified = compileSnapshot(snapshot, new EndpointRegistry()).pools.get(snapshot.pools.find((p) => p.source?.service === 'verified')!.name)!;
    assert.equal(verified.upstreamVerify?.ca.length, 1);
  });

  it('a policy whose CA ConfigMap does not exist fails closed (502)', async () => {
    assert.equal(await status(proxy, '/missing-ca'), 502);
  });
});

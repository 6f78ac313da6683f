// BackendTLSPolicy (GEP-1897) through translate() and a real proxy: wss to a TLS "pod" on
// loopback, verified against the policy's CA and hostname, on a Service port without appProtocol;
// `wellKnownCACertificates: System` trusts Node's bundled roots (and so refuses a private CA:
// fail closed, never unverified); a policy whose CA does not resolve fails closed too.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
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
import { certificateAltNames, subjectAltNameCheck } from '../../../src/dataplane/upstream/subject-alt-names.ts';

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
    backend.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => res.end('plain over tls'));
    new WebSocketServer({ server: backend }).on('connection', (ws) => ws.send('hello over tls'));
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const port = (backend.address() as AddressInfo).port;
    documents = [gatewayClass() as never, gateway('gw') as never, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'pods-ca', namespace: 'default' }, data: { 'ca.crt': ca.cert } }];
    const rules = [];
    for (const name of ['verified', 'system', 'missing-ca', 'san-match', 'san-mismatch', 'san-uri']) {
      // A plain port: no appProtocol. The policy alone makes it TLS.
      documents.push(service(name, { ports: [{ name: 'https', port: 443 }] }) as never);
      documents.push(endpointSlice(name, { name: `${name}-1`, ports: [{ name: 'https', port }], endpoints: ['127.0.0.1'] }) as never);
      rules.push({ matches: [{ path: { type: 'PathPrefix' as const, value: `/${name}` } }], backendRefs: [{ name, port: 443 }] });
    }
    documents.push(policy('verified', 'verified', { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'pods-ca' }], hostname: 'chat.backend.test' }));
    documents.push(policy('system', 'system', { wellKnownCACertificates: 'System', hostname: 'chat.backend.test' }));
    documents.push(policy('missing-ca', 'missing-ca', { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'absent' }], hostname: 'chat.backend.test' }));
    // subjectAltNames replace the hostname check: the hostname is then the SNI only.
    documents.push(policy('san-match', 'san-match', { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'pods-ca' }], hostname: 'sni-only.test', subjectAltNames: [{ type: 'Hostname', hostname: 'nope.test' }, { type: 'Hostname', hostname: 'chat.backend.test' }] }));
    documents.push(policy('san-mismatch', 'san-mismatch', { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'pods-ca' }], hostname: 'chat.backend.test', subjectAltNames: [{ type: 'Hostname', hostname: 'other.backend.test' }] }));
    documents.push(policy('san-uri', 'san-uri', { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'pods-ca' }], hostname: 'chat.backend.test', subjectAltNames: [{ type: 'URI', uri: 'spiffe://cluster.local/ns/default/sa/chat' }] }));
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

  it('subjectAltNames: a certificate carrying one of them is relayed although it lacks the policy hostname (the SNI only)', async () => {
    assert.equal(await status(proxy, '/san-match'), 'hello over tls');
  });

  it('subjectAltNames: a certificate carrying none of them is refused (502) although it carries the policy hostname', async () => {
    assert.equal(await status(proxy, '/san-mismatch'), 502);
  });

  it('subjectAltNames of type URI: a certificate with only DNS names is refused (502)', async () => {
    assert.equal(await status(proxy, '/san-uri'), 502);
  });

  it('plain HTTP on a subjectAltNames pool is verified the same way', async () => {
    const get = (path: string): Promise<string> => new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: proxy.httpPort, path }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.once('end', () => resolve(`${res.statusCode ?? 0} ${body}`));
      });
      req.once('error', reject);
    });
    assert.equal(await get('/san-match'), '200 plain over tls');
    assert.match(await get('/san-mismatch'), /^502 /);
  });
});

describe('subjectAltNameCheck', () => {
  const cert = (subjectaltname: string): tls.PeerCertificate => ({ subjectaltname, subject: { CN: 'x' } }) as unknown as tls.PeerCertificate;

  it('reads the names Node reports, quoted ones included', () => {
    assert.deepEqual(certificateAltNames('DNS:a.test, URI:spiffe://td/ns/a, IP Address:10.0.0.1, URI:"http://x/a,b"'), [
      { type: 'DNS', value: 'a.test' },
      { type: 'URI', value: 'spiffe://td/ns/a' },
      { type: 'IP Address', value: '10.0.0.1' },
      { type: 'URI', value: 'http://x/a,b' },
    ]);
  });

  it('a URI matches exactly, a hostname as TLS names match (wildcards, case)', () => {
    const check = subjectAltNameCheck(['URI:spiffe://td/ns/a', 'DNS:chat.pods.test']);
    assert.equal(check('ignored', cert('URI:spiffe://td/ns/a')), undefined);
    assert.ok(check('ignored', cert('URI:spiffe://td/ns/ab')) instanceof Error);
    assert.equal(check('ignored', cert('DNS:*.pods.test')), undefined);
    assert.equal(check('ignored', cert('DNS:CHAT.pods.test')), undefined);
    const refused = check('ignored', cert('DNS:other.test'));
    assert.equal((refused as NodeJS.ErrnoException).code, 'WSGATE_ERR_UPSTREAM_ALTNAME');
  });
});

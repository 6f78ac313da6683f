// Gateway API wildcards cover one or more labels (`*.example.com` matches `foo.example.com` and
// `foo.bar.example.com`, never `example.com`), unlike an Ingress wildcard (exactly one label):
// for routing and for the certificate chosen by SNI. Objects -> translate() -> a real proxy on
// loopback, real TLS, ws clients; the Ingress semantics are checked unchanged beside them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { translate } from '../../../src/translate/translate.ts';
import { gateway, gatewayClass, gatewayResources, httpRoute } from '../../support/gateway.ts';
import { endpointSlice, ingress, ingressClass, service, tlsSecret } from '../../support/k8s.ts';
import { makeCert, probeTls, type TestCertificate } from '../../support/certs.ts';
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import { startTestProxy, startUpstream, type TestProxy, type TestUpstream } from '../../support/proxy.ts';

function wsService(name: string): Record<string, unknown> {
  return service(name, { ports: [{ name: 'ws', port: 80 }] }) as unknown as Record<string, unknown>;
}

function slice(name: string, upstream: TestUpstream): Record<string, unknown> {
  return endpointSlice(name, { name: `${name}-1`, ports: [{ name: 'ws', port: upstream.port }], endpoints: [{ address: '127.0.0.1', pod: `${name}-pod` }] }) as unknown as Record<string, unknown>;
}

/** The first message (101), or the refusal's status; listening before the 101, as the greeting may come in the same read. */
function firstMessage(url: string, options: ClientOptions): Promise<string | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { rejectUnauthorized: false, ...options });
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

function greeting(proxy: TestProxy, host: string, secure: boolean): Promise<string | number> {
  return firstMessage(secure ? proxy.wssUrl('/') : proxy.wsUrl('/'), { headers: { Host: host }, ...(secure ? { servername: host } : {}) });
}

describe('Gateway API wildcard hostnames: any depth, for routes and SNI; Ingress wildcards stay one label', () => {
  let proxy: TestProxy;
  let gatewayPod: TestUpstream;
  let ingressPod: TestUpstream;
  let gatewayCert: TestCertificate;
  let ingressCert: TestCertificate;
  let deeperCert: TestCertificate;

  before(async () => {
    gatewayPod = await startUpstream('gateway', (ws) => ws.send('gateway'));
    ingressPod = await startUpstream('ingress', (ws) => ws.send('ingress'));
    gatewayCert = await makeCert({ hosts: ['*.example.com', '*.b.example.com'] });
    deeperCert = await makeCert({ hosts: ['*.deep.example.com'] });
    ingressCert = await makeCert({ hosts: ['*.ingress.test'] });
    const documents: Record<string, unknown>[] = [
      gatewayClass() as never,
      tlsSecret('gw-tls', { cert: gatewayCert.cert, key: gatewayCert.key }) as never,
      tlsSecret('deep-tls', { cert: deeperCert.cert, key: deeperCert.key }) as never,
      tlsSecret('ingress-tls', { cert: ingressCert.cert, key: ingressCert.key }) as never,
      gateway('gw', {
        listeners: [
          { name: 'http', port: 80, protocol: 'HTTP', hostname: '*.example.com' },
          { name: 'https', port: 443, protocol: 'HTTPS', hostname: '*.example.com', tls: { certificateRefs: [{ name: 'gw-tls' }] } },
          // A longer wildcard with its own certificate: the longest suffix wins at any depth too.
          { name: 'https-deep', port: 443, protocol: 'HTTPS', hostname: '*.deep.example.com', tls: { certificateRefs: [{ name: 'deep-tls' }] } },
        ],
      }) as never,
      wsService('chat'),
      slice('chat', gatewayPod),
      httpRoute('chat', { rules: [{ backendRefs: [{ name: 'chat', port: 80 }] }] }) as never,
      ingressClass() as never,
      wsService('legacy'),
      slice('legacy', ingressPod),
      ingress('legacy', { host: '*.ingress.test', paths: [{ path: '/', service: 'legacy', port: 80 }], tls: [{ hosts: ['*.ingress.test'], secretName: 'ingress-tls' }] }) as never,
    ];
    const { snapshot } = translate(gatewayResources(documents));
    proxy = await startTestProxy(snapshot);
  });

  after(async () => {
    await proxy.close();
    await gatewayPod.close();
    await ingressPod.close();
  });

  it('HTTPRouteListenerHostnameMatching: a listener wildcard routes one label and several labels, never the apex', async () => {
    assert.equal(await greeting(proxy, 'foo.example.com', false), 'gateway');
    assert.equal(await greeting(proxy, 'foo.bar.example.com', false), 'gateway');
    assert.equal(await greeting(proxy, 'a.b.c.example.com', true), 'gateway');
    assert.equal(await greeting(proxy, 'example.com', false), 404);
  });

  it('SNI: the listener certificate serves names of any depth below its wildcard, the longest wildcard first', async () => {
    for (const name of ['foo.example.com', 'foo.bar.example.com', 'a.b.c.example.com']) {
      assert.equal((await probeTls({ port: proxy.httpsPort, servername: name })).fingerprint256, gatewayCert.fingerprint256, name);
    }
    for (const name of ['x.deep.example.com', 'x.y.deep.example.com']) {
      assert.equal((await probeTls({ port: proxy.httpsPort, servername: name })).fingerprint256, deeperCert.fingerprint256, name);
    }
    assert.notEqual((await probeTls({ port: proxy.httpsPort, servername: 'example.com' })).fingerprint256, gatewayCert.fingerprint256, 'never the apex');
  });

  it('an Ingress wildcard still covers exactly one label, for routing and for SNI', async () => {
    assert.equal(await greeting(proxy, 'one.ingress.test', true), 'ingress');
    assert.equal(await greeting(proxy, 'two.levels.ingress.test', false), 404);
    assert.equal((await probeTls({ port: proxy.httpsPort, servername: 'one.ingress.test' })).fingerprint256, ingressCert.fingerprint256);
    assert.notEqual((await probeTls({ port: proxy.httpsPort, servername: 'two.levels.ingress.test' })).fingerprint256, ingressCert.fingerprint256);
  });
});

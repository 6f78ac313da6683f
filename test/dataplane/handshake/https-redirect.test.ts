// SPEC §6 ssl-redirect / force-ssl-redirect end to end: Ingress objects -> translate -> the proxy on
// real sockets. Plain HTTP and ws:// on a host with TLS get 308 to https:// with the normalised path
// and the query; ssl-redirect "false" and hosts without TLS pass; force redirects any host; the
// HTTPS listener never redirects; a redirect is no handshake failure.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { translate } from '../../../src/translate/translate.ts';
import { endpointSlice, ingress, ingressClass, resources, service } from '../../support/k8s.ts';
import { connect, handshakeRequest, metricValue, nextMessage, rawExchange, scrape, startTestProxy, startUpstream, type TestProxy, type TestUpstream } from '../../support/proxy.ts';

const paths = [{ service: 'up', port: 80 }];

function head(response: string): { status: number; location: string | undefined } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
  const location = /\r\nLocation: ([^\r]*)\r\n/i.exec(response)?.[1];
  return { status, location };
}

function plainGet(target: string, host: string): string {
  return `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
}

describe('HTTPS redirect (ssl-redirect, force-ssl-redirect)', () => {
  let upstream: TestUpstream;
  let proxy: TestProxy;

  before(async () => {
    upstream = await startUpstream('up');
    const { snapshot, diagnostics } = translate(
      resources(
        ingressClass('wsgate'),
        // The Secret is missing: the host is served with the default certificate, and redirected all the same.
        ingress('secure', { host: 'secure.test', paths, tls: [{ hosts: ['secure.test'], secretName: 'absent' }] }),
        ingress('off', { host: 'off.test', paths, tls: [{ hosts: ['off.test'], secretName: 'absent' }], annotations: { 'wsgate.io/ssl-redirect': 'false' } }),
        ingress('plain', { host: 'plain.test', paths }),
        ingress('forced', { host: 'forced.test', paths, annotations: { 'nginx.ingress.kubernetes.io/force-ssl-redirect': 'true' } }),
        // A catch-all that redirects: whatever Host a client sends ends up in a Location.
        ingress('catchall', { defaultBackend: { service: 'up', port: 80 }, annotations: { 'wsgate.io/force-ssl-redirect': 'true' } }),
        service('up'),
        endpointSlice('up', { ports: [{ name: 'http', port: upstream.port }], endpoints: ['127.0.0.1'] }),
      ),
    );
    assert.deepEqual(diagnostics.filter((d) => d.reason === 'InvalidAnnotation'), []);
    proxy = await startTestProxy(snapshot);
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  test('a plain GET to a TLS host: 308 to https, the port dropped, the path normalised, the query kept', async () => {
    const response = await rawExchange(proxy.httpPort, plainGet('/a/../b/./c//d?x=1&y=%20z', `secure.test:${proxy.httpPort}`));
    assert.deepEqual(head(response), { status: 308, location: 'https://secure.test/b/c/d?x=1&y=%20z' });
    assert.equal(upstream.handshakes.length, 0);
  });

  test('a ws:// upgrade to a TLS host gets the same 308 (the client then fails, as with nginx)', async () => {
    const response = await rawExchange(proxy.httpPort, handshakeRequest('/chat/%2e%2e/room?id=7', { Host: 'SECURE.test.' }));
    assert.deepEqual(head(response), { status: 308, location: 'https://secure.test/room?id=7' });
    await assert.rejects(connect(proxy.wsUrl('/chat'), { headers: { Host: 'secure.test' } }), { status: 308 });
    assert.equal(upstream.handshakes.length, 0, 'nothing reached the backend on plain HTTP');
  });

  test('an absolute-form target redirects to its own authority', async () => {
    const response = await rawExchange(proxy.httpPort, plainGet('http://secure.test/x/../y?q', 'other.test'));
    assert.deepEqual(head(response), { status: 308, location: 'https://secure.test/y?q' });
  });

  test('a path that cannot be normalised is 400, never a redirect', async () => {
    const response = await rawExchange(proxy.httpPort, plainGet('/a/..%2f..%2fetc', 'secure.test'));
    assert.equal(head(response).status, 400);
  });

  test('ssl-redirect "false" passes through on plain HTTP, ws and GET alike', async () => {
    const ws = await connect(proxy.wsUrl('/chat'), { headers: { Host: 'off.test' } });
    ws.send('hello');
    assert.equal(await nextMessage(ws), 'hello');
    ws.close();
    assert.equal(head(await rawExchange(proxy.httpPort, plainGet('/x', 'off.test'))).status, 200);
  });

  test('a host without TLS is served on plain HTTP; force-ssl-redirect (the nginx alias here) redirects it', async () => {
    assert.equal(head(await rawExchange(proxy.httpPort, plainGet('/x', 'plain.test'))).status, 200);
    assert.deepEqual(head(await rawExchange(proxy.httpPort, plainGet('/x?a=b', 'forced.test'))), { status: 308, location: 'https://forced.test/x?a=b' });
    assert.deepEqual(head(await rawExchange(proxy.httpPort, handshakeRequest('/ws', { Host: 'forced.test' }))), { status: 308, location: 'https://forced.test/ws' });
  });

  test('a Host that is no name cannot shape the Location: 400', async () => {
    for (const host of ['evil.test@attacker.test', 'evil.test\\attacker.test', 'a.test/attacker.test']) {
      const response = await rawExchange(proxy.httpPort, plainGet('/x', host));
      assert.equal(head(response).status, 400, host);
      assert.equal(head(response).location, undefined, host);
      const upgrade = await rawExchange(proxy.httpPort, handshakeRequest('/x', { Host: host }));
      assert.equal(head(upgrade).status, 400, host);
    }
    // An IPv6 literal is a fine Location host; its port is dropped like any other.
    assert.deepEqual(head(await rawExchange(proxy.httpPort, plainGet('/x', '[::1]:8080'))), { status: 308, location: 'https://[::1]/x' });
  });

  test('the HTTPS listener never redirects', async () => {
    const ws = await connect(proxy.wssUrl('/chat'), { headers: { Host: 'secure.test' } });
    ws.send('over tls');
    assert.equal(await nextMessage(ws), 'over tls');
    ws.close();
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port: proxy.httpsPort, path: '/x', headers: { Host: 'forced.test' }, servername: 'forced.test', rejectUnauthorized: false, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
    });
    assert.equal(status, 200);
  });

  test('a redirect is not a handshake failure', async () => {
    const before = metricValue(await scrape(proxy.adminPort), 'wsgate_handshake_failures_total', { reason: 'bad_request' });
    await rawExchange(proxy.httpPort, handshakeRequest('/ws', { Host: 'secure.test' }));
    const text = await scrape(proxy.adminPort);
    assert.equal(metricValue(text, 'wsgate_handshake_failures_total', { ingress: 'secure' }), 0);
    assert.equal(metricValue(text, 'wsgate_handshake_failures_total', { reason: 'bad_request' }), before);
  });
});

// --proxy-protocol through the whole pipeline: the PROXY source is the client address for
// forwarded headers and allowed-source-ranges; a connection without the header is closed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { endpoint, eventually, handshakeRequest, metricValue, pool, rawExchange, route, scrape, snapshot, startTestProxy, startUpstream, type TestProxy, type TestUpstream } from '../../support/proxy.ts';

describe('PROXY protocol', () => {
  let upstream: TestUpstream;
  let proxy: TestProxy;

  before(async () => {
    upstream = await startUpstream('echo');
    proxy = await startTestProxy(
      snapshot(
        [route('/office', 'echo', { source: { namespace: 'ns', ingress: 'office' }, policy: { allowedSourceRanges: ['203.0.113.0/24'] } })],
        [pool('echo', [endpoint(upstream.port)])],
      ),
      { proxyProtocol: { trustedCidrs: ['127.0.0.0/8'] } },
    );
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  test('the PROXY v1 source is the client: source ranges and forwarded headers use it', async () => {
    const text = await rawExchange(proxy.httpPort, `PROXY TCP4 203.0.113.7 10.0.0.1 51000 80\r\n${handshakeRequest('/office')}`, /\r\n\r\n/);
    assert.match(text, /^HTTP\/1\.1 101 /);
    const req = upstream.handshakes.at(-1)!;
    assert.equal(req.headers['x-real-ip'], '203.0.113.7');
    assert.equal(req.headers['x-forwarded-for'], '203.0.113.7');
  });

  test('a PROXY source outside allowed-source-ranges gets 403', async () => {
    const text = await rawExchange(proxy.httpPort, `PROXY TCP4 198.51.100.9 10.0.0.1 51000 80\r\n${handshakeRequest('/office')}`);
    assert.match(text, /^HTTP\/1\.1 403 /);
  });

  test('a connection without the header is closed unanswered and counted', async () => {
    const before = metricValue(await scrape(proxy.adminPort), 'wsgate_handshake_failures_total', { reason: 'bad_request' });
    const text = await rawExchange(proxy.httpPort, handshakeRequest('/office'));
    assert.equal(text, '');
    await eventually(async () => metricValue(await scrape(proxy.adminPort), 'wsgate_handshake_failures_total', { reason: 'bad_request' }) === before + 1, 'counted');
  });
});

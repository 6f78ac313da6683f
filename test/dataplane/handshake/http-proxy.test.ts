// Ordinary HTTP/1.1 on the same routes as the handshakes (SPEC §7): routed, bodies streamed both
// ways, forwarded headers added, hop-by-hop fields dropped, failures answered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { deadPort, endpoint, pool, route, snapshot, startTestProxy, startUpstream, type TestProxy, type TestUpstream } from '../../support/proxy.ts';

function request(port: number, options: http.RequestOptions, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent: false, ...options }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('plain HTTP', () => {
  let upstream: TestUpstream;
  let proxy: TestProxy;

  before(async () => {
    upstream = await startUpstream('api');
    proxy = await startTestProxy(snapshot([route('/api', 'api'), route('/down', 'down')], [pool('api', [endpoint(upstream.port)]), pool('down', [endpoint(await deadPort())])]));
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  test('a request is routed and its body streamed to the backend and back', async () => {
    const body = 'x'.repeat(200_000);
    const res = await request(proxy.httpPort, { method: 'POST', path: '/api/items?q=1', headers: { 'Keep-Alive': 'timeout=5', Connection: 'keep-alive, Keep-Alive' } }, body);
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-upstream'], 'api');
    assert.equal(res.body, body, 'the echoed body is intact');
    assert.equal(res.headers['x-saw-forwarded-for'], '127.0.0.1');
  });

  test('no route: 404', async () => {
    assert.equal((await request(proxy.httpPort, { path: '/nowhere' })).status, 404);
  });

  test('a backend that refuses: 502', async () => {
    assert.equal((await request(proxy.httpPort, { path: '/down' })).status, 502);
  });
});

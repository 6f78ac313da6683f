// SPEC §7 row by row, through a real proxy on 127.0.0.1: exact status, headers and failure reason.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import {
  connect, deadPort, endpoint, eventually, handshakeRequest, metricValue, nextMessage, pool, rawExchange, route, scrape, snapshot,
  startTestProxy, startUpstream, type TestProxy, type TestUpstream,
} from '../../support/proxy.ts';

const failures = (text: string, reason: string, labels: Record<string, string> = {}): number =>
  metricValue(text, 'wsgate_handshake_failures_total', { reason, ...labels });

// Each listener in turn: the plain one is node:http's throughout; the TLS one reads a clean
// upgrade head itself (listen/upgrade-head.ts) and gives every other request to node:http, so
// every row must come out the same on both.
for (const scheme of ['ws', 'wss'] as const) describe(`handshake checks in SPEC §7 order (${scheme})`, () => {
  const url = (path: string): string => (scheme === 'ws' ? proxy.wsUrl(path) : proxy.wssUrl(path));
  const raw = (request: string | Buffer | Array<string | Buffer>, until?: RegExp): Promise<string> =>
    rawExchange(scheme === 'ws' ? proxy.httpPort : proxy.httpsPort, request, until, { tls: scheme === 'wss' });
  let upstream: TestUpstream;
  let proxy: TestProxy;
  let silent: net.Server;
  let rejecting: net.Server;
  let chunked: net.Server;
  let garbage: net.Server;
  let dead: number;

  before(async () => {
    upstream = await startUpstream('echo');
    dead = await deadPort();
    // Accepts and never answers: the upstream handshake times out.
    silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    // Answers every handshake with 401 and a body.
    rejecting = net.createServer((s) => s.once('data', () => s.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\nWWW-Authenticate: Bearer\r\n\r\nlog in first')));
    await new Promise<void>((r) => rejecting.listen(0, '127.0.0.1', r));
    // Answers 403 with a chunked body and keeps its connection open, as a keep-alive server does.
    chunked = net.createServer((s) => s.once('data', () => s.write('HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n5\r\nnope!\r\n0\r\n\r\n')));
    await new Promise<void>((r) => chunked.listen(0, '127.0.0.1', r));
    // Not HTTP at all.
    garbage = net.createServer((s) => s.once('data', () => s.end('SSH-2.0-OpenSSH_9.2\r\n\r\n')));
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
    proxy = await startTestProxy(
      snapshot(
        [
          route('/echo', 'echo'),
          route('/ranges', 'echo', { source: { namespace: 'ns', ingress: 'ranges' }, policy: { allowedSourceRanges: ['10.0.0.0/8'] } }),
          route('/origins', 'echo', { source: { namespace: 'ns', ingress: 'origins' }, policy: { allowedOrigins: ['https://app.example.com', 'https://*.example.org'] } }),
          route('/limited', 'echo', { source: { namespace: 'ns', ingress: 'limited' }, policy: { maxConnections: 1 } }),
          route('/per-client', 'echo', { source: { namespace: 'ns', ingress: 'per-client' }, policy: { maxConnectionsPerClient: 1 } }),
          route('/empty', 'empty'),
          route('/dead', 'dead'),
          route('/silent', 'silent'),
          route('/rejecting', 'rejecting'),
          route('/retry', 'retry'),
          route('/chunked', 'chunked'),
          route('/garbage', 'garbage'),
        ],
        [
          pool('echo', [endpoint(upstream.port)]),
          pool('empty', [endpoint(upstream.port, 'not-ready'), endpoint(upstream.port + 1, 'terminating')]),
          pool('dead', [endpoint(dead)], { connectTimeout: '2s' }),
          pool('silent', [endpoint((silent.address() as AddressInfo).port)], { handshakeTimeout: '300ms' }),
          pool('rejecting', [endpoint((rejecting.address() as AddressInfo).port)]),
          pool('retry', [endpoint(dead), endpoint(await deadPort()), endpoint(upstream.port)], { balance: 'round-robin' }),
          pool('chunked', [endpoint((chunked.address() as AddressInfo).port)], { handshakeTimeout: '500ms' }),
          pool('garbage', [endpoint((garbage.address() as AddressInfo).port)]),
        ],
      ),
      { headerTimeoutMs: 500 },
    );
  });

  after(async () => {
    await proxy.close();
    await upstream.close();
    silent.close();
    rejecting.close();
    chunked.close();
    garbage.close();
  });

  test('a valid handshake is relayed and echoes', async () => {
    const ws = await connect(url('/echo'));
    ws.send('hello');
    assert.equal(await nextMessage(ws), 'hello');
    ws.close();
  });

  test('a head not complete within --header-timeout is cut (slowloris), reason timeout', async () => {
    const text = await raw('GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
    assert.equal(text, '', 'the connection is closed without an answer');
    await eventually(async () => failures(await scrape(proxy.adminPort), 'timeout') >= 1, 'timeout counted');
  });

  test('a request head over 16 KiB gets 431', async () => {
    const text = await raw(handshakeRequest('/echo', { 'X-Big': 'a'.repeat(17 * 1024) }));
    assert.match(text, /^HTTP\/1\.1 431 /);
    assert.ok(failures(await scrape(proxy.adminPort), 'bad_request') >= 1);
  });

  for (const [name, request] of [
    ['not GET', handshakeRequest('/echo', {}, 'POST /echo HTTP/1.1')],
    ['not HTTP/1.1', handshakeRequest('/echo', {}, 'GET /echo HTTP/1.0')],
    ['no Host', handshakeRequest('/echo', { Host: '' })],
    ['no Connection: upgrade', handshakeRequest('/echo', { Connection: 'keep-alive' })],
    ['a key that is not 16 bytes of base64', handshakeRequest('/echo', { 'Sec-WebSocket-Key': 'c2hvcnQ=' })],
    ['no Sec-WebSocket-Version', handshakeRequest('/echo', { 'Sec-WebSocket-Version': '' })],
  ] as const) {
    test(`400 bad_request: ${name}`, async () => {
      const text = await raw(request);
      assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.match(text, /\r\nConnection: close\r\n/i);
    });
  }

  test('a version other than 13 gets 426 with Sec-WebSocket-Version: 13', async () => {
    const before = failures(await scrape(proxy.adminPort), 'bad_version');
    const text = await raw(handshakeRequest('/echo', { 'Sec-WebSocket-Version': '8' }));
    assert.match(text, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
    assert.match(text, /\r\nSec-WebSocket-Version: 13\r\n/);
    assert.equal(failures(await scrape(proxy.adminPort), 'bad_version'), before + 1);
  });

  test('no route: 404 no_route with empty route labels', async () => {
    const text = await raw(handshakeRequest('/nowhere'));
    assert.match(text, /^HTTP\/1\.1 404 /);
    assert.ok(failures(await scrape(proxy.adminPort), 'no_route', { namespace: '', ingress: '', service: '' }) >= 1);
  });

  test('a client outside allowed-source-ranges: 403 source_forbidden', async () => {
    await assert.rejects(connect(url('/ranges')), { status: 403 });
    assert.equal(failures(await scrape(proxy.adminPort), 'source_forbidden', { ingress: 'ranges' }), 1);
  });

  test('an Origin not allowed: 403 origin_forbidden; allowed ones and none pass', async () => {
    await assert.rejects(connect(url('/origins'), { origin: 'https://evil.example.net' }), { status: 403 });
    await assert.rejects(connect(url('/origins'), { origin: 'https://example.org' }), { status: 403 }, 'the apex is not a subdomain');
    for (const origin of ['https://app.example.com', 'https://a.b.example.org', undefined]) {
      const ws = await connect(url('/origins'), origin ? { origin } : {});
      ws.close();
    }
    assert.equal(failures(await scrape(proxy.adminPort), 'origin_forbidden', { ingress: 'origins' }), 2);
  });

  test('over max-connections: 503 limit; over max-connections-per-client: 429 limit', async () => {
    const first = await connect(url('/limited'));
    await assert.rejects(connect(url('/limited')), { status: 503 });
    const mine = await connect(url('/per-client'));
    await assert.rejects(connect(url('/per-client')), { status: 429 });
    const text = await scrape(proxy.adminPort);
    assert.equal(failures(text, 'limit', { ingress: 'limited' }), 1);
    assert.equal(failures(text, 'limit', { ingress: 'per-client' }), 1);
    first.close();
    mine.close();
    // The slot is given back when the connection ends.
    await eventually(async () => {
      try {
        (await connect(url('/limited'))).close();
        return true;
      } catch {
        return false;
      }
    }, 'limit released');
  });

  test('no ready endpoint (not-ready and terminating only): 503 no_endpoints', async () => {
    await assert.rejects(connect(url('/empty')), { status: 503 });
    assert.equal(failures(await scrape(proxy.adminPort), 'no_endpoints', { service: 'empty' }), 1);
  });

  test('every connect attempt failed: 502 upstream_connect', async () => {
    await assert.rejects(connect(url('/dead')), { status: 502 });
    assert.equal(failures(await scrape(proxy.adminPort), 'upstream_connect', { service: 'dead' }), 1);
  });

  test('a refused connect is retried on another endpoint (3 attempts)', async () => {
    for (let i = 0; i < 3; i++) {
      const ws = await connect(url('/retry'));
      ws.send('again');
      assert.equal(await nextMessage(ws), 'again');
      ws.close();
    }
  });

  test('connected but no answer within handshake-timeout: 504 upstream_timeout', async () => {
    await assert.rejects(connect(url('/silent')), { status: 504 });
    assert.equal(failures(await scrape(proxy.adminPort), 'upstream_timeout', { service: 'silent' }), 1);
  });

  test('an upstream answer other than 101 is relayed: upstream_rejected', async () => {
    const text = await raw(handshakeRequest('/rejecting'));
    assert.match(text, /^HTTP\/1\.1 401 Unauthorized\r\n/);
    assert.match(text, /\r\nWWW-Authenticate: Bearer\r\n/);
    assert.match(text, /\r\n\r\nlog in first$/);
    assert.equal(failures(await scrape(proxy.adminPort), 'upstream_rejected', { service: 'rejecting' }), 1);
  });

  test('a chunked refusal from a keep-alive backend reaches the client whole, then the connection closes', async () => {
    const text = await raw(handshakeRequest('/chunked'));
    assert.match(text, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(text, /\r\nConnection: close\r\n/);
    assert.doesNotMatch(text, /keep-alive/);
    assert.match(text, /\r\n\r\n5\r\nnope!\r\n0\r\n\r\n$/);
  });

  test('an answer that is not HTTP: 502 upstream_rejected', async () => {
    const text = await raw(handshakeRequest('/garbage'));
    assert.match(text, /^HTTP\/1\.1 502 /);
    assert.equal(failures(await scrape(proxy.adminPort), 'upstream_rejected', { service: 'garbage' }), 1);
  });

  test("the backend's 101 reaches the client byte for byte (subprotocol, header case)", async () => {
    const text = await raw(handshakeRequest('/echo', { 'Sec-WebSocket-Protocol': 'chat, superchat' }), /\r\n\r\n/);
    assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(text, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
    assert.match(text, /\r\nSec-WebSocket-Protocol: chat\r\n/);
  });

  test('a failed TLS handshake is counted as tls', async () => {
    await new Promise<void>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port: proxy.httpsPort, maxVersion: 'TLSv1.1', minVersion: 'TLSv1', rejectUnauthorized: false });
      socket.on('error', () => resolve());
      socket.on('secureConnect', () => {
        socket.destroy();
        resolve();
      });
    });
    await eventually(async () => failures(await scrape(proxy.adminPort), 'tls') >= 1, 'tls failure counted');
  });

  test('wss works and the upstream sees the forwarded headers', async () => {
    const ws = await connect(proxy.wssUrl('/echo?x=1'), { headers: { 'X-Forwarded-For': '203.0.113.9', 'X-Custom': 'kept' } });
    ws.send('secure');
    assert.equal(await nextMessage(ws), 'secure');
    const req = upstream.handshakes.at(-1)!;
    assert.equal(req.url, '/echo?x=1');
    assert.equal(req.headers.host, `127.0.0.1:${proxy.httpsPort}`, 'Host is preserved');
    assert.equal(req.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(req.headers['x-forwarded-proto'], 'https');
    assert.equal(req.headers['x-forwarded-host'], `127.0.0.1:${proxy.httpsPort}`);
    assert.equal(req.headers['x-real-ip'], '127.0.0.1');
    assert.equal(req.headers['x-custom'], 'kept');
    assert.ok(req.headers['sec-websocket-key']);
    ws.close();
  });

  test('a plain ws handshake says X-Forwarded-Proto: http', async () => {
    const ws = await connect(proxy.wsUrl('/echo'));
    assert.equal(upstream.handshakes.at(-1)!.headers['x-forwarded-proto'], 'http');
    ws.close();
  });

  test('h2c upgrades are ordinary HTTP: answered by the backend, Upgrade not forwarded', async () => {
    const text = await raw(
      'POST /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nContent-Length: 5\r\n\r\nhello',
      /\r\n0\r\n\r\n$/,
    );
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /\r\nX-Upstream: echo\r\n/);
    assert.match(text, /\r\nX-Saw-Upgrade: none\r\n/);
    assert.match(text, /\r\nX-Saw-Forwarded-For: 127\.0\.0\.1\r\n/);
  });

  test('a head split across two reads is still a handshake', async () => {
    const head = handshakeRequest('/echo');
    const text = await raw([head.slice(0, 40), head.slice(40)], /\r\n\r\n/);
    assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  });

  // A lost frame would leave the connection open and silent: the test's own timeout says so.
  test('a frame sent in the same write as the head reaches the upstream, and its echo comes back', { timeout: 10_000 }, async () => {
    const text = await raw(Buffer.concat([Buffer.from(handshakeRequest('/echo'), 'latin1'), maskedText('early')]), /early/);
    assert.match(text, /^HTTP\/1\.1 101 /);
    assert.ok(text.endsWith('\r\n\r\n\x81\x05early'), JSON.stringify(text));
  });

  test('two Host headers: 400 bad_request, and the upstream sees nothing', async () => {
    const seen = upstream.handshakes.length;
    const text = await raw(handshakeRequest('/echo').replace('\r\n\r\n', '\r\nHost: other.test\r\n\r\n'));
    assert.match(text, /^HTTP\/1\.1 400 /);
    assert.equal(upstream.handshakes.length, seen);
  });

  test('plain requests on one kept-alive connection are each answered', async () => {
    const text = await raw(['GET /echo HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    assert.equal(text.match(/HTTP\/1\.1 200 OK\r\n/g)?.length, 2, text);
  });
});

/** A client's text frame (masked, as RFC 6455 §5.3 requires). */
function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload.map((byte, i) => byte ^ mask[i % 4]!)]);
}

// SPEC §6 max-connections-per-endpoint and §9 wsgate_upstream_connections_active through a real
// proxy: two ws upstreams capped at 2 connections each take 4, the 5th gets 503 `limit`, a close
// frees a slot, and the gauge shows each endpoint by its pod name (or address without one).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import {
  VALID_KEY, closed, connect, endpoint, eventually, metricValue, pool, rawExchange, route, scrape, snapshot, startTestProxy, startUpstream,
  type TestProxy, type TestUpstream,
} from '../../support/proxy.ts';

let a: TestUpstream;
let b: TestUpstream;
let proxy: TestProxy;

before(async () => {
  a = await startUpstream('a');
  b = await startUpstream('b');
  proxy = await startTestProxy(snapshot(
    [route('/', 'echo', { source: { namespace: 'ns', ingress: 'capped' } })],
    [pool('echo', [{ ...endpoint(a.port), name: 'pod-a' }, endpoint(b.port)], { source: { namespace: 'ns', service: 'echo' }, maxConnectionsPerEndpoint: 2 })],
  ));
});
after(async () => {
  await proxy.close();
  await a.close();
  await b.close();
});

const handshake = `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${VALID_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;

test('capped endpoints: 4 connections fit, the 5th gets 503 limit, a close frees a slot; the gauge counts per endpoint', async () => {
  const open: WebSocket[] = [];
  for (let i = 0; i < 4; i++) open.push(await connect(proxy.wsUrl('/')));
  assert.equal(a.sockets.size, 2);
  assert.equal(b.sockets.size, 2);
  const refused = await rawExchange(proxy.httpPort, handshake);
  assert.match(refused, /^HTTP\/1\.1 503 /);
  const text = await scrape(proxy.adminPort);
  assert.equal(metricValue(text, 'wsgate_handshake_failures_total', { ingress: 'capped', reason: 'limit' }), 1);
  assert.equal(metricValue(text, 'wsgate_upstream_connections_active', { namespace: 'ns', service: 'echo', endpoint: 'pod-a' }), 2);
  assert.equal(metricValue(text, 'wsgate_upstream_connections_active', { namespace: 'ns', service: 'echo', endpoint: `127.0.0.1:${b.port}` }), 2);

  open[0]!.close(1000);
  await closed(open[0]!);
  await eventually(async () => {
    const reply = await connect(proxy.wsUrl('/')).then((ws) => (open[0] = ws), () => undefined);
    return reply !== undefined;
  }, 'a slot came free');
  assert.equal(a.sockets.size + b.sockets.size, 4);
  for (const ws of open) ws.close(1000);
  await Promise.all(open.map((ws) => closed(ws)));
  await eventually(async () => metricValue(await scrape(proxy.adminPort), 'wsgate_upstream_connections_active', { endpoint: 'pod-a' }) === 0, 'gauge back to 0');
});

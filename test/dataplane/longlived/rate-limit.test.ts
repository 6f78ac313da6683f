// SPEC §6 max-messages-per-second / message-burst through a real proxy: a client sending 200
// messages/s against a 50/s limit gets 1008 and its upstream 1001; one within the limit keeps its
// connection; with direction `both` an upstream over the limit gets the 1008.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import {
  closed, connect, endpoint, eventually, metricValue, nextMessage, pool, route, scrape, snapshot, startTestProxy, startUpstream,
  type TestProxy, type TestUpstream,
} from '../../support/proxy.ts';

let upstream: TestUpstream;
let proxy: TestProxy;
const serverSide = new Map<string, WebSocket>();
const upstreamCodes = new Map<string, number>();

before(async () => {
  upstream = await startUpstream('echo', (ws, req) => {
    const path = req.url ?? '';
    serverSide.set(path, ws);
    ws.on('close', (code) => upstreamCodes.set(path, code));
    // The echo path answers each message; /flood-down makes the upstream the flooder.
    if (path === '/both/flood-down') {
      const timer = setInterval(() => ws.send('tick'), 5);
      ws.on('close', () => clearInterval(timer));
    } else {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    }
  });
  const limit = { maxMessagesPerSecond: 50, messageBurst: 50 };
  proxy = await startTestProxy(snapshot(
    [
      route('/', 'echo', { source: { namespace: 'ns', ingress: 'limited' }, policy: limit }),
      route('/both', 'echo', { source: { namespace: 'ns', ingress: 'both' }, policy: { ...limit, messageRateDirection: 'both' } }),
    ],
    [pool('echo', [endpoint(upstream.port)], { source: { namespace: 'ns', service: 'echo' } })],
  ));
});
after(async () => {
  await proxy.close();
  await upstream.close();
});

function sendAtRate(ws: WebSocket, perSecond: number, count: number): Promise<void> {
  return new Promise((resolve) => {
    let sent = 0;
    const timer = setInterval(() => {
      if (ws.readyState !== ws.OPEN || sent === count) {
        clearInterval(timer);
        resolve();
        return;
      }
      ws.send(`m${sent++}`);
    }, 1000 / perSecond);
  });
}

test('a client sending 200 msgs/s against 50/s gets 1008, the upstream 1001, counted 1008 proxy', async () => {
  const ws = await connect(proxy.wsUrl('/flood'));
  const result = closed(ws);
  await sendAtRate(ws, 200, 1000);
  assert.equal((await result).code, 1008);
  await eventually(() => upstreamCodes.get('/flood') === 1001, 'the upstream got 1001');
  await eventually(async () => metricValue(await scrape(proxy.adminPort), 'wsgate_close_codes_total', { ingress: 'limited', code: '1008', side: 'proxy' }) === 1, '1008/proxy counted');
});

test('a client within the limit keeps its connection', async () => {
  const ws = await connect(proxy.wsUrl('/polite'));
  let echoes = 0;
  ws.on('message', () => echoes++);
  // 20/s for 1.5 s: well under 50/s, and the first burst is within message-burst.
  await sendAtRate(ws, 20, 30);
  await eventually(() => echoes === 30, 'every message echoed');
  assert.equal(ws.readyState, ws.OPEN);
  ws.send('last');
  await nextMessage(ws);
  ws.close(1000);
  assert.equal((await closed(ws)).code, 1000);
});

test('with direction both, an upstream over the limit gets 1008 and the client 1001', async () => {
  const ws = await connect(proxy.wsUrl('/both/flood-down'));
  assert.equal((await closed(ws)).code, 1001);
  await eventually(() => upstreamCodes.get('/both/flood-down') === 1008, 'the flooding upstream got 1008');
});

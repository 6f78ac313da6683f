// SPEC §9 close-code attribution and traffic counters, seen from /metrics through a real proxy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import {
  closed, connect, endpoint, eventually, metricValue, nextMessage, pool, route, scrape, snapshot, startTestProxy, startUpstream,
  type TestProxy, type TestUpstream,
} from '../../support/proxy.ts';

describe('close codes by side', () => {
  let upstream: TestUpstream;
  let proxy: TestProxy;
  const serverSide = new Map<string, WebSocket>();

  before(async () => {
    upstream = await startUpstream('echo', (ws, req) => {
      serverSide.set(req.url ?? '', ws);
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    proxy = await startTestProxy(
      snapshot(
        [route('/', 'echo'), route('/small', 'echo', { source: { namespace: 'ns', ingress: 'small' }, policy: { maxMessageSize: 1024 } })],
        [pool('echo', [endpoint(upstream.port)])],
      ),
    );
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  const codes = async (code: string, side: string): Promise<number> =>
    metricValue(await scrape(proxy.adminPort), 'wsgate_close_codes_total', { code, side });

  test('close 4000 from the client is counted with side client', async () => {
    const ws = await connect(proxy.wsUrl('/c4000'));
    ws.close(4000, 'bye');
    assert.equal((await closed(ws)).code, 4000);
    await eventually(async () => (await codes('4000', 'client')) === 1, '4000/client');
  });

  test('close 4001 from the upstream is counted with side upstream', async () => {
    const ws = await connect(proxy.wsUrl('/c4001'));
    await eventually(() => serverSide.has('/c4001'), 'upstream saw it');
    serverSide.get('/c4001')!.close(4001, 'server says bye');
    assert.equal((await closed(ws)).code, 4001);
    await eventually(async () => (await codes('4001', 'upstream')) === 1, '4001/upstream');
  });

  test('codes 3000-3999 are reported as 3xxx', async () => {
    const ws = await connect(proxy.wsUrl('/c3000'));
    ws.close(3001);
    await closed(ws);
    await eventually(async () => (await codes('3xxx', 'client')) === 1, '3xxx');
  });

  test('upstream lost mid-stream: the client gets 1014, counted as 1006 upstream', async () => {
    const ws = await connect(proxy.wsUrl('/lost'));
    ws.send('ping');
    await nextMessage(ws);
    serverSide.get('/lost')!.terminate();
    assert.equal((await closed(ws)).code, 1014);
    await eventually(async () => (await codes('1006', 'upstream')) === 1, '1006/upstream');
    assert.equal(await codes('1014', 'proxy'), 0, 'the 1014 is a consequence, not counted again');
  });

  test('client gone without a close frame: 1006 client', async () => {
    const ws = await connect(proxy.wsUrl('/gone'));
    ws.terminate();
    await eventually(async () => (await codes('1006', 'client')) === 1, '1006/client');
  });

  test('an oversized frame: sender gets 1009, the other side 1001, counted 1009 proxy', async () => {
    const ws = await connect(proxy.wsUrl('/small/x'), { perMessageDeflate: false });
    await eventually(() => serverSide.has('/small/x'), 'upstream saw it');
    const upstreamClosed = new Promise<number>((resolve) => serverSide.get('/small/x')!.once('close', (code) => resolve(code)));
    let echoed = false;
    ws.on('message', () => (echoed = true));
    ws.send(Buffer.alloc(2048));
    assert.equal((await closed(ws)).code, 1009);
    assert.equal(await upstreamClosed, 1001);
    assert.equal(echoed, false, 'the oversized message never reached the upstream');
    await eventually(async () => (await codes('1009', 'proxy')) === 1, '1009/proxy');
  });

  test('bytes and messages are counted per direction', async () => {
    const before = await scrape(proxy.adminPort);
    const ws = await connect(proxy.wsUrl('/count'), { perMessageDeflate: false });
    for (let i = 0; i < 10; i++) {
      ws.send('x'.repeat(100));
      await nextMessage(ws);
    }
    ws.close(1000);
    await closed(ws);
    await eventually(async () => (await codes('1000', 'client')) >= 1, 'closed');
    const after = await scrape(proxy.adminPort);
    const delta = (name: string, direction: string) =>
      metricValue(after, name, { direction, service: 'echo' }) - metricValue(before, name, { direction, service: 'echo' });
    assert.equal(delta('wsgate_messages_total', 'upstream'), 10);
    assert.equal(delta('wsgate_messages_total', 'downstream'), 10);
    // 10 masked frames of 100 bytes (2 + 4 + 100) and a masked close (2 + 4 + 2) upstream.
    assert.equal(delta('wsgate_bytes_total', 'upstream'), 10 * 106 + 8);
    // 10 unmasked frames (2 + 100) and the close echo (2 + 2) downstream.
    assert.equal(delta('wsgate_bytes_total', 'downstream'), 10 * 102 + 4);
  });
});

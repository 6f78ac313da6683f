// Hot reload (SPEC §4, §5, §8): a swap never touches established connections; endpoints that
// leave or turn terminating are drained with 1001 after drain-timeout; invalid snapshots are
// refused and counted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import {
  closed, connect, endpoint, eventually, metricValue, nextMessage, pool, route, scrape, snapshot, startTestProxy, startUpstream,
  type TestProxy, type TestUpstream,
} from '../support/proxy.ts';

describe('reloads', () => {
  let a: TestUpstream;
  let b: TestUpstream;
  let proxy: TestProxy;

  before(async () => {
    a = await startUpstream('a');
    b = await startUpstream('b');
    proxy = await startTestProxy(snapshot([route('/', 'echo')], [pool('echo', [endpoint(a.port), endpoint(b.port)])]));
  });
  after(async () => {
    await proxy.close();
    await a.close();
    await b.close();
  });

  test('50 reloads while 100 connections exchange messages drop none', async () => {
    const clients: WebSocket[] = [];
    for (let i = 0; i < 100; i++) clients.push(await connect(proxy.wsUrl(`/c${i}`)));
    let unexpectedCloses = 0;
    for (const ws of clients) ws.on('close', () => unexpectedCloses++);
    for (let round = 0; round < 50; round++) {
      // Every reload changes something real: routes, policies, pool settings.
      const changed = snapshot(
        [route('/', 'echo'), route(`/extra-${round}`, 'echo', { policy: { maxMessageSize: 1_000_000 + round } })],
        [pool('echo', [endpoint(a.port), endpoint(b.port)], { idleTimeout: `${3600 + round}s`, balance: round % 2 ? 'round-robin' : 'least-conn' })],
      );
      assert.equal(proxy.proxy.offer(changed).ok, true);
      const sample = clients.slice((round * 2) % 100, (round * 2) % 100 + 2);
      await Promise.all(
        sample.map(async (ws, i) => {
          const text = `round ${round} client ${i}`;
          ws.send(text);
          assert.equal(await nextMessage(ws), text);
        }),
      );
    }
    await Promise.all(clients.map(async (ws, i) => {
      ws.send(`final ${i}`);
      assert.equal(await nextMessage(ws), `final ${i}`);
    }));
    assert.equal(unexpectedCloses, 0);
    const text = await scrape(proxy.adminPort);
    assert.ok(metricValue(text, 'wsgate_config_reloads_total', { result: 'success' }) >= 51);
    assert.equal(metricValue(text, 'wsgate_connections_active', { service: 'echo' }), 100);
    for (const ws of clients) ws.close(1000);
    await eventually(async () => metricValue(await scrape(proxy.adminPort), 'wsgate_connections_active', { service: 'echo' }) === 0, 'all closed');
  });

  test('an invalid snapshot is refused: the running one stays and a failure is counted', async () => {
    const ws = await connect(proxy.wsUrl('/x'));
    const result = proxy.proxy.offer({ version: 1, routes: [{ host: '', path: '/', pathType: 'Prefix', pool: 'missing' }], pools: [] });
    assert.equal(result.ok, false);
    assert.ok(result.errors.length > 0);
    ws.send('still here');
    assert.equal(await nextMessage(ws), 'still here');
    const fresh = await connect(proxy.wsUrl('/y'));
    fresh.close();
    assert.ok(metricValue(await scrape(proxy.adminPort), 'wsgate_config_reloads_total', { result: 'failure' }) >= 1);
    ws.close();
  });

  test('an endpoint that leaves the pool is drained with 1001 after drain-timeout; others stay', async () => {
    const base = (endpoints: ReturnType<typeof endpoint>[]) =>
      snapshot([route('/', 'echo')], [pool('echo', endpoints, { drainTimeout: '300ms', balance: 'round-robin' })]);
    proxy.proxy.offer(base([endpoint(a.port), endpoint(b.port)]));
    const clients: WebSocket[] = [];
    for (let i = 0; i < 6; i++) clients.push(await connect(proxy.wsUrl('/d')));
    assert.ok(a.sockets.size > 0 && b.sockets.size > 0, 'both endpoints have connections');
    const bCount = b.sockets.size;
    const closes = clients.map((ws) => closed(ws).then((c) => ({ ws, ...c })));
    proxy.proxy.offer(base([endpoint(a.port)]));
    // Endpoint b's connections get 1001; a's stay open and working.
    await eventually(() => b.sockets.size === 0, "b's connections closed");
    const settled = await Promise.race([Promise.all(closes.slice(0)), new Promise((r) => setTimeout(r, 500, 'pending'))]);
    assert.equal(settled, 'pending', "a's connections stay open");
    const stillOpen = clients.filter((ws) => ws.readyState === ws.OPEN);
    assert.equal(stillOpen.length, clients.length - bCount);
    for (const ws of stillOpen) {
      ws.send('alive');
      assert.equal(await nextMessage(ws), 'alive');
    }
    const drained = clients.filter((ws) => ws.readyState !== ws.OPEN);
    for (const ws of drained) assert.equal((await closes[clients.indexOf(ws)]!).code, 1001);
    for (const ws of stillOpen) ws.close();
  });

  test('a not-ready endpoint keeps its connections but takes no new ones', async () => {
    proxy.proxy.offer(snapshot([route('/', 'echo')], [pool('echo', [endpoint(a.port), endpoint(b.port)], { drainTimeout: '100ms', balance: 'round-robin' })]));
    const ws1 = await connect(proxy.wsUrl('/n'));
    const ws2 = await connect(proxy.wsUrl('/n'));
    const bBefore = b.handshakes.length;
    proxy.proxy.offer(snapshot([route('/', 'echo')], [pool('echo', [endpoint(a.port), endpoint(b.port, 'not-ready')], { drainTimeout: '100ms' })]));
    await new Promise((r) => setTimeout(r, 300)); // longer than drain-timeout: nothing must close
    for (const ws of [ws1, ws2]) {
      ws.send('ok');
      assert.equal(await nextMessage(ws), 'ok');
    }
    for (let i = 0; i < 4; i++) (await connect(proxy.wsUrl('/n'))).close();
    assert.equal(b.handshakes.length, bBefore, 'no new connection went to the not-ready endpoint');
    ws1.close();
    ws2.close();
  });
});

// SPEC §6 rebalance through a real proxy: 3 ws upstreams hold 90 connections, 2 more become
// ready, and the proxy sheds the old ones with 1001 (clients reconnect, least-conn places them)
// until every endpoint is within threshold x the mean; the clients see nothing but 1001.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import {
  connect, endpoint, eventually, metricValue, pool, route, scrape, snapshot, startTestProxy, startUpstream, type TestUpstream,
} from '../../support/proxy.ts';

test('3 endpoints with 90 connections, 2 more become ready: rebalancing brings all within 1.5x the mean', async (t) => {
  const upstreams: TestUpstream[] = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((name) => startUpstream(name)));
  t.after(() => Promise.all(upstreams.map((u) => u.close())));
  const rebalance = { source: { namespace: 'ns', service: 'echo' }, rebalance: true, rebalanceRate: 30, rebalanceThreshold: 1.5 };
  const routes = [route('/', 'echo', { source: { namespace: 'ns', ingress: 'balanced' } })];
  const proxy = await startTestProxy(snapshot(routes, [pool('echo', upstreams.slice(0, 3).map((u) => endpoint(u.port)), rebalance)]));
  t.after(() => proxy.close());

  const codes: number[] = [];
  let stopping = false;
  const live = new Set<WebSocket>();
  // A client as an app writes it: on 1001 it reconnects.
  const client = async (): Promise<void> => {
    const ws = await connect(proxy.wsUrl('/'));
    live.add(ws);
    ws.once('close', (code) => {
      live.delete(ws);
      if (stopping) return;
      codes.push(code);
      void client();
    });
  };
  for (let i = 0; i < 90; i++) await client();
  assert.deepEqual(upstreams.map((u) => u.sockets.size), [30, 30, 30, 0, 0]);

  proxy.proxy.offer(snapshot(routes, [pool('echo', upstreams.map((u) => endpoint(u.port)), rebalance)]));
  const withinThreshold = (): boolean => {
    const counts = upstreams.map((u) => u.sockets.size);
    const total = counts.reduce((a, b) => a + b, 0);
    return total === 90 && live.size === 90 && Math.max(...counts) <= 1.5 * (total / counts.length);
  };
  await eventually(withinThreshold, 'every endpoint within 1.5x the mean', 20_000);
  assert.ok(codes.length > 0, 'some connections were moved');
  assert.ok(codes.every((code) => code === 1001), `clients saw only 1001: ${[...new Set(codes)].join(',')}`);
  const closes = metricValue(await scrape(proxy.adminPort), 'wsgate_rebalance_closes_total', { namespace: 'ns', ingress: 'balanced', service: 'echo' });
  assert.equal(closes, codes.length, 'every move counted');
  // It stops there: no further closes once within the threshold.
  const settled = codes.length;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal(codes.length, settled, 'no closes once balanced');
  stopping = true;
  for (const ws of live) ws.close(1000);
});

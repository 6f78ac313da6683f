// SPEC §6 max-connection-lifetime / lifetime-jitter through a real proxy: 50 ws connections with a
// 2 s lifetime and 10% jitter each end with 1001 within 1.8-2.2 s (bounds widened a little for a
// noisy machine), and not all at one instant.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import {
  closed, connect, endpoint, eventually, metricValue, pool, route, scrape, snapshot, startTestProxy, startUpstream,
  type TestProxy, type TestUpstream,
} from '../../support/proxy.ts';

let upstream: TestUpstream;
let proxy: TestProxy;
const upstreamCodes: number[] = [];

before(async () => {
  upstream = await startUpstream('echo', (ws) => ws.on('close', (code) => upstreamCodes.push(code)));
  proxy = await startTestProxy(snapshot(
    [route('/', 'echo', { source: { namespace: 'ns', ingress: 'recycled' }, policy: { maxConnectionLifetime: '2s', lifetimeJitter: 0.1 } })],
    [pool('echo', [endpoint(upstream.port)], { source: { namespace: 'ns', service: 'echo' } })],
  ));
});
after(async () => {
  await proxy.close();
  await upstream.close();
});

test('a 2 s lifetime with 10% jitter closes 50 connections with 1001 between 1.8 and 2.2 s, spread out', async () => {
  const lifetimes = await Promise.all(Array.from({ length: 50 }, async () => {
    const ws: WebSocket = await connect(proxy.wsUrl('/'));
    const opened = performance.now();
    const { code } = await closed(ws);
    return { code, ms: performance.now() - opened };
  }));
  for (const { code, ms } of lifetimes) {
    assert.equal(code, 1001);
    // The connection was counted open a moment before the client saw its 101: a little slack below.
    assert.ok(ms >= 1800 - 30, `not before 1.8 s: ${Math.round(ms)} ms`);
    assert.ok(ms <= 2200 + 400, `by 2.2 s (+ slack for a busy machine): ${Math.round(ms)} ms`);
  }
  const times = lifetimes.map((l) => l.ms);
  assert.ok(Math.max(...times) - Math.min(...times) > 100, 'the jitter spread the closes out');
  await eventually(() => upstreamCodes.length === 50, 'every upstream connection closed');
  assert.ok(upstreamCodes.every((code) => code === 1001), 'the upstreams got 1001 too');
  const counted = metricValue(await scrape(proxy.adminPort), 'wsgate_close_codes_total', { namespace: 'ns', ingress: 'recycled', code: '1001', side: 'proxy' });
  assert.equal(counted, 50);
});

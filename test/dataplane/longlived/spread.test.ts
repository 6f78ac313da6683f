// Spread-out drains (SPEC §6 drain-spread, §3 --shutdown-spread) through a real proxy: the 1001s
// of a shutdown and of an endpoint drain go out over the window, not in one instant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import { startProxyProcess } from '../../../src/runtime/single-process.ts';
import { closed, connect, endpoint, pool, route, snapshot, startTestProxy, startUpstream } from '../../support/proxy.ts';

async function closeTimes(sockets: WebSocket[]): Promise<{ codes: number[]; times: number[] }> {
  const results = await Promise.all(sockets.map(async (ws) => ({ code: (await closed(ws)).code, at: performance.now() })));
  return { codes: results.map((r) => r.code), times: results.map((r) => r.at) };
}

test('SIGTERM with a 2 s shutdown spread: 100 connections get their 1001s over at least 1.5 s', async (t) => {
  const upstream = await startUpstream('echo');
  t.after(() => upstream.close());
  const proxy = await startProxyProcess({
    httpPort: 0, httpsPort: 0, adminPort: 0, bindAddress: '127.0.0.1', headerTimeoutMs: 10_000,
    shutdownDelayMs: 0, shutdownTimeoutMs: 10_000, shutdownSpreadMs: 2000,
  });
  const offered = proxy.offer(snapshot([route('/', 'echo')], [pool('echo', [endpoint(upstream.port)])]));
  assert.ok(offered.ok);
  const url = `ws://127.0.0.1:${proxy.listeners.httpPort}/`;
  const sockets = await Promise.all(Array.from({ length: 100 }, () => connect(url)));
  const started = performance.now();
  const ends = closeTimes(sockets);
  const outcome = await proxy.shutdown();
  const { codes, times } = await ends;
  assert.equal(outcome, 'idle');
  assert.ok(codes.every((code) => code === 1001), 'every client got 1001');
  const first = Math.min(...times) - started;
  const last = Math.max(...times) - started;
  assert.ok(last - first >= 1500, `spread over ${Math.round(last - first)} ms`);
  assert.ok(last < 2000 + 3000, `within the spread (+ slack): ${Math.round(last)} ms`);
  // Evenly: no instant takes a large share of them.
  const firstHalf = times.filter((at) => at - started < (first + last) / 2).length;
  assert.ok(firstHalf >= 30 && firstHalf <= 70, `about half in the first half of the window: ${firstHalf}`);
});

test('drain-spread: connections of an endpoint that turned terminating get their 1001s over the window', async (t) => {
  const upstream = await startUpstream('echo');
  t.after(() => upstream.close());
  const drainPolicy = { drainTimeout: '0s', drainSpread: '1s' };
  const proxy = await startTestProxy(snapshot([route('/', 'echo')], [pool('echo', [endpoint(upstream.port)], drainPolicy)]));
  t.after(() => proxy.close());
  const sockets = await Promise.all(Array.from({ length: 40 }, () => connect(proxy.wsUrl('/'))));
  const ends = closeTimes(sockets);
  const started = performance.now();
  const result = proxy.proxy.offer(snapshot([route('/', 'echo')], [pool('echo', [endpoint(upstream.port, 'terminating')], drainPolicy)]));
  assert.ok(result.ok);
  const { codes, times } = await ends;
  assert.ok(codes.every((code) => code === 1001));
  const spread = Math.max(...times) - Math.min(...times);
  assert.ok(spread >= 700, `spread over ${Math.round(spread)} ms`);
  assert.ok(Math.max(...times) - started < 1000 + 3000, 'within the window (+ slack)');
});

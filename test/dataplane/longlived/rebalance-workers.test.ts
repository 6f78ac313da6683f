// SPEC §6 rebalance with two workers, simulated: each worker's Rebalancer sees its own counts
// exactly and the other's as last reported (every 250 ms, as workers/worker.ts sends them), and
// a closed client reconnects at once onto the pod-wide lightest endpoint. Together the workers
// must close what gets the pool under the threshold, not each the whole excess on a stale view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointRegistry } from '../../../src/dataplane/upstream/registry.ts';
import { Rebalancer, type RebalancedConnection, type RebalancedPool } from '../../../src/dataplane/upstream/rebalance.ts';

interface Worker {
  registry: EndpointRegistry;
  connections: Set<RebalancedConnection>;
  rebalancer: Rebalancer;
}

/** A small seeded generator, so a run is the same every time. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function simulate(seed: number, perWorker: number[][]): { closes: number; counts: number[] } {
  const keys = ['a', 'b', 'c', 'd', 'e'];
  let ready = keys.slice(0, 3);
  const pool: RebalancedPool = { name: 'p', rebalance: { ratePerSecond: 20, threshold: 1.5 }, endpoints: { readyKeys: () => ready } };
  let now = 1_000_000;
  let closes = 0;
  const random = seeded(seed);
  const workers: Worker[] = [];
  const podCount = (key: string): number => workers.reduce((sum, w) => sum + (w.registry.localCounts().get(key) ?? 0), 0);
  let next = 0;
  const open = (worker: Worker, key: string): void => {
    const connection: RebalancedConnection = {
      poolName: 'p',
      endpointKey: key,
      relay: {
        ended: false,
        close() {
          // The close handshake ends it; the client reconnects, a worker takes it, least-conn places it pod-wide.
          (this as { ended: boolean }).ended = true;
          worker.connections.delete(connection);
          worker.registry.connectionClosed(key);
          const target = workers[next++ % workers.length]!;
          const lightest = [...ready].sort((x, y) => podCount(x) - podCount(y))[0]!;
          open(target, lightest);
        },
      },
      onRebalance: () => closes++,
    };
    worker.connections.add(connection);
    worker.registry.connectionOpened(key);
  };
  for (let i = 0; i < perWorker.length; i++) {
    const registry = new EndpointRegistry();
    const connections = new Set<RebalancedConnection>();
    workers.push({ registry, connections, rebalancer: new Rebalancer({ registry, connections, pools: () => [pool], now: () => now, random }) });
  }
  const report = (): void => {
    for (const w of workers) {
      const others = new Map<string, number>();
      for (const o of workers) if (o !== w) for (const [k, n] of o.registry.localCounts()) others.set(k, (others.get(k) ?? 0) + n);
      w.registry.setRemoteCounts(others);
    }
  };
  perWorker.forEach((counts, i) => counts.forEach((n, k) => { for (let j = 0; j < n; j++) open(workers[i]!, keys[k]!); }));
  report();
  ready = keys;
  // 10 s in 10 ms steps: worker i ticks every 200 ms at its own offset, reports go out every 250 ms.
  for (let t = 0; t < 10_000; t += 10) {
    now += 10;
    workers.forEach((w, i) => { if ((t + i * 90) % 200 === 0) w.rebalancer.tick(200); });
    if (t % 250 === 0) report();
  }
  return { closes, counts: keys.map(podCount) };
}

test('two workers with stale views of each other close what the pool needs, not twice that', () => {
  for (const [seed, split] of [[1, [[15, 15, 15], [15, 15, 15]]], [2, [[20, 10, 15], [10, 20, 15]]], [3, [[30, 0, 30], [0, 30, 0]]], [4, [[25, 25, 25], [5, 5, 5]]]] as const) {
    const { closes, counts } = simulate(seed, split.map((c) => [...c]));
    // 90 connections over 5 ready endpoints: the limit is 1.5 x 18 = 27; 30, 30, 30 need 3 closes each.
    assert.ok(Math.max(...counts) <= 27, `seed ${seed}: balanced ${counts.join(',')}`);
    assert.equal(counts.reduce((a, b) => a + b, 0), 90);
    // Each worker rounds its share of a round's excess up or down at random, so the round that
    // finishes the job may close one more per worker than needed: 9 + 2, never twice 9.
    assert.ok(closes <= 11, `seed ${seed}: ${closes} closes where 9 are needed (${counts.join(',')})`);
  }
});

test('an imbalance is shed only once it has lasted a second: arrivals least-conn is still spreading are left alone', () => {
  const registry = new EndpointRegistry();
  const connections = new Set<RebalancedConnection>();
  const pool: RebalancedPool = { name: 'p', rebalance: { ratePerSecond: 100, threshold: 1.5 }, endpoints: { readyKeys: () => ['a', 'b', 'c'] } };
  let closed = 0;
  const open = (key: string): void => {
    const connection: RebalancedConnection = {
      poolName: 'p',
      endpointKey: key,
      relay: {
        ended: false,
        close() {
          (this as { ended: boolean }).ended = true;
          closed++;
          connections.delete(connection);
          registry.connectionClosed(key);
        },
      },
    };
    connections.add(connection);
    registry.connectionOpened(key);
  };
  const rebalancer = new Rebalancer({ registry, connections, pools: () => [pool], random: () => 0 });
  // 3, 0, 0: far over 1.5x the mean of 1, for 800 ms, then least-conn evens it out.
  for (let i = 0; i < 3; i++) open('a');
  for (let t = 0; t < 800; t += 200) rebalancer.tick(200);
  assert.equal(closed, 0, 'a passing imbalance closes nothing');
  open('b');
  open('c');
  open('b');
  open('c');
  rebalancer.tick(200);
  assert.equal(closed, 0);
  // Now one that lasts: 9, 3, 3 (limit 7.5) stays over and is shed after a second.
  for (let i = 0; i < 6; i++) open('a');
  for (let i = 0; i < 1; i++) open('b');
  for (let i = 0; i < 1; i++) open('c');
  for (let t = 0; t < 800; t += 200) rebalancer.tick(200);
  assert.equal(closed, 0, 'not before a second');
  for (let t = 0; t < 600; t += 200) rebalancer.tick(200);
  assert.ok(closed > 0, 'shed once it lasted');
  assert.ok(registry.load('a') <= 1.5 * ((registry.load('a') + registry.load('b') + registry.load('c')) / 3) + 1, `a holds ${registry.load('a')}`);
});

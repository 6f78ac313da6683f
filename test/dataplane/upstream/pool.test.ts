import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poolWithDefaults, type Endpoint, type Pool, type PoolWithDefaults } from '../../../src/config/snapshot.ts';
import { validateSnapshot } from '../../../src/config/validate.ts';
import { UpstreamPool } from '../../../src/dataplane/upstream/pool.ts';
import { EndpointRegistry } from '../../../src/dataplane/upstream/registry.ts';
import { endpointKey, type EndpointRef, type PickContext } from '../../../src/dataplane/upstream/types.ts';

function endpoint(n: number, state: Endpoint['state'] = 'ready'): Endpoint {
  return { address: `10.0.0.${n}`, port: 8080, state, name: `pod-${n}` };
}

function pool(endpoints: Endpoint[], extra: Partial<Pool> = {}): PoolWithDefaults {
  return poolWithDefaults({ name: 'default/chat:80', endpoints, ...extra });
}

function ctx(overrides: Partial<PickContext> = {}): PickContext {
  return { clientIp: '192.0.2.1', headers: {}, url: '/ws', ...overrides };
}

const key = (n: number) => `10.0.0.${n}:8080`;

function fakeClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

/** Picks `count` times, each connection staying open, and counts picks per endpoint. */
function distribute(upstream: UpstreamPool, registry: EndpointRegistry, count: number, context: (i: number) => PickContext = () => ctx(), keepOpen = true) {
  const counts = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const picked = upstream.pick(context(i), new Set())!;
    counts.set(picked.key, (counts.get(picked.key) ?? 0) + 1);
    if (keepOpen) registry.connectionOpened(picked.key);
  }
  return counts;
}

test('endpoint keys bracket IPv6 addresses', () => {
  assert.equal(endpointKey('10.0.0.1', 80), '10.0.0.1:80');
  assert.equal(endpointKey('2001:db8::1', 443), '[2001:db8::1]:443');
  assert.equal(endpointKey('backend.local', 9000), 'backend.local:9000');
});

test('only ready endpoints take new connections', () => {
  const registry = new EndpointRegistry();
  const upstream = new UpstreamPool(pool([endpoint(1, 'not-ready'), endpoint(2), endpoint(3, 'terminating')]), registry);
  const counts = distribute(upstream, registry, 20);
  assert.deepEqual([...counts.keys()], [key(2)]);
  assert.equal(upstream.hasReadyEndpoint(), true);
  assert.equal(upstream.stateOf(key(1)), 'not-ready');
  assert.equal(upstream.stateOf(key(3)), 'terminating');
  assert.equal(upstream.stateOf(key(9)), undefined);
});

test('a pool without ready endpoints has nothing to pick', () => {
  const registry = new EndpointRegistry();
  const upstream = new UpstreamPool(pool([endpoint(1, 'not-ready'), endpoint(2, 'terminating')]), registry);
  assert.equal(upstream.hasReadyEndpoint(), false);
  assert.equal(upstream.pick(ctx(), new Set()), undefined);
  assert.equal(new UpstreamPool(pool([]), registry).pick(ctx(), new Set()), undefined);
});

test('the picked endpoint carries its address, port and name', () => {
  const upstream = new UpstreamPool(pool([{ address: '2001:db8::5', port: 9000, state: 'ready', name: 'pod-x' }]), new EndpointRegistry());
  assert.deepEqual(upstream.pick(ctx(), new Set()), { key: '[2001:db8::5]:9000', address: '2001:db8::5', port: 9000, name: 'pod-x' });
});

test('a snapshot that lists an endpoint twice in a pool is refused, so the pool never sees one', () => {
  // translate merges an address two EndpointSlices list (test/translate); a hand-written snapshot is refused.
  const doc = { version: 1, routes: [], pools: [pool([endpoint(1, 'terminating'), endpoint(1), endpoint(2)])] };
  const result = validateSnapshot(doc);
  assert.equal(result.ok, false);
  assert.deepEqual(!result.ok && result.errors, ['pools[0].endpoints[1]: 10.0.0.1 port 8080 is already listed at endpoints[0]']);
  const registry = new EndpointRegistry();
  const upstream = new UpstreamPool(pool([endpoint(1), endpoint(2, 'not-ready')]), registry);
  assert.deepEqual(upstream.stateCounts(), { ready: 1, not_ready: 1, terminating: 0, ejected: 0 });
  assert.deepEqual([...distribute(upstream, registry, 3).keys()], [key(1)]);
});

test('least-conn (the default) evens out open connections, counting every worker', () => {
  const registry = new EndpointRegistry();
  const upstream = new UpstreamPool(pool([endpoint(1), endpoint(2), endpoint(3)]), registry);
  // Other workers already hold 10 connections on endpoint 1.
  registry.setRemoteCounts(new Map([[key(1), 10]]));
  const counts = distribute(upstream, registry, 20);
  assert.equal(counts.get(key(1)), undefined);
  assert.equal(counts.get(key(2)), 10);
  assert.equal(counts.get(key(3)), 10);
  assert.equal(registry.load(key(1)), 10);
  assert.equal(registry.load(key(2)), 10);
});

test('least-conn ties do not always go to the first endpoint', () => {
  const registry = new EndpointRegistry();
  const upstream = new UpstreamPool(pool([endpoint(1), endpoint(2), endpoint(3)]), registry);
  // Connections not yet counted (a burst before any connect completes): all loads stay equal.
  const counts = distribute(upstream, registry, 30, () => ctx(), false);
  assert.deepEqual([...counts.values()], [10, 10, 10]);
});

test('closing connections frees their endpoint for least-conn', () => {
  const registry = new EndpointRegistry();
  const upstream = new UpstreamPool(pool([endpoint(1), endpoint(2)]), registry);
  for (let i = 0; i < 3; i++) registry.connectionOpened(key(1));
  registry.connectionOpened(key(2));
  assert.equal(upstream.pick(ctx(), new Set())?.key, key(2));
  for (let i = 0; i < 3; i++) registry.connectionClosed(key(1));
  assert.equal(upstream.pick(ctx(), new Set())?.key, key(1));
  registry.connectionClosed(key(1)); // more closes than opens never go negative
  assert.deepEqual(registry.localCounts(), new Map([[key(2), 1]]));
});

test('localCounts is a copy for the other workers; remote counts replace the previous report', () => {
  const registry = new EndpointRegistry();
  registry.connectionOpened(key(1));
  const sent = registry.localCounts();
  registry.connectionOpened(key(1));
  assert.equal(sent.get(key(1)), 1);
  registry.setRemoteCounts(new Map([[key(1), 5], [key(2), 2]]));
  registry.setRemoteCounts(new Map([[key(1), 1]]));
  assert.equal(registry.load(key(1)), 3);
  assert.equal(registry.load(key(2)), 0);
});

test('round-robin takes each ready endpoint in turn', () => {
  const registry = new EndpointRegistry();
  const upstream = new UpstreamPool(pool([endpoint(1), endpoint(2), endpoint(3)], { balance: 'round-robin' }), registry);
  const order = Array.from({ length: 6 }, () => upstream.pick(ctx(), new Set())!.key);
  assert.deepEqual(order, [key(1), key(2), key(3), key(1), key(2), key(3)]);
});

test('the round-robin cursor survives a reload of the same pool', () => {
  const registry = new EndpointRegistry();
  const config = pool([endpoint(1), endpoint(2), endpoint(3)], { balance: 'round-robin' });
  const first = new UpstreamPool(config, registry);
  assert.equal(first.pick(ctx(), new Set())?.key, key(1));
  const reloaded = new UpstreamPool(structuredClone(config), registry);
  assert.equal(reloaded.pick(ctx(), new Set())?.key, key(2));
  // A pool under another name keeps its own cursor.
  const other = new UpstreamPool({ ...config, name: 'default/other:80' }, registry);
  assert.equal(other.pick(ctx(), new Set())?.key, key(1));
  registry.retainPools(['default/other:80']);
  assert.equal(new UpstreamPool(config, registry).pick(ctx(), new Set())?.key, key(1));
});

test('round-robin skips an ejected endpoint without doubling its neighbour', () => {
  const registry = new EndpointRegistry();
  const upstream = new UpstreamPool(pool([endpoint(1), endpoint(2), endpoint(3)], { balance: 'round-robin' }), registry);
  registry.connectFailed(key(2));
  const order = Array.from({ length: 6 }, () => upstream.pick(ctx(), new Set())!.key);
  assert.deepEqual(order, [key(1), key(3), key(1), key(3), key(1), key(3)]);
});

test('hash-by header sends one key to one endpoint and spreads keys over all of them', () => {
  const registry = new EndpointRegistry();
  const upstream = new UpstreamPool(pool([endpoint(1), endpoint(2), endpoint(3), endpoint(4)], { balance: 'hash', hashBy: 'header:x-user' }), registry);
  const byUser = (i: number) => ctx({ headers: { 'x-user': `user-${i}` } });
  const first = Array.from({ length: 400 }, (_, i) => upstream.pick(byUser(i), new Set())!.key);
  // The same users again, with load now uneven: hashing ignores load.
  const counts = distribute(upstream, registry, 400, byUser);
  const again = Array.from({ length: 400 }, (_, i) => upstream.pick(byUser(i), new Set())!.key);
  assert.deepEqual(again, first);
  assert.equal(counts.size, 4);
  for (const count of counts.values()) assert.ok(count > 50 && count < 150, `endpoint got ${count} of 400`);
});

test('hash-by keeps its mapping across a reload with the endpoints in another order', () => {
  const endpoints = [endpoint(1), endpoint(2), endpoint(3), endpoint(4), endpoint(5)];
  const config = { balance: 'hash' as const, hashBy: 'cookie:sid' };
  const before = new UpstreamPool(pool(endpoints, config), new EndpointRegistry());
  const after = new UpstreamPool(pool([...endpoints].reverse(), config), new EndpointRegistry());
  for (let i = 0; i < 200; i++) {
    const context = ctx({ headers: { cookie: `sid=s${i}` } });
    assert.equal(after.pick(context, new Set())?.key, before.pick(context, new Set())?.key);
  }
});

test('hash-by moves only the keys it must when an endpoint becomes not ready', () => {
  const endpoints = Array.from({ length: 10 }, (_, i) => endpoint(i + 1));
  const config = { balance: 'hash' as const, hashBy: 'query:room' };
  const before = new UpstreamPool(pool(endpoints, config), new EndpointRegistry());
  const after = new UpstreamPool(pool(endpoints.map((e, i) => (i === 4 ? { ...e, state: 'not-ready' as const } : e)), config), new EndpointRegistry());
  let moved = 0;
  for (let i = 0; i < 2000; i++) {
    const context = ctx({ url: `/ws?room=r${i}` });
    const was = before.pick(context, new Set())!.key;
    const now = after.pick(context, new Set())!.key;
    if (was !== now) {
      assert.equal(was, key(5));
      moved += 1;
    }
  }
  assert.ok(moved > 100 && moved < 300, `moved ${moved} of 2000`);
});

test('hash-by client-ip, and least-conn for a request without the hash key', () => {
  const registry = new EndpointRegistry();
  const byIp = new UpstreamPool(pool([endpoint(1), endpoint(2), endpoint(3)], { balance: 'hash', hashBy: 'client-ip' }), registry);
  const picked = byIp.pick(ctx({ clientIp: '198.51.100.20' }), new Set())!.key;
  assert.equal(byIp.pick(ctx({ clientIp: '::ffff:198.51.100.20' }), new Set())?.key, picked);

  const byHeader = new UpstreamPool(pool([endpoint(1), endpoint(2)], { balance: 'hash', hashBy: 'header:x-user' }), registry);
  for (let i = 0; i < 4; i++) registry.connectionOpened(key(1));
  for (let i = 0; i < 5; i++) assert.equal(byHeader.pick(ctx(), new Set())?.key, key(2));
});

test('a retry walks the ring to the next distinct endpoint, the same one each time', () => {
  const upstream = new UpstreamPool(pool([endpoint(1), endpoint(2), endpoint(3), endpoint(4)], { balance: 'hash', hashBy: 'header:x-user' }), new EndpointRegistry());
  for (let i = 0; i < 50; i++) {
    const context = ctx({ headers: { 'x-user': `u${i}` } });
    const first = upstream.pick(context, new Set())!.key;
    const second = upstream.pick(context, new Set([first]))!.key;
    const third = upstream.pick(context, new Set([first, second]))!.key;
    assert.equal(new Set([first, second, third]).size, 3);
    assert.equal(upstream.pick(context, new Set([first]))!.key, second);
  }
});

for (const balance of ['least-conn', 'round-robin', 'hash'] as const) {
  test(`${balance}: three attempts never repeat an endpoint, and the pool runs out`, () => {
    const registry = new EndpointRegistry({ now: fakeClock().now });
    const three = new UpstreamPool(pool([endpoint(1), endpoint(2), endpoint(3)], { balance, hashBy: 'client-ip' }), registry);
    for (let request = 0; request < 20; request++) {
      const tried = new Set<string>();
      for (let attempt = 0; attempt < 3; attempt++) {
        const picked: EndpointRef = three.pick(ctx({ clientIp: `192.0.2.${request}` }), tried)!;
        assert.ok(picked !== undefined && !tried.has(picked.key), `attempt ${attempt} repeated ${picked?.key}`);
        tried.add(picked.key);
      }
      assert.equal(three.pick(ctx(), tried), undefined);
    }
    const two = new UpstreamPool(pool([endpoint(1), endpoint(2)], { balance, hashBy: 'client-ip' }), registry);
    const tried = new Set<string>();
    tried.add(two.pick(ctx(), tried)!.key);
    tried.add(two.pick(ctx(), tried)!.key);
    assert.equal(tried.size, 2);
    assert.equal(two.pick(ctx(), tried), undefined);
  });
}

test('a failed connect ejects the endpoint; new picks avoid it until the ejection ends', () => {
  const clock = fakeClock();
  const registry = new EndpointRegistry({ now: clock.now });
  const upstream = new UpstreamPool(pool([endpoint(1), endpoint(2)]), registry);
  registry.connectFailed(key(1));
  assert.equal(registry.isEjected(key(1)), true);
  assert.deepEqual(upstream.stateCounts(), { ready: 1, not_ready: 0, terminating: 0, ejected: 1 });
  // Endpoint 2 is busier, yet the ejected endpoint 1 is not chosen.
  for (let i = 0; i < 5; i++) registry.connectionOpened(key(2));
  for (let i = 0; i < 5; i++) assert.equal(upstream.pick(ctx(), new Set())?.key, key(2));
  clock.advance(4_999);
  assert.equal(registry.isEjected(key(1)), true);
  clock.advance(1);
  assert.equal(registry.isEjected(key(1)), false);
  assert.equal(upstream.pick(ctx(), new Set())?.key, key(1));
  assert.deepEqual(upstream.stateCounts(), { ready: 2, not_ready: 0, terminating: 0, ejected: 0 });
});

test('ejection grows with each repeated failure up to the maximum, and success clears it', () => {
  const clock = fakeClock();
  const registry = new EndpointRegistry({ now: clock.now, ejectBaseMs: 5_000, ejectMaxMs: 60_000 });
  const ejectedFor = (): number => {
    registry.connectFailed(key(1));
    let waited = 0;
    while (registry.isEjected(key(1))) {
      clock.advance(1_000);
      waited += 1_000;
    }
    return waited;
  };
  assert.deepEqual([ejectedFor(), ejectedFor(), ejectedFor(), ejectedFor(), ejectedFor(), ejectedFor()], [5_000, 10_000, 20_000, 40_000, 60_000, 60_000]);
  registry.connectSucceeded(key(1));
  assert.equal(ejectedFor(), 5_000);
});

test('failures of attempts already in flight do not lengthen an ejection', () => {
  const clock = fakeClock();
  const registry = new EndpointRegistry({ now: clock.now });
  registry.connectFailed(key(1));
  clock.advance(1_000);
  for (let i = 0; i < 10; i++) registry.connectFailed(key(1));
  clock.advance(4_000);
  assert.equal(registry.isEjected(key(1)), false);
});

test('an endpoint that has been well for long forgets its past ejections', () => {
  const clock = fakeClock();
  const registry = new EndpointRegistry({ now: clock.now, ejectBaseMs: 5_000, ejectMaxMs: 60_000 });
  registry.connectFailed(key(1));
  clock.advance(5_000);
  registry.connectFailed(key(1)); // second ejection: 10 s
  clock.advance(10_000 + 60_000);
  registry.connectFailed(key(1));
  clock.advance(5_000);
  assert.equal(registry.isEjected(key(1)), false);
});

test('when every ready endpoint is ejected they are tried anyway', () => {
  const registry = new EndpointRegistry({ now: fakeClock().now });
  const upstream = new UpstreamPool(pool([endpoint(1), endpoint(2), endpoint(3, 'not-ready')]), registry);
  registry.connectFailed(key(1));
  registry.connectFailed(key(2));
  assert.equal(upstream.hasReadyEndpoint(), true);
  const first = upstream.pick(ctx(), new Set())!;
  assert.ok(first.key === key(1) || first.key === key(2));
  const second = upstream.pick(ctx(), new Set([first.key]))!;
  assert.notEqual(second.key, first.key);
  assert.notEqual(second.key, key(3));
  assert.deepEqual(upstream.stateCounts(), { ready: 0, not_ready: 1, terminating: 0, ejected: 2 });
});

test('a retry after a failed connect moves on to a healthy endpoint', () => {
  const registry = new EndpointRegistry({ now: fakeClock().now });
  const upstream = new UpstreamPool(pool([endpoint(1), endpoint(2), endpoint(3)]), registry);
  registry.connectFailed(key(3));
  const tried = new Set<string>();
  const first = upstream.pick(ctx(), tried)!;
  tried.add(first.key);
  registry.connectFailed(first.key);
  const second = upstream.pick(ctx(), tried)!;
  assert.notEqual(second.key, key(3), 'an ejected endpoint was chosen while a healthy one remained');
  tried.add(second.key);
  registry.connectFailed(second.key);
  // Only the ejected endpoint 3 is left untried: it gets the last attempt.
  assert.equal(upstream.pick(ctx(), tried)?.key, key(3));
});

test('ejection state outlives a reload', () => {
  const registry = new EndpointRegistry({ now: fakeClock().now });
  const config = pool([endpoint(1), endpoint(2)]);
  new UpstreamPool(config, registry);
  registry.connectFailed(key(1));
  const reloaded = new UpstreamPool(structuredClone(config), registry);
  assert.deepEqual(reloaded.stateCounts(), { ready: 1, not_ready: 0, terminating: 0, ejected: 1 });
  assert.equal(reloaded.pick(ctx(), new Set())?.key, key(2));
});

test('stateCounts counts each endpoint in one state', () => {
  const registry = new EndpointRegistry({ now: fakeClock().now });
  const upstream = new UpstreamPool(pool([endpoint(1), endpoint(2), endpoint(3, 'not-ready'), endpoint(4, 'terminating'), endpoint(5, 'terminating')]), registry);
  registry.connectFailed(key(2));
  registry.connectFailed(key(3)); // not ready: reported as not_ready, not ejected
  assert.deepEqual(upstream.stateCounts(), { ready: 1, not_ready: 1, terminating: 2, ejected: 1 });
  assert.equal(upstream.name, 'default/chat:80');
});

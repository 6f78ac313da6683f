// The controller's loop with a fake clock: the sync gate, the debounce (a lone change at once,
// a burst about 100 ms after the last change, at most 500 ms after the first), delivery only on a changed hash, last good
// annotations kept across rebuilds. And the informer wrapper's reconnect rules against the test
// API server, where the fake clock shows which waits happen.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Snapshot } from '../../../src/config/snapshot.ts';
import type { Clock, TimerHandle } from '../../../src/common/clock.ts';
import { SnapshotSync } from '../../../src/providers/kubernetes/sync.ts';
import { Debouncer } from '../../../src/common/debounce.ts';
import { LeaderElector } from '../../../src/providers/kubernetes/writers/leader.ts';
import { systemClock } from '../../../src/common/clock.ts';
import { ClusterStore, type ResourceSource } from '../../../src/providers/kubernetes/informers/store.ts';
import type { Resources } from '../../../src/translate/types.ts';
import { startApiServer, type ApiServer, type KubeObject } from '../../support/apiserver.ts';
import { writeKubeconfig } from '../../support/kubeconfig.ts';
import { endpointSlice, ingress, ingressClass, resources, service } from '../../support/k8s.ts';
import { eventually } from '../../support/proxy.ts';

/** Time that moves only when the test says so. */
class FakeClock implements Clock {
  #now = 1_000_000;
  #timers: { at: number; fn: () => void; cancelled: boolean }[] = [];

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): TimerHandle {
    const timer = { at: this.#now + ms, fn, cancelled: false };
    this.#timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  get pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.#now = due.at;
      due.cancelled = true;
      due.fn();
    }
    this.#now = until;
    this.#timers = this.#timers.filter((t) => !t.cancelled);
  }
}

function cluster(endpoints: string[], annotations: Record<string, string> = {}): Resources {
  return resources(
    ingressClass(),
    ingress('chat', { host: 'chat.example.test', annotations, paths: [{ path: '/', service: 'chat', port: 80 }] }),
    service('chat'),
    endpointSlice('chat', { endpoints }),
  );
}

function setup(initial: Resources, synced = true) {
  const clock = new FakeClock();
  const state = { isSynced: synced, current: initial };
  const source: ResourceSource = { synced: () => state.isSynced, resources: () => state.current };
  const delivered: Snapshot[] = [];
  const controller = new SnapshotSync(source, { clock, ingressClass: 'wsgate', sink: { accept: (snapshot) => void delivered.push(snapshot), refuse: () => {} } });
  return { clock, source: state, delivered, controller };
}

describe('Debouncer', () => {
  it('fires 100 ms after the last trigger, and no later than 500 ms after the first', () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    const debouncer = new Debouncer({ clock }, () => fired.push(clock.now()));
    const start = clock.now();
    debouncer.trigger();
    clock.advance(99);
    assert.deepEqual(fired, []);
    clock.advance(1);
    assert.deepEqual(fired, [start + 100]);
    // A steady stream, one trigger every 50 ms: never quiet for 100 ms, so only the cap fires it.
    const second = clock.now();
    for (let i = 0; i < 12; i += 1) {
      debouncer.trigger();
      clock.advance(50);
    }
    assert.deepEqual(fired, [start + 100, second + 500]);
  });

  it('with leadMs: a change after a quiet spell fires at once, what follows it is coalesced', () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    const debouncer = new Debouncer({ clock, leadMs: 5 }, () => fired.push(clock.now()));
    const start = clock.now();
    debouncer.trigger();
    clock.advance(2);
    // Joins the leading fire rather than pushing it back.
    debouncer.trigger();
    clock.advance(3);
    assert.deepEqual(fired, [start + 5]);
    // Within the quiet period of that fire: the usual 100 ms after the last change.
    clock.advance(20);
    debouncer.trigger();
    clock.advance(99);
    assert.equal(fired.length, 1);
    clock.advance(1);
    assert.deepEqual(fired, [start + 5, start + 125]);
    // Quiet for 100 ms since: the next change is leading again.
    clock.advance(100);
    debouncer.trigger();
    clock.advance(5);
    assert.deepEqual(fired, [start + 5, start + 125, start + 230]);
    // A steady stream right after it still fires only at the cap.
    const stream = clock.now();
    for (let i = 0; i < 12; i += 1) {
      debouncer.trigger();
      clock.advance(50);
    }
    assert.deepEqual(fired.slice(3), [stream + 500]);
  });
});

describe('SnapshotSync', async () => {
  it('delivers nothing until every kind has listed', async () => {
    const { clock, source, delivered, controller } = setup(cluster(['10.0.0.1']), false);
    controller.notify();
    clock.advance(5_000);
    await controller.settled();
    assert.equal(delivered.length, 0);
    assert.equal(controller.rebuilds, 0);
    source.isSynced = true;
    controller.notify();
    clock.advance(100);
    await controller.settled();
    assert.equal(delivered.length, 1);
    assert.equal(delivered[0]!.pools[0]!.endpoints[0]!.address, '10.0.0.1');
  });

  it('turns a rollout of 100 pods into a handful of rebuilds', async () => {
    const { clock, source, delivered, controller } = setup(cluster(['10.0.0.1']));
    controller.notify();
    clock.advance(100);
    await controller.settled();
    assert.equal(delivered.length, 1);
    // One EndpointSlice update every 20 ms, each replacing one pod, for 2 s.
    const addresses = Array.from({ length: 100 }, (_, i) => `10.0.1.${i + 1}`);
    for (let i = 0; i < 100; i += 1) {
      source.current = cluster(addresses.slice(0, i + 1));
      controller.notify();
      clock.advance(20);
      await controller.settled();
    }
    clock.advance(1_000);
    await controller.settled();
    const rebuilds = controller.rebuilds - 1;
    assert.ok(rebuilds >= 4 && rebuilds <= 6, `${rebuilds} rebuilds for 100 updates`);
    assert.equal(delivered.at(-1)!.pools[0]!.endpoints.length, 100);
  });

  it('rebuilds a lone change 5 ms after it, not a quiet period later', async () => {
    const { clock, source, delivered, controller } = setup(cluster(['10.0.0.1']));
    controller.notify();
    clock.advance(5);
    await controller.settled();
    assert.equal(delivered.length, 1);
    clock.advance(1_000);
    source.current = cluster(['10.0.0.2']);
    controller.notify();
    clock.advance(4);
    await controller.settled();
    assert.equal(delivered.length, 1);
    clock.advance(1);
    await controller.settled();
    assert.equal(delivered.length, 2);
    assert.equal(delivered[1]!.pools[0]!.endpoints[0]!.address, '10.0.0.2');
  });

  it('delivers only when the snapshot changed', async () => {
    const { clock, source, delivered, controller } = setup(cluster(['10.0.0.1']));
    controller.notify();
    clock.advance(100);
    await controller.settled();
    // New objects, same content (a resync, an update that changes nothing).
    source.current = cluster(['10.0.0.1']);
    controller.notify();
    clock.advance(100);
    await controller.settled();
    assert.equal(controller.rebuilds, 2);
    assert.equal(delivered.length, 1);
    source.current = cluster(['10.0.0.2']);
    controller.notify();
    clock.advance(100);
    await controller.settled();
    assert.equal(delivered.length, 2);
  });

  it('keeps an Ingress on its last good annotations from one rebuild to the next', async () => {
    const { clock, source, delivered, controller } = setup(cluster(['10.0.0.1'], { 'wsgate.io/idle-timeout': '10m' }));
    controller.notify();
    clock.advance(100);
    await controller.settled();
    source.current = cluster(['10.0.0.2'], { 'wsgate.io/idle-timeout': 'banana' });
    controller.notify();
    clock.advance(100);
    await controller.settled();
    assert.equal(delivered.length, 2);
    assert.equal(delivered[1]!.pools[0]!.idleTimeout, '10m');
    assert.equal(delivered[1]!.pools[0]!.endpoints[0]!.address, '10.0.0.2');
    assert.ok(controller.diagnostics.some((d) => d.reason === 'InvalidAnnotation' && d.message.includes('banana')));
  });
});

describe('ClusterStore against the test API server', () => {
  let api: ApiServer;
  let dir: string;
  let kc: KubeConfig;

  before(async () => {
    api = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'wsgate-store-'));
    kc = new KubeConfig();
    kc.loadFromFile(await writeKubeconfig(dir, api));
    api.apply(ingressClass() as unknown as KubeObject);
    api.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'opaque', namespace: 'default' }, type: 'Opaque', data: { 'ca.crt': 'Y2E=', password: 'aHVudGVyMg==' } });
    api.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: 'default' }, type: 'kubernetes.io/service-account-token', data: { token: 'dA==', 'ca.crt': 'Y2E=' } });
    api.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'tls', namespace: 'default', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"tls.key":"YQ=="}}' } },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': 'YQ==', 'tls.key': 'YQ==', extra: 'eA==' },
    });
    api.apply({ ...(endpointSlice('chat', { endpoints: ['10.0.0.1'] }) as unknown as KubeObject) });
    api.apply({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'unowned', namespace: 'default' }, addressType: 'IPv4', endpoints: [] });
  });
  after(async () => {
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * Watches one ClusterStore opens: IngressClass, Ingress, Service, EndpointSlice, Secret (TLS),
   * Secret (Opaque), ConfigMap; and, the test API server serving the Gateway API, GatewayClass,
   * Gateway, HTTPRoute, ReferenceGrant, BackendTLSPolicy and Namespace.
   */
  const KINDS = 13;

  it('is synced only once every kind has listed, and lists only TLS and Opaque Secrets and Service slices', async () => {
    const clock = new FakeClock();
    let changes = 0;
    const store = new ClusterStore(kc, { clock });
    store.onChange(() => (changes += 1));
    assert.equal(store.synced(), false);
    store.start();
    await eventually(() => store.synced(), 'store synced');
    const r = store.resources();
    // Service-account tokens (and every other type) are never listed.
    assert.deepEqual(r.secrets.map((s) => s.metadata?.name), ['tls', 'opaque']);
    const [tls, opaque] = r.secrets;
    // Only what translate reads is cached: the pair of a TLS Secret, the CA of an Opaque one; no
    // annotation (last-applied-configuration repeats the key in clear).
    assert.deepEqual(tls!.data, { 'tls.crt': 'YQ==', 'tls.key': 'YQ==' });
    assert.equal(tls!.metadata?.annotations, undefined);
    assert.deepEqual(opaque!.data, { 'ca.crt': 'Y2E=' });
    assert.deepEqual(r.endpointSlices.map((s) => s.metadata?.name), ['chat-ipv4']);
    assert.ok(changes > 0);
    await store.stop();
  });

  it('reopens a watch the server ended after a long life at once, and backs off after a short one', async () => {
    // Watches of an earlier test's store must be gone, or the counts below would include them.
    await eventually(() => api.openWatches === 0, 'no watches left over');
    const clock = new FakeClock();
    const store = new ClusterStore(kc, { clock, watchNamespace: 'default' });
    store.onChange(() => {});
    store.start();
    await eventually(() => store.synced() && api.openWatches === KINDS, 'watches open');
    // The first reconnect is immediate anyway (client-node); the ones after it are what matter.
    api.endWatches();
    await eventually(() => api.openWatches === KINDS, 'watches reopened');
    // A short-lived watch ends: the reconnect waits on the clock.
    api.endWatches();
    await eventually(() => clock.pending >= KINDS, 'reconnects waiting');
    assert.equal(api.openWatches, 0);
    clock.advance(1_000);
    await eventually(() => api.openWatches >= KINDS, 'watches reopened after the delay');
    // A watch that lived long (here: 10 s on the fake clock) and then ended, as a server-side
    // timeout ends it: reopened without waiting, so a quiet kind's next change is not late.
    clock.advance(10_000);
    api.endWatches();
    await eventually(() => api.openWatches >= KINDS, 'watches reopened at once');
    api.apply(ingress('late', { host: 'late.example.test', paths: [{ path: '/', service: 'chat', port: 80 }] }) as unknown as KubeObject);
    await eventually(() => store.resources().ingresses.some((i) => i.metadata?.name === 'late'), 'the change seen');
    await store.stop();
  });

  it('restarts an informer after the server went away and catches up on what changed meanwhile', async () => {
    // Watches of an earlier test's store must be gone, or the counts below would include them.
    await eventually(() => api.openWatches === 0, 'no watches left over');
    const clock = new FakeClock();
    const store = new ClusterStore(kc, { clock, watchNamespace: 'default' });
    store.onChange(() => {});
    store.start();
    await eventually(() => store.synced() && api.openWatches === KINDS, 'watches open');
    await api.stop();
    await eventually(() => store.errors() >= KINDS && clock.pending >= KINDS, 'restarts scheduled');
    api.apply(ingress('while-away', { host: 'away.example.test', paths: [{ path: '/', service: 'chat', port: 80 }] }) as unknown as KubeObject);
    api.compact();
    await api.restart();
    clock.advance(250);
    await eventually(() => store.resources().ingresses.some((i) => i.metadata?.name === 'while-away'), 'the missed change seen (after a relist)', 15_000);
    assert.ok(store.synced());
    await store.stop();
  });

  it('elects one leader through the Lease, and another takes over once it stops renewing', async () => {
    const options = { namespace: 'default', name: 'wsgate-takeover', clock: systemClock, leaseDurationMs: 1000, renewIntervalMs: 100, retryIntervalMs: 100 };
    const a = new LeaderElector(kc, { ...options, identity: 'pod-a' });
    a.start();
    await eventually(() => a.leading, 'pod-a leads');
    const b = new LeaderElector(kc, { ...options, identity: 'pod-b' });
    b.start();
    // pod-b keeps trying while pod-a renews; it must not lead as long as pod-a does.
    await eventually(() => api.requests.filter((r) => r.resource === 'leases' && r.name === 'wsgate-takeover' && r.verb === 'get').length >= 6, 'several rounds');
    assert.equal(b.leading, false);
    await a.stop();
    await eventually(() => b.leading, 'pod-b takes over the expired Lease');
    const lease = api.get('Lease', 'default', 'wsgate-takeover')!['spec'] as { holderIdentity?: string; leaseTransitions?: number };
    assert.equal(lease.holderIdentity, 'pod-b');
    assert.equal(lease.leaseTransitions, 1);
    await b.stop();
  });
});

// Issue 10, bounded writes: Events and status patches go through one token bucket (--kube-api-qps,
// --kube-api-burst); a restart with nothing changed adds no Event; status is patched only where it
// differs. Against the test API server with real informers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../../../src/common/clock.ts';
import { startKubernetesController, type KubernetesController } from '../../../src/providers/kubernetes/assemble.ts';
import { TokenBucket } from '../../../src/providers/kubernetes/writers/rate-limit.ts';
import { startApiServer, type ApiServer, type KubeObject } from '../../support/apiserver.ts';
import { writeKubeconfig } from '../../support/kubeconfig.ts';
import { endpointSlice, ingress, ingressClass, service } from '../../support/k8s.ts';
import { eventually } from '../../support/proxy.ts';

class ManualClock implements Clock {
  at = 0;
  timers: Array<{ at: number; fn: () => void }> = [];
  now(): number {
    return this.at;
  }
  after(ms: number, fn: () => void): TimerHandle {
    const timer = { at: this.at + ms, fn };
    this.timers.push(timer);
    return { cancel: () => (this.timers = this.timers.filter((t) => t !== timer)) };
  }
  async advance(ms: number): Promise<void> {
    const until = this.at + ms;
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      const due = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.at = due.at;
      due.fn();
    }
    this.at = until;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('TokenBucket', () => {
  it('lets a burst through at once, then qps per second', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, { qps: 10, burst: 3 });
    let done = 0;
    for (let i = 0; i < 13; i++) void bucket.take().then(() => (done += 1));
    await clock.advance(0);
    assert.equal(done, 3, 'the burst');
    await clock.advance(500);
    assert.equal(done, 8, '5 more in half a second at 10/s');
    await clock.advance(500);
    assert.equal(done, 13);
    // Quiet for a while: the bucket fills up to the burst again, not beyond.
    await clock.advance(10_000);
    for (let i = 0; i < 5; i++) void bucket.take().then(() => (done += 1));
    await clock.advance(0);
    assert.equal(done, 16);
  });
});

describe('the controller writes at a bounded rate, and only what changed', () => {
  const INGRESSES = 30;
  let api: ApiServer;
  let dir: string;
  let kc: KubeConfig;
  let running: KubernetesController | undefined;

  before(async () => {
    api = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'wsgate-writes-'));
    kc = new KubeConfig();
    kc.loadFromFile(await writeKubeconfig(dir, api));
    api.apply(ingressClass() as unknown as KubeObject);
    api.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'wsgate', namespace: 'ingress' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 443 }] } });
    for (let i = 0; i < INGRESSES; i++) {
      const name = `app-${i}`;
      for (const object of [service(name), endpointSlice(name, { endpoints: ['10.0.0.1'] }), ingress(name, { host: `${name}.example.test`, paths: [{ path: '/', service: name, port: 80 }] })]) {
        api.apply(object as unknown as KubeObject);
      }
    }
  });
  after(async () => {
    await running?.stop();
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const start = (): KubernetesController =>
    (running = startKubernetesController(
      kc,
      { ingressClass: 'wsgate', electionNamespace: 'ingress', identity: 'writes-test', publishService: 'ingress/wsgate', writeLimit: { qps: 10, burst: 5 } },
      { accept: () => {}, refuse: () => {} },
    ));
  const writes = (): number => api.requests.filter((r) => (r.resource === 'events' && (r.verb === 'create' || r.verb === 'patch')) || (r.resource === 'ingresses' && r.subresource === 'status')).length;
  const syncEvents = (): KubeObject[] => api.list('Event', 'default').filter((e) => e['reason'] === 'Sync');

  it('a start with 30 Ingresses (30 Sync Events + 30 status patches) never writes faster than burst + qps x elapsed', async () => {
    const controller = start();
    await eventually(() => controller.ready() && controller.leader.leading, 'leading and serving', 10_000);
    const started = performance.now();
    let peakExcess = -Infinity;
    while (syncEvents().length < INGRESSES || api.requests.filter((r) => r.subresource === 'status').length < INGRESSES) {
      const elapsed = (performance.now() - started) / 1000;
      // Writes sent before `started` count against this too, which only makes the bound stricter.
      peakExcess = Math.max(peakExcess, writes() - (5 + 10 * elapsed + 1));
      assert.ok(elapsed < 30, 'every write done in time');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(peakExcess <= 0, `writes ran ${peakExcess.toFixed(1)} ahead of the limit`);
    // 60 writes at 10/s after a burst of 5: at least 5 s; a generous lower bound shows the limit acts.
    assert.ok(controller.limiter.taken >= 2 * INGRESSES);
    assert.ok((performance.now() - started) / 1000 >= 3, 'the limit spread the writes out');
  });

  it('a restart with nothing changed creates no Event and patches no status', async () => {
    await running!.stop();
    running = undefined;
    const eventsBefore = JSON.stringify(api.list('Event', 'default').map((e) => [e['metadata'], e['count']]));
    api.clearRequests();
    const controller = start();
    await eventually(() => controller.ready() && controller.leader.leading, 'leading again', 10_000);
    // Long enough for every Event the new leader would write to have gone out at 10/s.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    await controller.events.idle();
    assert.equal(JSON.stringify(api.list('Event', 'default').map((e) => [e['metadata'], e['count']])), eventsBefore, 'no Event new or repeated');
    assert.equal(api.requests.filter((r) => r.subresource === 'status').length, 0, 'no status patch');
    assert.equal(api.requests.filter((r) => r.resource === 'events' && r.verb === 'patch').length, 0);
    // Not even a create answered 409: the Events already there were listed once, and left alone.
    assert.equal(api.requests.filter((r) => r.resource === 'events' && r.verb === 'create').length, 0, 'no Event create');
    assert.equal(controller.events.skipped, INGRESSES);
    assert.ok(api.requests.filter((r) => r.resource === 'events' && r.verb === 'list').length >= 1);
  });
});

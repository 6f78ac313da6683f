// translate with a TranslateMemo (what the controller keeps across rebuilds) after random changes
// to a cluster gives exactly what translating the cluster from scratch gives: snapshot, diagnostics
// and lastGood alike. Seeded, so a failing seed replays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1EndpointSlice, V1Ingress, V1IngressClass, V1Secret, V1Service } from '@kubernetes/client-node';
import { translate } from '../../src/translate/translate.ts';
import { TranslateMemo } from '../../src/translate/memo.ts';
import type { LastGoodState, Resources } from '../../src/translate/types.ts';
import { CERT_B, KEY_B, endpointSlice, ingress, ingressClass, service, tlsSecret, type PathSpec } from '../support/k8s.ts';

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVICES = ['s0', 's1', 's2'];
const INGRESSES = ['i0', 'i1', 'i2', 'i3', 'i4', 'i5'];

class World {
  readonly #random: () => number;
  #version = 0;
  ingresses = new Map<string, V1Ingress>();
  services = new Map<string, V1Service>();
  slices = new Map<string, V1EndpointSlice>();
  secrets = new Map<string, V1Secret>();
  classes = new Map<string, V1IngressClass>();

  constructor(seed: number) {
    this.#random = seeded(seed);
    for (const name of INGRESSES) this.ingress(name);
    for (const name of SERVICES) {
      this.service(name);
      this.slice(name);
    }
    this.secret('t0');
    this.secret('t1');
    this.classes.set('wsgate', ingressClass('wsgate'));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!;
  }

  chance(p: number): boolean {
    return this.#random() < p;
  }

  #rv(): string {
    this.#version += 1;
    return String(this.#version);
  }

  ingress(name: string): void {
    const paths: PathSpec[] = [];
    const count = 1 + Math.floor(this.#random() * 3);
    for (let i = 0; i < count; i += 1) {
      paths.push({ path: this.pick(['/', '/x', '/x/', '/y']), pathType: this.pick(['Prefix', 'Exact', 'ImplementationSpecific'] as const), service: this.pick([...SERVICES, 'gone']), port: this.pick([80, 81, 'http', 'web']) });
    }
    const annotations: Record<string, string> = {};
    if (this.chance(0.3)) annotations['wsgate.io/idle-timeout'] = this.pick(['30s', '5m', 'x']);
    if (this.chance(0.2)) annotations['wsgate.io/force-ssl-redirect'] = this.pick(['true', 'false']);
    if (this.chance(0.2)) annotations['wsgate.io/max-connections'] = this.pick(['10', '-1']);
    if (this.chance(0.1)) annotations['nginx.ingress.kubernetes.io/rewrite-target'] = '/';
    const object = ingress(name, {
      host: this.pick(['a.example.com', 'b.example.com', '*.example.com', undefined]),
      paths,
      created: this.pick(['2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z', '2024-01-03T00:00:00Z']),
      className: this.pick(['wsgate', 'wsgate', 'other', null]),
      ...(this.chance(0.3) ? { defaultBackend: { service: this.pick(SERVICES), port: this.pick([80, 'http']) } } : {}),
      ...(this.chance(0.3) ? { tls: [{ hosts: [this.pick(['a.example.com', 'b.example.com'])], secretName: this.pick(['t0', 't1', 'nope']) }] } : {}),
      annotations,
    });
    object.metadata!.resourceVersion = this.#rv();
    this.ingresses.set(name, object);
  }

  service(name: string): void {
    const ports = this.pick([[{ name: 'http', port: 80, targetPort: 8080 }], [{ name: 'web', port: 81 }], [{ name: 'http', port: 81 }, { name: 'web', port: 80 }]]);
    const object = service(name, { ports });
    object.metadata!.resourceVersion = this.#rv();
    this.services.set(name, object);
  }

  slice(name: string): void {
    const endpoints = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].filter(() => this.chance(0.6));
    const object = endpointSlice(name, { name: `${name}-a`, ports: [{ name: this.pick(['http', 'web']), port: this.pick([8080, 8081]) }], endpoints });
    object.metadata!.resourceVersion = this.#rv();
    this.slices.set(name, object);
  }

  secret(name: string): void {
    const object = this.chance(0.5) ? tlsSecret(name) : tlsSecret(name, { cert: CERT_B, key: KEY_B });
    object.metadata!.resourceVersion = this.#rv();
    this.secrets.set(name, object);
  }

  /** One random change, as the API server would make it: a new object (or one gone). */
  change(): void {
    const what = this.pick(['ingress', 'ingress', 'ingress', 'delete', 'service', 'slice', 'secret', 'class']);
    if (what === 'ingress') this.ingress(this.pick(INGRESSES));
    else if (what === 'delete') this.ingresses.delete(this.pick(INGRESSES));
    else if (what === 'service') {
      const name = this.pick(SERVICES);
      if (this.chance(0.2)) this.services.delete(name);
      else this.service(name);
    } else if (what === 'slice') this.slice(this.pick(SERVICES));
    else if (what === 'secret') {
      const name = this.pick(['t0', 't1']);
      if (this.chance(0.2)) this.secrets.delete(name);
      else this.secret(name);
    } else if (this.classes.has('other')) this.classes.delete('other');
    else this.classes.set('other', ingressClass('other', { isDefault: this.chance(0.5) }));
  }

  resources(): Resources {
    return {
      ingressClasses: [...this.classes.values()],
      ingresses: [...this.ingresses.values()],
      services: [...this.services.values()],
      endpointSlices: [...this.slices.values()],
      secrets: [...this.secrets.values()],
    };
  }
}

function rendered(result: ReturnType<typeof translate>): string {
  return JSON.stringify({ snapshot: result.snapshot, diagnostics: result.diagnostics, lastGood: [...result.lastGood.policies].sort(([a], [b]) => (a < b ? -1 : 1)) });
}

test('translating incrementally with a memo after random changes equals translating from scratch', () => {
  let reused = 0;
  for (let seed = 1; seed <= 40; seed += 1) {
    const world = new World(seed);
    const memo = new TranslateMemo();
    let lastGoodMemo: LastGoodState | undefined;
    let lastGoodScratch: LastGoodState | undefined;
    for (let step = 0; step < 40; step += 1) {
      const input = world.resources();
      const incremental = translate(input, { memo, ...(lastGoodMemo === undefined ? {} : { lastGood: lastGoodMemo }) });
      const scratch = translate(input, lastGoodScratch === undefined ? {} : { lastGood: lastGoodScratch });
      assert.equal(rendered(incremental), rendered(scratch), `seed ${seed}, step ${step}`);
      lastGoodMemo = incremental.lastGood;
      lastGoodScratch = scratch.lastGood;
      world.change();
    }
    reused += memo.stats.reused;
  }
  // The memo was used at all (else this test would compare scratch with scratch).
  assert.ok(reused > 1000, `reused ${reused}`);
});

test('an unchanged Ingress gives the very same frozen routes and pools; a changed Service gives new ones', () => {
  const world = new World(7);
  for (const name of INGRESSES) {
    world.ingresses.set(name, ingress(name, { host: `${name}.example.com`, paths: [{ service: 's0', port: 'http' }], namespace: 'default' }));
  }
  world.ingresses.set('i1', ingress('i1', { host: 'i1.example.com', paths: [{ service: 's1', port: 'http' }] }));
  world.ingresses.set('i2', ingress('i2', { host: 'i2.example.com', paths: [{ service: 's0', port: 'http' }], tls: [{ secretName: 't0' }] }));
  world.secrets.set('t0', tlsSecret('t0'));
  world.services.set('s0', service('s0'));
  world.services.set('s1', service('s1'));
  world.classes.set('wsgate', ingressClass('wsgate'));
  const memo = new TranslateMemo();
  const first = translate(world.resources(), { memo }).snapshot;
  world.services.set('s1', service('s1', { ports: [{ name: 'http', port: 81 }] }));
  const second = translate(world.resources(), { memo }).snapshot;
  const route = (snapshot: typeof first, host: string) => snapshot.routes.find((r) => r.host === host)!;
  const pool = (snapshot: typeof first, host: string) => snapshot.pools.find((p) => p.name === route(snapshot, host).pool)!;
  assert.equal(route(second, 'i0.example.com'), route(first, 'i0.example.com'));
  assert.equal(pool(second, 'i0.example.com'), pool(first, 'i0.example.com'));
  assert.ok(Object.isFrozen(route(first, 'i0.example.com')) && Object.isFrozen(pool(first, 'i0.example.com').endpoints));
  assert.notEqual(route(second, 'i1.example.com'), route(first, 'i1.example.com'));
  assert.equal(route(second, 'i1.example.com').pool, 'default/i1/s1:81');
  assert.equal(second.tls?.certificates?.[0], first.tls?.certificates?.[0]);
  assert.ok(first.tls?.certificates?.[0] !== undefined && Object.isFrozen(first.tls.certificates[0]));
  world.secrets.set('t0', tlsSecret('t0', { cert: CERT_B, key: KEY_B }));
  const third = translate(world.resources(), { memo }).snapshot;
  assert.notEqual(third.tls?.certificates?.[0], first.tls?.certificates?.[0]);
  assert.equal(third.tls?.certificates?.[0]?.cert, CERT_B);
});

// Scale: 1,000 and 10,000 Ingresses with 10 endpoints each translate completely. The time is
// printed for the record (no timed assertion; `npm run bench` measures).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translate } from '../../src/translate/translate.ts';
import { syntheticCluster } from '../support/k8s.ts';

for (const count of [1_000, 10_000]) {
  test(`${count} Ingresses with 10 endpoints each`, (t) => {
    const cluster = syntheticCluster(count, 10);
    const started = performance.now();
    const { snapshot, diagnostics } = translate(cluster);
    const elapsed = performance.now() - started;
    t.diagnostic(`translate(${count} Ingresses x 10 endpoints): ${elapsed.toFixed(0)} ms`);
    assert.equal(snapshot.routes.length, count);
    assert.equal(snapshot.pools.length, count);
    assert.ok(snapshot.pools.every((pool) => pool.endpoints.length === 10 && pool.endpoints.every((e) => e.state === 'ready')));
    assert.equal(snapshot.tls?.certificates?.reduce((hosts, c) => hosts + c.hosts.length, 0), count);
    assert.deepEqual(new Set(diagnostics.map((d) => d.reason)), new Set(['Sync']));
  });
}

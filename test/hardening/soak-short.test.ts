// The short version of `npm run soak`: a few reloads under live connections, one round of faults,
// one round of the Kubernetes side (about 15 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { soakFaults } from '../../soak/faults.ts';
import { soakHeaderTimeout } from '../../soak/header-timeout.ts';
import { soakKubernetes } from '../../soak/kubernetes.ts';
import { soakReloads } from '../../soak/reloads.ts';

test('soak (short): reloads under live connections lose nothing and drop nothing', async () => {
  const report = await soakReloads(60, 20);
  assert.equal(report.reloads, 60);
  assert.ok(report.sent > 0);
  assert.equal(report.lost, 0, JSON.stringify(report));
  assert.equal(report.dropped, 0, JSON.stringify(report));
  assert.ok(report.servingAfterReloads);
});

test('soak (short): upstream SIGKILL, silence, garbage and reset get 1014 / 504 / 502 / 502, others keep being served', async () => {
  const report = await soakFaults(1, 3);
  assert.deepEqual(report.unexpected, []);
  assert.equal(report.faults, 6);
  assert.equal(report.healthyEchoes, 1);
});

test('soak (short): 40 slowloris connections (silent, dripping, over TLS) are all cut near the header timeout; the proxy keeps serving', async () => {
  const report = await soakHeaderTimeout(10, 2000);
  assert.equal(report.connections, 40);
  assert.equal(report.neverCut, 0, JSON.stringify(report));
  // Generous for a loaded test machine (the defect held them about twice the timeout); the 10%
  // bound is what the full soak checks.
  assert.ok(report.maxMs <= report.timeoutMs * 1.5, JSON.stringify(report));
  assert.ok(report.servingDuring);
});

test('soak (short): API server restart, 410 Gone, watch drop, a burst and a controller SIGKILL lose nothing; every change arrives', async () => {
  const report = await soakKubernetes(1, 5, 1000, 1);
  assert.deepEqual(report.failures, []);
  assert.equal(report.apiRestarts, 1);
  assert.equal(report.controllerKills, 1);
  assert.equal(report.burstObjects, 1000);
  assert.ok(report.relistsAfterGone > 0, 'the 410 made the controller relist');
  assert.equal(report.changesApplied, report.changes, JSON.stringify(report));
  assert.ok(report.sent > 0);
  assert.equal(report.lost, 0, JSON.stringify(report));
  assert.equal(report.dropped, 0, JSON.stringify(report));
});

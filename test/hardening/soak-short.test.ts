// The short version of `npm run soak`: a few reloads under live connections, one round of faults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { soakFaults } from '../../soak/faults.ts';
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

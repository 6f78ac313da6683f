// The short version of `npm run fuzz`: a few seconds of hostile heads and frame sequences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCampaign } from '../../fuzz/campaign.ts';

test('fuzz (short): wsgate stays up, answers only SPEC statuses, relays every frame byte intact', async () => {
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const report = await runCampaign({ seed, seconds: 4, maxHeads: 400, maxFrameCases: 60 });
  console.log(`fuzz-short seed ${seed} (replay with FUZZ_SEED=${seed}): ${report.heads} heads, ${report.frameCases} frame sequences, ${report.bytesRelayed} bytes`);
  assert.deepEqual(report.failures, [], `seed ${seed}`);
  assert.ok(report.heads > 0 && report.frameCases > 0 && report.controlEchoes > 0);
});

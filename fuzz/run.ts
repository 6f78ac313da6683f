// `npm run fuzz`: a few minutes of hostile heads and frame sequences against a real wsgate.
// FUZZ_SECONDS bounds the time (default 180), FUZZ_SEED replays a run.
import { runCampaign } from './campaign.ts';

const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const seconds = Number(process.env.FUZZ_SECONDS ?? 180);
console.log(`fuzz seed ${seed} (replay with FUZZ_SEED=${seed}), ${seconds} s`);
const report = await runCampaign({ seed, seconds, maxHeads: 20_000, maxFrameCases: 20_000, log: (line) => console.log(line) });
console.log(JSON.stringify(report, null, 2));
if (report.failures.length > 0) {
  console.error(`${report.failures.length} failures; replay with FUZZ_SEED=${seed}`);
  process.exitCode = 1;
}

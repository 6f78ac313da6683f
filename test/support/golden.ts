// One golden stage: every `<case><inputSuffix>` in a folder, run through `run`, against its
// `<case><outputSuffix>`. UPDATE_GOLDEN=1 rewrites the outputs; the diff is then reviewed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

export interface GoldenStage {
  name: string;
  folder: URL;
  inputSuffix: string;
  outputSuffix: string;
  minimumCases: number;
  run(input: string): string;
}

export function goldenStage(stage: GoldenStage): void {
  const update = process.env.UPDATE_GOLDEN === '1';
  const cases = readdirSync(stage.folder)
    .filter((file) => file.endsWith(stage.inputSuffix))
    .map((file) => file.slice(0, -stage.inputSuffix.length))
    .sort();
  test(`there are ${stage.name} cases`, () => {
    assert.ok(cases.length >= stage.minimumCases, `only ${cases.length} ${stage.name} cases`);
  });
  for (const name of cases) {
    test(`${stage.name}: ${name}`, () => {
      const actual = stage.run(readFileSync(new URL(`${name}${stage.inputSuffix}`, stage.folder), 'utf8'));
      const outFile = new URL(`${name}${stage.outputSuffix}`, stage.folder);
      if (update) {
        writeFileSync(outFile, actual);
        return;
      }
      let expected: string;
      try {
        expected = readFileSync(outFile, 'utf8');
      } catch {
        assert.fail(`${name}${stage.outputSuffix} is missing; run with UPDATE_GOLDEN=1 and review it`);
      }
      assert.equal(actual, expected);
    });
  }
}

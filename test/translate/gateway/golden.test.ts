// Gateway API golden files: test/translate/gateway/golden/<case>.in.yaml (Kubernetes objects,
// Ingress and Gateway API kinds alike) against <case>.out.json: the snapshot, the diagnostics
// and the Gateway API status the leader would write. UPDATE_GOLDEN=1 rewrites the outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { translate } from '../../../src/translate/translate.ts';
import { goldenStage } from '../../support/golden.ts';
import { gatewayResources } from '../../support/gateway.ts';
import { objectsFromYaml } from '../../support/k8s.ts';

const GOLDEN = new URL('./golden/', import.meta.url);

function runCase(yamlText: string): string {
  const { snapshot, diagnostics, gatewayStatuses } = translate(gatewayResources(objectsFromYaml(yamlText)));
  return `${JSON.stringify({ snapshot, diagnostics, status: gatewayStatuses }, null, 2)}\n`;
}

// The same objects in another order give the same bytes (STYLE.md habit 5).
test('gateway goldens: every case translates the same with its objects in reverse order', () => {
  for (const file of readdirSync(GOLDEN).filter((f) => f.endsWith('.in.yaml'))) {
    const documents = objectsFromYaml(readFileSync(new URL(file, GOLDEN), 'utf8'));
    const forward = translate(gatewayResources(documents));
    const backward = translate(gatewayResources([...documents].reverse()));
    assert.deepEqual({ ...backward, lastGood: undefined }, { ...forward, lastGood: undefined }, file);
  }
});

goldenStage({ name: 'gateway golden', folder: GOLDEN, inputSuffix: '.in.yaml', outputSuffix: '.out.json', minimumCases: 10, run: runCase });

// Golden files: test/golden/<case>.in.yaml (Kubernetes objects, multi-document) against
// <case>.out.json (snapshot + diagnostics). UPDATE_GOLDEN=1 rewrites the .out.json files; review
// the diff. A document `apiVersion: golden.wsgate.io/v1, kind: Options` sets translate()'s options
// (ingressClass, defaultCertSecret) and `previous`: objects translated first, whose lastGood the
// case starts from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { translate } from '../../src/translate/translate.ts';
import type { TranslateOptions } from '../../src/translate/types.ts';
import { kubernetesObject, objectsFromYaml, resources } from '../support/k8s.ts';

const GOLDEN = new URL('./golden/', import.meta.url);
const UPDATE = process.env.UPDATE_GOLDEN === '1';

interface GoldenOptions {
  ingressClass?: string;
  defaultCertSecret?: string;
  previous?: Record<string, unknown>[];
}

function runCase(yamlText: string): string {
  const documents = objectsFromYaml(yamlText);
  const optionsDocument = documents.find((d) => d.apiVersion === 'golden.wsgate.io/v1') as GoldenOptions | undefined;
  const objects = documents.filter((d) => d.apiVersion !== 'golden.wsgate.io/v1').map(kubernetesObject);
  const options: TranslateOptions = {};
  if (optionsDocument?.ingressClass !== undefined) options.ingressClass = optionsDocument.ingressClass;
  if (optionsDocument?.defaultCertSecret !== undefined) options.defaultCertSecret = optionsDocument.defaultCertSecret;
  if (optionsDocument?.previous !== undefined) {
    options.lastGood = translate(resources(...optionsDocument.previous.map(kubernetesObject)), options).lastGood;
  }
  const { snapshot, diagnostics } = translate(resources(...objects), options);
  return `${JSON.stringify({ snapshot, diagnostics }, null, 2)}\n`;
}

const cases = readdirSync(GOLDEN).filter((file) => file.endsWith('.in.yaml')).map((file) => file.slice(0, -'.in.yaml'.length)).sort();

test('there are golden cases', () => {
  assert.ok(cases.length >= 12, `only ${cases.length} golden cases`);
});

for (const name of cases) {
  test(`golden: ${name}`, () => {
    const actual = runCase(readFileSync(new URL(`${name}.in.yaml`, GOLDEN), 'utf8'));
    const outFile = new URL(`${name}.out.json`, GOLDEN);
    if (UPDATE) {
      writeFileSync(outFile, actual);
      return;
    }
    let expected: string;
    try {
      expected = readFileSync(outFile, 'utf8');
    } catch {
      assert.fail(`${name}.out.json is missing; run with UPDATE_GOLDEN=1 and review it`);
    }
    assert.equal(actual, expected);
  });
}

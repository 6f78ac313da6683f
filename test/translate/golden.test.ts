// Golden files: test/golden/<case>.in.yaml (Kubernetes objects, multi-document) against
// <case>.out.json (snapshot + diagnostics). UPDATE_GOLDEN=1 rewrites the .out.json files; review
// the diff. A document `apiVersion: golden.wsgate.io/v1, kind: Options` sets translate()'s options
// (ingressClass, defaultCertSecret) and `previous`: objects translated first, whose lastGood the
// case starts from.
import { translate } from '../../src/translate/translate.ts';
import type { TranslateOptions } from '../../src/translate/types.ts';
import { kubernetesObject, objectsFromYaml, resources } from '../support/k8s.ts';
import { goldenStage } from '../support/golden.ts';

const GOLDEN = new URL('./golden/', import.meta.url);

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

goldenStage({ name: 'golden', folder: GOLDEN, inputSuffix: '.in.yaml', outputSuffix: '.out.json', minimumCases: 12, run: runCase });

// manifests/ is the chart's default install for `kubectl apply -f manifests/` or `-k manifests/`,
// and must stay what the chart renders: a chart change without regenerating fails here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parse } from 'yaml';
import { defaultRelease, manifestFiles, manifestsDir, parseObjects, renderChart } from '../helm/render.ts';
import { kubeObjectProblems } from '../helm/kube-validate.ts';

const regenerate = 'run `npx node test/helm/render.ts --write-manifests`';
const onDisk = readdirSync(manifestsDir).sort();
/** The files `kubectl apply -f DIR` reads: those with these extensions, in name order. */
const appliedByKubectl = onDisk.filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f)));

describe('manifests/', () => {
  it('is identical to a fresh render of the chart with default values', () => {
    const expected = manifestFiles(renderChart());
    assert.deepEqual(onDisk, [...expected.keys()].sort(), regenerate);
    for (const [name, content] of expected) {
      assert.equal(readFileSync(join(manifestsDir, name), 'utf8'), content, `manifests/${name} differs: ${regenerate}`);
    }
  });

  it('holds only Kubernetes objects that the API schemas accept in the files kubectl applies', () => {
    const objects = appliedByKubectl.flatMap((f) => parseObjects(readFileSync(join(manifestsDir, f), 'utf8'), f));
    assert.ok(objects.length >= 10);
    assert.deepEqual(objects.flatMap((o) => kubeObjectProblems(o)), []);
  });

  it('creates the namespace before anything in it', () => {
    const first = parseObjects(readFileSync(join(manifestsDir, appliedByKubectl[0] as string), 'utf8'), 'first');
    assert.deepEqual(first.map((o) => [o.kind, o.metadata.name]), [['Namespace', defaultRelease.namespace]]);
    const rest = appliedByKubectl.slice(1).flatMap((f) => parseObjects(readFileSync(join(manifestsDir, f), 'utf8'), f));
    for (const o of rest) assert.ok(o.metadata.namespace === undefined || o.metadata.namespace === defaultRelease.namespace, `${o.kind} ${o.metadata.name}`);
  });

  it('has a Kustomization listing exactly the files kubectl applies', () => {
    const k = parse(readFileSync(join(manifestsDir, 'Kustomization'), 'utf8')) as { kind: string; resources: string[] };
    assert.equal(k.kind, 'Kustomization');
    assert.deepEqual([...k.resources].sort(), appliedByKubectl);
  });
});

// manifests/ is the chart's default install for `kubectl apply -f manifests/` or `-k manifests/`,
// and must stay what the chart renders: a chart change without regenerating fails here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, relative } from 'node:path';
import { parse } from 'yaml';
import {
  defaultRelease, manifestFiles, manifestsDir, manifestsValues, monitoringManifestFiles, monitoringManifestsDir, monitoringValues, parseObjects, renderChart,
} from '../helm/render.ts';
import { kubeObjectProblems } from '../helm/kube-validate.ts';

const regenerate = 'run `npx node test/helm/render.ts --write-manifests`';
const onDisk = readdirSync(manifestsDir).filter((f) => statSync(join(manifestsDir, f)).isFile()).sort();
/** The files `kubectl apply -f DIR` reads: those with these extensions, in name order. */
const appliedByKubectl = onDisk.filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f)));

describe('manifests/', () => {
  it('is identical to a fresh render of the chart with default values (the affinity key Secret left to the user)', () => {
    const expected = manifestFiles(renderChart({ values: manifestsValues }));
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

describe('manifests/ and manifests/monitoring/ without Helm', () => {
  it('carry no helm.sh/chart or managed-by: Helm label (nothing manages them as a Helm release)', () => {
    for (const [dir, files] of [[manifestsDir, onDisk], [monitoringManifestsDir, readdirSync(monitoringManifestsDir)]] as const) {
      for (const f of files) {
        const text = readFileSync(join(dir, f), 'utf8');
        assert.doesNotMatch(text, /helm\.sh\/chart|managed-by: Helm/, `${dir}/${f}`);
      }
    }
    const objects = appliedByKubectl.flatMap((f) => parseObjects(readFileSync(join(manifestsDir, f), 'utf8'), f));
    assert.ok(objects.every((o) => o.metadata.labels?.['app.kubernetes.io/part-of'] === 'wsgate' || o.kind === 'Namespace'));
  });
});

describe('manifests/monitoring/ (kustomize Component)', () => {
  const files = readdirSync(monitoringManifestsDir).sort();

  it('is identical to the chart rendered with the ServiceMonitor, PrometheusRule and dashboard on', () => {
    const expected = monitoringManifestFiles(renderChart({ values: monitoringValues }));
    assert.deepEqual(files, [...expected.keys()].sort(), regenerate);
    for (const [name, content] of expected) {
      assert.equal(readFileSync(join(monitoringManifestsDir, name), 'utf8'), content, `manifests/monitoring/${name} differs: ${regenerate}`);
    }
  });

  it('is a Component listing the three monitoring objects, valid against the Operator\'s schemas', () => {
    const k = parse(readFileSync(join(monitoringManifestsDir, 'kustomization.yaml'), 'utf8')) as { apiVersion: string; kind: string; resources: string[] };
    assert.deepEqual([k.apiVersion, k.kind], ['kustomize.config.k8s.io/v1alpha1', 'Component']);
    const objects = k.resources.flatMap((f) => parseObjects(readFileSync(join(monitoringManifestsDir, f), 'utf8'), f));
    assert.deepEqual(objects.map((o) => o.kind).sort(), ['ConfigMap', 'PrometheusRule', 'ServiceMonitor']);
    assert.deepEqual(objects.flatMap((o) => kubeObjectProblems(o)), []);
    for (const o of objects) assert.equal(o.metadata.namespace, defaultRelease.namespace);
    // The ServiceMonitor selects the metrics Service of manifests/.
    const metricsService = parseObjects(readFileSync(join(manifestsDir, 'service-metrics.yaml'), 'utf8'), 'service-metrics.yaml')[0]!;
    const sm = objects.find((o) => o.kind === 'ServiceMonitor') as unknown as { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { honorLabels: boolean }[] } };
    for (const [key, value] of Object.entries(sm.spec.selector.matchLabels)) assert.equal(metricsService.metadata.labels?.[key], value, key);
    assert.ok(sm.spec.endpoints.every((e) => e.honorLabels));
  });

  const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));
  it('builds with kustomize next to manifests/, as a user\'s overlay would use it', { skip: kubectl ? false : 'kubectl not installed' }, () => {
    const overlay = mkdtempSync(join(tmpdir(), 'wsgate-overlay-'));
    try {
      writeFileSync(join(overlay, 'kustomization.yaml'), `resources:\n  - ${relative(overlay, manifestsDir)}\ncomponents:\n  - ${relative(overlay, monitoringManifestsDir)}\n`);
      const out = execFileSync(kubectl as string, ['kustomize', overlay], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const kinds = parseObjects(out, 'kustomize').map((o) => o.kind);
      for (const k of ['Deployment', 'ServiceMonitor', 'PrometheusRule', 'ConfigMap']) assert.ok(kinds.includes(k), k);
    } finally {
      rmSync(overlay, { recursive: true, force: true });
    }
  });
});

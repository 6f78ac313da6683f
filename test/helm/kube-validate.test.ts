// The validator must catch what `kubectl apply` would refuse, or the chart tests prove nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kubeObjectProblems } from './kube-validate.ts';

function deployment(container: Record<string, unknown>, podExtra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x', namespace: 'n', labels: { app: 'x' } },
    spec: {
      selector: { matchLabels: { app: 'x' } },
      template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i', ...container }], ...podExtra } },
    },
  };
}

describe('kubeObjectProblems', () => {
  it('accepts a valid object', () => {
    assert.deepEqual(kubeObjectProblems(deployment({ ports: [{ name: 'http', containerPort: 8080 }], resources: { limits: { memory: '1Gi' } } })), []);
  });

  it('reports a value of the wrong type with its path', () => {
    const problems = kubeObjectProblems(deployment({ securityContext: { runAsNonRoot: 'yes' } }));
    assert.equal(problems.length, 1);
    assert.match(problems[0] as string, /\/spec\/template\/spec\/containers\/0\/securityContext\/runAsNonRoot must be boolean/);
  });

  it('reports a misspelled field that the schema alone would let through', () => {
    const problems = kubeObjectProblems(deployment({ readinesProbe: { httpGet: { path: '/readyz', port: 9090 } } }, { automountServiceAcountToken: false }));
    assert.deepEqual(problems.sort(), [
      'Deployment x: unknown field /spec/template/spec/automountServiceAcountToken',
      'Deployment x: unknown field /spec/template/spec/containers/0/readinesProbe/httpGet/path',
      'Deployment x: unknown field /spec/template/spec/containers/0/readinesProbe/httpGet/port',
    ]);
  });

  it('reports a kind it has no schema for instead of passing it', () => {
    assert.deepEqual(kubeObjectProblems({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }), ['Widget w: no schema for example.com/v1 Widget']);
  });

  it('checks Prometheus Operator kinds against their CRD fields', () => {
    const sm = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 's' }, spec: { selector: { matchLabels: { a: 'b' } }, endpoints: [{ port: 'metrics', interval: '30s' }] } };
    assert.deepEqual(kubeObjectProblems(sm), []);
    const typo = structuredClone(sm) as { spec: { endpoints: Record<string, unknown>[] } };
    typo.spec.endpoints[0] = { port: 'metrics', intervall: '30s' };
    assert.equal(kubeObjectProblems(typo).length, 1);
    const badDuration = structuredClone(sm) as { spec: { endpoints: Record<string, unknown>[] } };
    badDuration.spec.endpoints[0] = { port: 'metrics', interval: '30 s' };
    assert.equal(kubeObjectProblems(badDuration).length, 1);
  });
});

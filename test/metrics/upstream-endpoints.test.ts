// Issue 11, defect 2: wsgate_upstream_endpoints counts an endpoint of a Service once, however
// many Ingresses (each with a pool of its own) route to it. Through translate() and a real
// proxy process, read from its /metrics as Prometheus would.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { translate } from '../../src/translate/translate.ts';
import { endpointSlice, ingress, ingressClass, resources, service } from '../support/k8s.ts';
import { metricValue, scrape, startTestProxy, type TestProxy } from '../support/proxy.ts';

const INGRESSES = 6;
let running: TestProxy;

before(async () => {
  const cluster = resources(
    ingressClass(),
    service('chat', { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'admin', port: 81, targetPort: 8081 }] }),
    endpointSlice('chat', {
      ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 8081 }],
      endpoints: [
        { address: '10.0.0.1', ready: true, pod: 'chat-a' },
        { address: '10.0.0.2', ready: true, pod: 'chat-b' },
      ],
    }),
    // Six Ingresses on one Service, one of them on its second port too.
    ...Array.from({ length: INGRESSES }, (_, i) =>
      ingress(`chat-${i}`, { host: `chat-${i}.example.test`, paths: [{ path: '/ws', service: 'chat', port: 80 }, ...(i === 0 ? [{ path: '/admin', service: 'chat', port: 81 }] : [])] }),
    ),
  );
  const { snapshot } = translate(cluster, { ingressClass: 'wsgate' });
  // The premise: several pools for the one Service.
  assert.ok(snapshot.pools.filter((p) => p.source?.service === 'chat').length >= INGRESSES, JSON.stringify(snapshot.pools.map((p) => p.name)));
  running = await startTestProxy(snapshot);
});

after(() => running.close());

test('a Service with 2 endpoints behind 6 Ingresses reports 2 ready endpoints, not 12', async () => {
  const text = await scrape(running.adminPort);
  assert.equal(metricValue(text, 'wsgate_upstream_endpoints', { namespace: 'default', service: 'chat', state: 'ready' }), 2);
  for (const state of ['not_ready', 'terminating', 'ejected']) {
    assert.equal(metricValue(text, 'wsgate_upstream_endpoints', { namespace: 'default', service: 'chat', state }), 0, state);
  }
});

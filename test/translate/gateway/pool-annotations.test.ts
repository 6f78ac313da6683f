// The wsgate.io/ pool annotations mean the same on an HTTPRoute as on an Ingress (issue 14):
// rebalance, drain-spread, per-endpoint caps and cookie affinity reach the HTTPRoute's pool too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translate } from '../../../src/translate/translate.ts';
import { gateway, gatewayClass, gatewayResources, httpRoute } from '../../support/gateway.ts';
import { endpointSlice, ingress, ingressClass, service } from '../../support/k8s.ts';

const ANNOTATIONS = {
  'wsgate.io/rebalance': 'true',
  'wsgate.io/rebalance-rate': '2',
  'wsgate.io/drain-spread': '10s',
  'wsgate.io/max-connections-per-endpoint': '50',
  'wsgate.io/affinity': 'cookie',
  'wsgate.io/session-cookie-name': 'PIN',
};

const LONG_LIVED_POOL_FIELDS = ['rebalance', 'rebalanceRate', 'drainSpread', 'maxConnectionsPerEndpoint', 'affinity'] as const;

test('HTTPRoute and Ingress with the same pool annotations get the same pool fields', () => {
  const documents = [
    ingressClass(),
    service('chat'),
    endpointSlice('chat', { endpoints: ['10.0.0.1'] }),
    ingress('chat', { host: 'ingress.example.test', annotations: ANNOTATIONS, paths: [{ path: '/', service: 'chat', port: 80 }] }),
    gatewayClass(),
    gateway('gw'),
    httpRoute('chat', { hostnames: ['route.example.test'], annotations: ANNOTATIONS }),
  ] as unknown as Record<string, unknown>[];
  const { snapshot } = translate(gatewayResources(documents));
  const fromIngress = snapshot.pools.find((p) => !p.name.startsWith('httproute/'));
  const fromRoute = snapshot.pools.find((p) => p.name.startsWith('httproute/'));
  assert.ok(fromIngress && fromRoute, JSON.stringify(snapshot.pools.map((p) => p.name)));
  const fields = (pool: typeof fromIngress) => Object.fromEntries(LONG_LIVED_POOL_FIELDS.map((key) => [key, pool[key]]));
  assert.deepEqual(fields(fromRoute), fields(fromIngress));
  assert.equal(fromRoute.rebalance, true);
  assert.equal(fromRoute.affinity?.cookieName, 'PIN');
});

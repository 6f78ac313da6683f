// Gateway API status the leader writes, through the test API server's /status subresources:
// BackendTLSPolicy status.ancestors (ancestorRef = the Gateway the targeted Service is reached
// through, wsgate's controllerName, Accepted and ResolvedRefs with the API's reasons; another
// controller's entry kept; written only when it differs) and listener conflicts across Gateways
// (the older Gateway keeps the port + hostname, the newer listener is Conflicted).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { startKubernetesController, type KubernetesController } from '../../../src/providers/kubernetes/assemble.ts';
import type { Condition, PolicyAncestorStatus } from '../../../src/translate/gateway/types.ts';
import { startApiServer, type ApiServer, type KubeObject } from '../../support/apiserver.ts';
import { writeKubeconfig } from '../../support/kubeconfig.ts';
import { endpointSlice, service } from '../../support/k8s.ts';
import { gateway, gatewayClass, gatewayResources, httpRoute } from '../../support/gateway.ts';
import { gatewayStatusLines } from '../../../src/providers/kubernetes/gateway/list-once.ts';
import { translate } from '../../../src/translate/translate.ts';
import { makeCa } from '../../support/certs.ts';
import { eventually } from '../../support/proxy.ts';

const OTHER_CONTROLLER = 'example.com/other-gateway-controller';

function apply(api: ApiServer, ...objects: unknown[]): void {
  for (const object of objects) api.apply(object as KubeObject);
}

function tlsPolicy(name: string, serviceName: string, validation: Record<string, unknown>, status?: unknown): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1alpha3',
    kind: 'BackendTLSPolicy',
    metadata: { name, namespace: 'default' },
    spec: { targetRefs: [{ group: '', kind: 'Service', name: serviceName }], validation },
    ...(status === undefined ? {} : { status }),
  };
}

function condition(list: readonly Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}

describe('Gateway API status written by the leader', () => {
  let api: ApiServer;
  let dir: string;
  let running: KubernetesController | undefined;

  const ancestors = (name: string): PolicyAncestorStatus[] => ((api.get('BackendTLSPolicy', 'default', name)?.['status'] as { ancestors?: PolicyAncestorStatus[] } | undefined)?.ancestors ?? []);
  const ours = (name: string): PolicyAncestorStatus[] => ancestors(name).filter((a) => a.controllerName === 'wsgate.io/gateway-controller');

  before(async () => {
    api = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'wsgate-gateway-status-'));
    const kc = new KubeConfig();
    kc.loadFromFile(await writeKubeconfig(dir, api));
    apply(api, gatewayClass(), gateway('gw'), service('secure', { ports: [{ name: 'https', port: 443 }] }), endpointSlice('secure', { ports: [{ name: 'https', port: 8443 }], endpoints: ['10.0.0.9'] }));
    apply(api, httpRoute('secure', { rules: [{ backendRefs: [{ name: 'secure', port: 443 }] }] }));
    // A ConfigMap that does not exist yet; another controller already reports on the policy.
    const foreign = { ancestorRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'default', name: 'theirs' }, controllerName: OTHER_CONTROLLER, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'theirs', lastTransitionTime: '2024-01-01T00:00:00Z' }] };
    apply(api, tlsPolicy('secure', 'secure', { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'secure-ca' }], hostname: 'secure.example.test' }, { ancestors: [foreign] }));
    running = startKubernetesController(kc, { ingressClass: 'wsgate', electionNamespace: 'default', identity: 'gateway-status', leader: { renewIntervalMs: 100 }, statusResyncMs: 200 }, { accept: () => {}, refuse: () => {} });
    const controller = running;
    await eventually(() => controller.ready() && controller.leader.leading, 'leading and serving');
  });

  after(async () => {
    await running?.stop();
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('BackendTLSPolicy: a missing CA ConfigMap is ResolvedRefs=False InvalidCACertificateRef, Accepted=False NoValidCACertificate, on the Gateway ancestor', async () => {
    await eventually(() => ours('secure').length === 1, 'wsgate\'s ancestor written');
    const [entry] = ours('secure');
    assert.deepEqual(entry!.ancestorRef, { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'default', name: 'gw' });
    assert.equal(condition(entry!.conditions, 'ResolvedRefs')?.reason, 'InvalidCACertificateRef');
    assert.equal(condition(entry!.conditions, 'ResolvedRefs')?.status, 'False');
    assert.equal(condition(entry!.conditions, 'Accepted')?.reason, 'NoValidCACertificate');
    assert.equal(condition(entry!.conditions, 'Accepted')?.observedGeneration, 1);
    assert.ok(ancestors('secure').some((a) => a.controllerName === OTHER_CONTROLLER), 'the other controller\'s entry is kept');
  });

  it('BackendTLSPolicy: the ConfigMap created makes it Accepted and ResolvedRefs; a resync writes nothing more', async () => {
    const ca = await makeCa({ commonName: 'secure CA' });
    apply(api, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'secure-ca', namespace: 'default' }, data: { 'ca.crt': ca.cert } });
    await eventually(() => condition(ours('secure')[0]?.conditions, 'Accepted')?.status === 'True', 'Accepted written');
    assert.equal(condition(ours('secure')[0]!.conditions, 'ResolvedRefs')?.reason, 'ResolvedRefs');
    assert.ok(ancestors('secure').some((a) => a.controllerName === OTHER_CONTROLLER));
    const patches = (): number => api.requests.filter((r) => r.resource === 'backendtlspolicies' && r.subresource === 'status').length;
    // A patch of the change itself may still be in flight on a loaded machine: let it land first.
    for (let settled = -1; settled !== patches();) {
      settled = patches();
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    const writes = running!.gatewayStatus.writes;
    const before = patches();
    // Several resync periods (statusResyncMs 200): the status already matches, so nothing is patched.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(patches(), before, 'no BackendTLSPolicy status patch while nothing changed');
    assert.equal(running!.gatewayStatus.writes, writes);
  });

  it('BackendTLSPolicy: wrong CA kind is InvalidKind; a policy no route reaches loses wsgate\'s entry', async () => {
    apply(api, tlsPolicy('secure', 'secure', { caCertificateRefs: [{ group: '', kind: 'Secret', name: 'secure-ca' }], hostname: 'secure.example.test' }));
    await eventually(() => condition(ours('secure')[0]?.conditions, 'ResolvedRefs')?.reason === 'InvalidKind', 'InvalidKind written');
    api.remove('HTTPRoute', 'default', 'secure');
    await eventually(() => ours('secure').length === 0, 'wsgate\'s ancestor removed');
    assert.ok(ancestors('secure').some((a) => a.controllerName === OTHER_CONTROLLER), 'the other controller\'s entry is still kept');
  });

  it('listener conflicts across Gateways: the older keeps port 80 + hostname, the newer listener is Conflicted HostnameConflict and takes no route', async () => {
    apply(api, gateway('zz-older', { listeners: [{ name: 'http', port: 80, protocol: 'HTTP', hostname: 'shared.example.test' }] }));
    // creationTimestamp has second resolution: the second Gateway is created a second later, and its
    // name sorts first, so only its age can make it the newer one.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    apply(api, gateway('aa-newer', { listeners: [{ name: 'http', port: 80, protocol: 'HTTP', hostname: 'shared.example.test' }, { name: 'other', port: 80, protocol: 'HTTP', hostname: 'other.example.test' }] }));
    apply(api, httpRoute('to-newer', { parentRefs: [{ name: 'aa-newer', sectionName: 'http' }], rules: [{ backendRefs: [{ name: 'secure', port: 443 }] }] }));
    type Listener = { name: string; attachedRoutes: number; conditions: Condition[] };
    const listeners = (name: string): Listener[] => ((api.get('Gateway', 'default', name)?.['status'] as { listeners?: Listener[] } | undefined)?.listeners ?? []);
    await eventually(() => condition(listeners('aa-newer').find((l) => l.name === 'http')?.conditions, 'Conflicted')?.status === 'True', 'the newer listener Conflicted');
    const conflicted = listeners('aa-newer').find((l) => l.name === 'http')!;
    assert.equal(condition(conflicted.conditions, 'Conflicted')?.reason, 'HostnameConflict');
    assert.equal(condition(conflicted.conditions, 'Programmed')?.status, 'False');
    assert.equal(conflicted.attachedRoutes, 0);
    assert.equal(condition(listeners('aa-newer').find((l) => l.name === 'other')?.conditions, 'Programmed')?.status, 'True');
    await eventually(() => condition(listeners('zz-older').find((l) => l.name === 'http')?.conditions, 'Conflicted')?.status === 'False', 'the older listener written');
    assert.equal(condition(listeners('zz-older')[0]!.conditions, 'Programmed')?.status, 'True');
    const routeAccepted = (): Condition | undefined => condition(((api.get('HTTPRoute', 'default', 'to-newer')?.['status'] as { parents?: { conditions: Condition[] }[] } | undefined)?.parents ?? [])[0]?.conditions, 'Accepted');
    await eventually(() => routeAccepted()?.reason === 'NotAllowedByListeners', 'the route refused: its only listener is conflicted');
    assert.equal(routeAccepted()?.status, 'False');
  });
});

it('controller --once status lines name each BackendTLSPolicy ancestor with its conditions', () => {
  const documents = [
    gatewayClass(), gateway('gw'), service('secure', { ports: [{ name: 'https', port: 443 }] }),
    httpRoute('secure', { rules: [{ backendRefs: [{ name: 'secure', port: 443 }] }] }),
    tlsPolicy('secure', 'secure', { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'absent' }], hostname: 'secure.example.test' }),
  ] as unknown as Record<string, unknown>[];
  const lines = gatewayStatusLines(translate(gatewayResources(documents)).gatewayStatuses);
  assert.ok(lines.includes('BackendTLSPolicy default/secure -> Gateway default/gw: Accepted=False (NoValidCACertificate) ResolvedRefs=False (InvalidCACertificateRef)'), lines.join('\n'));
});

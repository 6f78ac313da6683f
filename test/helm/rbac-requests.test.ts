// The chart's rendered RBAC equals what the controller asks for, in both scopes: a controller
// scenario runs against the test API server (informers, the leader Lease, Events new and
// repeated, Ingress status from the publish Service), and every request it made, with its
// namespace, must be allowed by the ClusterRole and Roles the chart renders for that install;
// every grant must be used. Watching all namespaces needs the ClusterRole; watching one must not
// (its Secrets are readable there only).
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { startKubernetesController, type KubernetesController } from '../../src/providers/kubernetes/assemble.ts';
import { translateOnce } from '../../src/providers/kubernetes/informers/list-once.ts';
import { startApiServer, type ApiServer, type KubeObject } from '../support/apiserver.ts';
import { writeKubeconfig } from '../support/kubeconfig.ts';
import { endpointSlice, ingress, ingressClass, service, tlsSecret } from '../support/k8s.ts';
import { eventually } from '../support/proxy.ts';
import { gateway, gatewayClass, httpRoute } from '../support/gateway.ts';
import { renderChart } from './render.ts';
import { allows, renderedPermissions, type ApiRequest, type ChartPermissions } from './rbac.ts';

const release = { releaseName: 'wsgate', namespace: 'ingress' };

const AFFINITY_KEY = Buffer.alloc(32, 'k').toString('base64');

interface Scenario { requests: ApiRequest[]; secretQueries: { namespace: string; query: string }[]; affinityKey: string | undefined; onceAffinityKey: string | undefined }

/** `affinitySecret`: the --affinity-secret the chart passes (its Secret is applied as the chart would create it). */
async function scenario(api: ApiServer, kc: KubeConfig, watchNamespace: string | undefined, affinitySecret: string): Promise<Scenario> {
  const chat = (annotations: Record<string, string>): KubeObject =>
    ingress('chat', { host: 'chat.example.test', annotations, paths: [{ path: '/', service: 'chat', port: 80 }], tls: [{ hosts: ['chat.example.test'], secretName: 'chat-tls' }] }) as unknown as KubeObject;
  for (const object of [ingressClass(), service('chat'), endpointSlice('chat', { endpoints: ['10.0.0.1'] }), tlsSecret('chat-tls')]) api.apply(object as unknown as KubeObject);
  api.apply(chat({}));
  api.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'wsgate', namespace: 'ingress' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 443 }] } });
  const [affinityNamespace, affinityName] = affinitySecret.split('/') as [string, string];
  api.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: affinityName, namespace: affinityNamespace }, type: 'Opaque', data: { 'affinity.key': AFFINITY_KEY } });
  let running: KubernetesController | undefined;
  let affinityKey: string | undefined;
  let onceAffinityKey: string | undefined;
  try {
    running = startKubernetesController(kc, {
      ingressClass: 'wsgate',
      publishService: 'ingress/wsgate',
      electionNamespace: 'ingress',
      identity: 'rbac-requests',
      defaultCertSecret: 'default/chat-tls',
      affinitySecret,
      ...(watchNamespace ? { watchNamespace } : {}),
      leader: { renewIntervalMs: 100 },
    }, { accept: (snapshot) => { affinityKey = snapshot.affinityKey; }, refuse: () => {} });
    const controller = running;
    await eventually(() => controller.ready() && controller.leader.leading, 'leading and serving');
    await eventually(() => (api.get('Ingress', 'default', 'chat')?.['status'] as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer?.ingress?.length === 1, 'status written');
    api.apply(chat({ 'wsgate.io/idle-timeout': 'banana' }));
    await eventually(() => controller.events.posted >= 2, 'Event posted');
    api.apply(chat({}));
    await eventually(() => !controller.sync.diagnostics.some((d) => d.reason === 'InvalidAnnotation'), 'problem fixed');
    const posted = controller.events.posted;
    api.apply(chat({ 'wsgate.io/idle-timeout': 'banana' }));
    await eventually(() => controller.events.posted > posted, 'repeat Event patched');
    await controller.events.idle();
    await eventually(() => api.requests.some((r) => r.resource === 'leases' && r.verb === 'update'), 'the Lease renewed');
    // Gateway API: a class, a Gateway, an HTTPRoute and a BackendTLSPolicy on its Service, so each kind's status is written.
    const policy: KubeObject = {
      apiVersion: 'gateway.networking.k8s.io/v1alpha3', kind: 'BackendTLSPolicy', metadata: { name: 'chat', namespace: 'default' },
      spec: { targetRefs: [{ group: '', kind: 'Service', name: 'chat' }], validation: { wellKnownCACertificates: 'System', hostname: 'chat.example.test' } },
    };
    for (const object of [gatewayClass(), gateway('gw'), httpRoute('chat'), policy]) api.apply(object as unknown as KubeObject);
    const statusOf = (resource: string): boolean => api.requests.some((r) => r.resource === resource && r.subresource === 'status');
    await eventually(() => statusOf('gatewayclasses') && statusOf('gateways') && statusOf('httproutes') && statusOf('backendtlspolicies'), 'Gateway API status written');
    // `wsgate controller --once` lists with the same scope.
    onceAffinityKey = (await translateOnce(kc, { ingressClass: 'wsgate', affinitySecret, ...(watchNamespace ? { watchNamespace } : {}) })).snapshot.affinityKey;
  } finally {
    await running?.stop();
  }
  const requests = api.requests
    .filter((r) => r.isResourceRequest)
    .map((r) => ({ permission: `${r.apiGroup === '' ? 'core' : r.apiGroup}/${r.resource}${r.subresource ? `/${r.subresource}` : ''}:${r.verb}`, namespace: r.namespace }));
  const secretQueries = api.requests.filter((r) => r.isResourceRequest && r.resource === 'secrets').map((r) => ({ namespace: r.namespace, query: decodeURIComponent(r.query) }));
  return { requests, secretQueries, affinityKey, onceAffinityKey };
}

function grants(chart: ChartPermissions): ApiRequest[] {
  return [
    ...[...chart.cluster].map((permission) => ({ permission, namespace: '*' })),
    ...[...chart.namespaced].flatMap(([namespace, set]) => [...set].map((permission) => ({ permission, namespace }))),
  ];
}

/** A grant is used when some request needed it: a ClusterRole grant by any request, a Role's in its namespace. */
function used(grant: ApiRequest, requests: ApiRequest[]): boolean {
  return requests.some((r) => r.permission === grant.permission && (grant.namespace === '*' || r.namespace === grant.namespace));
}

describe('RBAC equals the requests of the controller', () => {
  // A fresh API server per scope: no Lease, Event or request left over from the other.
  let api: ApiServer | undefined;
  let dir: string | undefined;
  async function cluster(): Promise<{ api: ApiServer; kc: KubeConfig }> {
    api = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'wsgate-rbac-requests-'));
    const kc = new KubeConfig();
    kc.loadFromFile(await writeKubeconfig(dir, api));
    return { api, kc };
  }
  afterEach(async () => {
    await api?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    api = undefined;
    dir = undefined;
  });

  for (const watchNamespace of [undefined, 'default']) {
    const mode = watchNamespace ? `config.watchNamespace=${watchNamespace} (Roles)` : 'every namespace (ClusterRole)';
    it(`${mode}: every request allowed, every grant used`, async () => {
      const objects = renderChart({ ...release, values: { config: { publishService: 'ingress/wsgate', watchNamespace: watchNamespace ?? '' } } }).objects;
      const chart = renderedPermissions(objects);
      // The --affinity-secret the chart gives the controller: its own Secret in the release namespace.
      const args = (objects.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } }).spec.template.spec.containers.flatMap((c) => c.args);
      const affinitySecret = args.find((a) => a.startsWith('--affinity-secret='))?.slice('--affinity-secret='.length);
      assert.equal(affinitySecret, 'ingress/wsgate-affinity');
      const { api: server, kc } = await cluster();
      const { requests, secretQueries, affinityKey, onceAffinityKey } = await scenario(server, kc, watchNamespace, affinitySecret);
      // The key reached the snapshot, through the informers and through --once.
      assert.equal(affinityKey, AFFINITY_KEY);
      assert.equal(onceAffinityKey, AFFINITY_KEY);
      const denied = [...new Set(requests.filter((r) => !allows(chart, r)).map((r) => `${r.permission} in ${r.namespace || '(cluster)'}`))].sort();
      assert.deepEqual(denied, [], 'requests the rendered RBAC would refuse');
      const unused = grants(chart).filter((g) => !used(g, requests)).map((g) => `${g.permission} in ${g.namespace}`).sort();
      assert.deepEqual(unused, [], 'grants the controller never used');
      if (watchNamespace) {
        assert.ok(!chart.cluster.has('core/secrets:list'), 'no cluster-wide Secret list');
        // Cluster-scoped kinds only: IngressClasses, GatewayClasses (and their status), Namespaces.
        const clusterScoped = /^(networking\.k8s\.io\/ingressclasses|gateway\.networking\.k8s\.io\/gatewayclasses(\/status)?|core\/namespaces):/;
        const wide = requests.filter((r) => r.namespace === '' && !clusterScoped.test(r.permission)).map((r) => r.permission);
        assert.deepEqual(wide, [], 'only cluster-scoped kinds are read cluster-wide');
        // Outside the watched namespace the Role names the one Secret, so each request must name it too.
        const outside = secretQueries.filter((q) => q.namespace !== watchNamespace);
        assert.ok(outside.length > 0);
        for (const q of outside) assert.match(q.query, /fieldSelector=[^&]*metadata\.name=wsgate-affinity/, q.query);
      }
    });
  }
});

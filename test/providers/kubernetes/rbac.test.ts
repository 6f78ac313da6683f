// The chart grants what the controller uses: a controller scenario runs against the test API
// server (informers, a leader Lease, Events new and repeated, Ingress status from a publish
// Service), its request log gives the (apiGroup, resource, verb) set it really used, and every
// one must be granted by the rules the chart's ClusterRole and Roles are rendered from.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startKubernetesController, type KubernetesController } from '../../../src/providers/kubernetes/assemble.ts';
import { translateOnce } from '../../../src/providers/kubernetes/informers/list-once.ts';
import { startApiServer, type ApiServer, type KubeObject } from '../../support/apiserver.ts';
import { writeKubeconfig } from '../../support/kubeconfig.ts';
import { endpointSlice, ingress, ingressClass, service, tlsSecret } from '../../support/k8s.ts';
import { eventually } from '../../support/proxy.ts';
import { gateway, gatewayClass, httpRoute } from '../../support/gateway.ts';

const RULES_FILE = join(import.meta.dirname, '..', '..', '..', 'charts', 'wsgate', 'files', 'rbac-rules.yaml');
const RBAC_TEMPLATE = join(import.meta.dirname, '..', '..', '..', 'charts', 'wsgate', 'templates', 'rbac.yaml');

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

function granted(rules: Rule[]): Set<string> {
  const set = new Set<string>();
  for (const rule of rules) for (const group of rule.apiGroups) for (const resource of rule.resources) for (const verb of rule.verbs) set.add(`${group}|${resource}|${verb}`);
  return set;
}

describe('RBAC: the chart grants every verb the controller uses', () => {
  let api: ApiServer;
  let dir: string;
  let kc: KubeConfig;
  let running: KubernetesController | undefined;

  before(async () => {
    api = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'wsgate-rbac-'));
    kc = new KubeConfig();
    kc.loadFromFile(await writeKubeconfig(dir, api));
  });
  after(async () => {
    await running?.stop();
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('covers the requests of a controller scenario', { skip: existsSync(RULES_FILE) ? false : `chart rules not written yet (${RULES_FILE})` }, async () => {
    const chat = (annotations: Record<string, string>): KubeObject =>
      ingress('chat', { host: 'chat.example.test', annotations, paths: [{ path: '/', service: 'chat', port: 80 }], tls: [{ hosts: ['chat.example.test'], secretName: 'chat-tls' }] }) as unknown as KubeObject;
    for (const object of [ingressClass(), service('chat'), endpointSlice('chat', { endpoints: ['10.0.0.1'] }), tlsSecret('chat-tls')]) api.apply(object as unknown as KubeObject);
    api.apply(chat({}));
    api.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'wsgate', namespace: 'ingress' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 443 }] } });

    let snapshots = 0;
    running = startKubernetesController(kc, {
      ingressClass: 'wsgate',
      publishService: 'ingress/wsgate',
      electionNamespace: 'ingress',
      identity: 'rbac-test',
      defaultCertSecret: 'default/chat-tls',
      // Renew often, so the scenario includes a renewal.
      leader: { renewIntervalMs: 100 },
    }, { accept: () => void (snapshots += 1), refuse: () => {} });
    await eventually(() => running!.ready() && running!.leader.leading, 'leading and serving');
    await eventually(() => (api.get('Ingress', 'default', 'chat')?.['status'] as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer?.ingress?.length === 1, 'status written');
    // A problem, its fix, and its return: a new Event, then a repeat patched onto it.
    api.apply(chat({ 'wsgate.io/idle-timeout': 'banana' }));
    await eventually(() => running!.events.posted >= 2, 'Event posted');
    api.apply(chat({}));
    await eventually(() => !running!.sync.diagnostics.some((d) => d.reason === 'InvalidAnnotation'), 'problem fixed');
    const posted = running!.events.posted;
    api.apply(chat({ 'wsgate.io/idle-timeout': 'banana' }));
    await eventually(() => running!.events.posted > posted, 'repeat Event patched');
    await running!.events.idle();
    // Gateway API (issue 14): a class, a Gateway and an HTTPRoute, so each kind's status is written
    // (after the Event scenario, whose counts its Events would disturb).
    // A BackendTLSPolicy on the route's Service: its status.ancestors is written too.
    const policy: KubeObject = {
      apiVersion: 'gateway.networking.k8s.io/v1alpha3', kind: 'BackendTLSPolicy', metadata: { name: 'chat', namespace: 'default' },
      spec: { targetRefs: [{ group: '', kind: 'Service', name: 'chat' }], validation: { wellKnownCACertificates: 'System', hostname: 'chat.example.test' } },
    };
    for (const object of [gatewayClass(), gateway('gw'), httpRoute('chat'), policy]) api.apply(object as unknown as KubeObject);
    await eventually(() => api.requests.some((r) => r.resource === 'leases' && r.verb === 'update'), 'the Lease renewed');
    const statusOf = (resource: string): boolean => api.requests.some((r) => r.resource === resource && r.subresource === 'status');
    await eventually(() => statusOf('httproutes') && statusOf('gateways') && statusOf('gatewayclasses') && statusOf('backendtlspolicies'), 'Gateway API status written');
    await translateOnce(kc, { ingressClass: 'wsgate' });
    assert.ok(snapshots > 0);

    const used = new Set<string>();
    for (const r of api.requests) {
      if (!r.isResourceRequest) continue;
      used.add(`${r.apiGroup}|${r.resource}${r.subresource ? `/${r.subresource}` : ''}|${r.verb}`);
    }
    const rules = parse(readFileSync(RULES_FILE, 'utf8')) as Record<string, Rule[]>;
    // The ClusterRole's rules plus the Roles' (election and publish-Service namespaces).
    const chart = granted(Object.values(rules).flat());
    const missing = [...used].filter((u) => !chart.has(u)).sort();
    assert.deepEqual(missing, [], `verbs used but not granted by the chart: ${missing.join(', ')}`);
    const unused = [...chart].filter((g) => !used.has(g)).sort();
    assert.deepEqual(unused, [], `verbs granted by the chart that the controller never used: ${unused.join(', ')}`);
    // The template renders from the rules file: it must still read that file.
    if (existsSync(RBAC_TEMPLATE)) assert.match(readFileSync(RBAC_TEMPLATE, 'utf8'), /files\/rbac-rules\.yaml/);
  });
});

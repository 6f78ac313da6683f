// The Gateway API is auto-detected: without its CRDs (the API server answers 404) Ingresses are
// served as before and nothing waits; CRDs installed later are picked up by the next probe.
// `controller --once` lists the Gateway API kinds too and says what each object's status would be.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Snapshot } from '../../../src/config/snapshot.ts';
import { startKubernetesController, type KubernetesController } from '../../../src/providers/kubernetes/assemble.ts';
import { startApiServer, type ApiServer, type KubeObject } from '../../support/apiserver.ts';
import { writeKubeconfig } from '../../support/kubeconfig.ts';
import { endpointSlice, ingress, ingressClass, service } from '../../support/k8s.ts';
import { gateway, gatewayClass, httpRoute } from '../../support/gateway.ts';
import { eventually } from '../../support/proxy.ts';
import { CLI_SCRIPT } from '../../support/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function apply(api: ApiServer, ...objects: unknown[]): void {
  for (const object of objects) api.apply(object as KubeObject);
}

describe('Gateway API CRDs absent, then installed', () => {
  let api: ApiServer;
  let dir: string;
  let kubeconfig: string;
  let running: KubernetesController | undefined;

  before(async () => {
    api = await startApiServer({ gatewayApi: false });
    dir = await mkdtemp(join(tmpdir(), 'wsgate-gateway-crds-'));
    kubeconfig = await writeKubeconfig(dir, api);
    apply(api, ingressClass(), service('chat'), endpointSlice('chat', { endpoints: ['10.0.0.1'] }), ingress('chat', { host: 'chat.example.test', paths: [{ path: '/ws', service: 'chat', port: 80 }] }));
  });
  after(async () => {
    await running?.stop();
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('controller --once without the CRDs prints the Ingress snapshot and exits 0', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [CLI_SCRIPT, 'controller', '--once', '--kubeconfig', kubeconfig], { cwd: ROOT, env: { ...process.env, WSGATE_LOG_LEVEL: 'warn' } });
    const printed = JSON.parse(stdout) as Snapshot;
    assert.deepEqual(printed.routes.map((r) => `${r.host}${r.path}`), ['chat.example.test/ws']);
  });

  it('serves the Ingresses while the CRDs are missing, and the HTTPRoutes once they are installed', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    let latest: Snapshot | undefined;
    running = startKubernetesController(kc, { ingressClass: 'wsgate', electionNamespace: 'default', identity: 'crd-test', gatewayProbeMs: 200 }, { accept: (snapshot) => void (latest = snapshot), refuse: () => {} });
    await eventually(() => running!.ready(), 'ready without the Gateway API');
    assert.deepEqual(latest!.routes.map((r) => r.source?.kind ?? 'Ingress'), ['Ingress']);
    assert.equal(running.store.gateway.present, false);

    api.setGatewayApi(true);
    apply(api, gatewayClass(), gateway('gw'), httpRoute('chat', { hostnames: ['gw.example.test'] }));
    await eventually(() => latest!.routes.some((r) => r.source?.kind === 'HTTPRoute' && r.host === 'gw.example.test'), 'the HTTPRoute served after the CRDs appear');
    assert.equal(running.store.gateway.present, true);
    assert.ok(latest!.routes.some((r) => r.host === 'chat.example.test'), 'the Ingress route is still served');
  });

  it('controller --once lists Gateways and HTTPRoutes and prints what their status would be', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI_SCRIPT, 'controller', '--once', '--kubeconfig', kubeconfig], { cwd: ROOT, env: { ...process.env, WSGATE_LOG_LEVEL: 'warn' } });
    const printed = JSON.parse(stdout) as Snapshot;
    assert.ok(printed.routes.some((r) => r.source?.kind === 'HTTPRoute' && r.source.ingress === 'chat' && r.host === 'gw.example.test'));
    assert.match(stderr, /^status GatewayClass wsgate: Accepted=True SupportedVersion=True$/m);
    assert.match(stderr, /^status Gateway default\/gw: Accepted=True Programmed=True; listener http: attachedRoutes=1 /m);
    assert.match(stderr, /^status HTTPRoute default\/chat -> Gateway default\/gw: Accepted=True ResolvedRefs=True$/m);
    assert.match(stderr, /Normal Sync HTTPRoute default\/chat: serving 1 route/);
  });
});

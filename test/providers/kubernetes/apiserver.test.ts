// The test API server checked against real clients: kubectl 1.32 drives it like a cluster, and raw
// HTTP checks the protocol details the controller depends on (resourceVersions, watch replay,
// 410 Gone, selectors, optimistic concurrency, /status).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { startApiServer, type ApiServer, type KubeObject } from '../../support/apiserver.ts';
import { writeKubeconfig } from '../../support/kubeconfig.ts';
import { call, watch } from '../../support/apiserver/rawclient.ts';

const run = promisify(execFile);

const ingress = (name: string, host: string, annotations: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
  metadata: { name, namespace: 'default', annotations },
  spec: {
    ingressClassName: 'wsgate',
    tls: [{ hosts: [host], secretName: `${name}-tls` }],
    rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 80 } } } }] } }],
  },
});
const service = (name: string, targetPort: number): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
  spec: { selector: { app: name }, ports: [{ name: 'ws', port: 80, targetPort, protocol: 'TCP' }] },
});
const endpointSlice = (name: string, service: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
  metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': service, ...labels } },
  addressType: 'IPv4', ports: [{ name: 'ws', port: 8080, protocol: 'TCP' }],
  endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }],
});
const secret = (name: string, type: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type,
  data: { 'tls.crt': Buffer.from('cert').toString('base64'), 'tls.key': Buffer.from('key').toString('base64') },
});
const manifest = (objects: KubeObject[]) => objects.map((o) => stringify(o)).join('---\n');

/** metav1.MicroTime as the API server parses it: RFC 3339 with exactly six fractional digits. */
const microTime = (date = new Date()) => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

const INGRESSES = '/apis/networking.k8s.io/v1/namespaces/default/ingresses';

describe('kubectl against the test API server', () => {
  let server: ApiServer;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const kubectl = async (...args: string[]) => (await run('kubectl', ['--cache-dir', join(dir, 'cache'), ...args], { env })).stdout;

  before(async () => {
    server = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'wsgate-kubectl-'));
    env = { ...process.env, KUBECONFIG: await writeKubeconfig(dir, server), HOME: dir };
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies a manifest, shows it in get -A -o json, and keeps last-applied-configuration', async () => {
    const file = join(dir, 'app.yaml');
    await writeFile(file, manifest([ingress('chat', 'chat.example.com', { 'wsgate.io/balance': 'round-robin' }), service('chat', 8080), endpointSlice('chat-abc', 'chat'), secret('chat-tls', 'kubernetes.io/tls')]));
    const out = await kubectl('apply', '-f', file);
    assert.match(out, /ingress.networking.k8s.io\/chat created/);
    assert.match(out, /endpointslice.discovery.k8s.io\/chat-abc created/);
    const list = JSON.parse(await kubectl('get', 'ingress', '-A', '-o', 'json')) as { items: KubeObject[] };
    assert.deepEqual(list.items.map((i) => `${i.metadata?.namespace}/${i.metadata?.name}`), ['default/chat']);
    const lastApplied = JSON.parse(list.items[0]!.metadata!.annotations!['kubectl.kubernetes.io/last-applied-configuration']!) as KubeObject;
    assert.equal(lastApplied.metadata?.annotations?.['wsgate.io/balance'], 'round-robin');
    assert.equal(server.get('Secret', 'default', 'chat-tls')?.['type'], 'kubernetes.io/tls');
    assert.ok(server.requests.some((r) => r.verb === 'create' && r.resource === 'endpointslices' && r.code === 201));
  });

  it('applies a changed manifest as a strategic merge patch that updates only what changed', async () => {
    const before = server.get('Ingress', 'default', 'chat')!;
    const file = join(dir, 'app.yaml');
    await writeFile(file, manifest([ingress('chat', 'chat.example.com', { 'wsgate.io/balance': 'least-conn' }), service('chat', 8081), endpointSlice('chat-abc', 'chat'), secret('chat-tls', 'kubernetes.io/tls')]));
    const out = await kubectl('apply', '-f', file);
    assert.match(out, /ingress.networking.k8s.io\/chat configured/);
    assert.match(out, /secret\/chat-tls unchanged/);
    const after = server.get('Ingress', 'default', 'chat')!;
    assert.equal(after.metadata?.annotations?.['wsgate.io/balance'], 'least-conn');
    assert.equal(after.metadata?.uid, before.metadata?.uid);
    assert.ok(Number(after.metadata?.resourceVersion) > Number(before.metadata?.resourceVersion));
    assert.equal(after.metadata?.generation, 1, 'an annotation change is not a spec change');
    const svc = server.get('Service', 'default', 'chat') as { spec: { ports: Record<string, unknown>[] } };
    assert.deepEqual(svc.spec.ports, [{ name: 'ws', port: 80, targetPort: 8081, protocol: 'TCP' }]);
    assert.ok(server.requests.some((r) => r.verb === 'patch' && r.resource === 'ingresses'));
  });

  it('get -w prints a change made after it started, as it happens', async () => {
    const child = spawn('kubectl', ['--cache-dir', join(dir, 'cache'), 'get', 'ingress', '-w'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let output = '';
      const waitFor = (pattern: RegExp) => new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(output)) {
            child.stdout.off('data', onData);
            resolve();
          }
        };
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          check();
        };
        child.stdout.on('data', onData);
        child.once('exit', (code) => reject(new Error(`kubectl exited ${code}: ${output}`)));
        check();
      });
      await waitFor(/chat\s+wsgate\s+chat\.example\.com/);
      // kubectl has listed; the next line can only come from its watch.
      await waitFor(/./);
      const patched = await call(server.url, 'PATCH', `${INGRESSES}/chat`, { spec: { rules: [{ host: 'live.example.com' }] } }, 'application/merge-patch+json');
      assert.equal(patched.status, 200);
      await waitFor(/chat\s+wsgate\s+live\.example\.com/);
      assert.ok(server.requests.some((r) => r.verb === 'watch' && r.resource === 'ingresses' && r.userAgent.startsWith('kubectl')));
    } finally {
      child.kill();
    }
  });

  it('describe ingress shows Events created through both event APIs', async () => {
    const uid = server.get('Ingress', 'default', 'chat')!.metadata!.uid;
    const regarding = { kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', namespace: 'default', name: 'chat', uid };
    const core = await call(server.url, 'POST', '/api/v1/namespaces/default/events', {
      metadata: { name: 'chat.core1' }, involvedObject: regarding, type: 'Warning', reason: 'InvalidAnnotation',
      message: 'wsgate.io/balance: "fastest" is not one of round-robin, least-conn', source: { component: 'wsgate' },
      firstTimestamp: new Date().toISOString(), lastTimestamp: new Date().toISOString(), count: 1,
    });
    assert.equal(core.status, 201);
    const v1 = await call(server.url, 'POST', '/apis/events.k8s.io/v1/namespaces/default/events', {
      metadata: { name: 'chat.new1' }, regarding, type: 'Warning', reason: 'Conflict', note: 'host chat.example.com path / is taken by default/older',
      eventTime: microTime(), reportingController: 'wsgate.io/controller', reportingInstance: 'wsgate-0', action: 'Translate',
    });
    assert.equal(v1.status, 201);
    const out = await kubectl('describe', 'ingress', 'chat');
    assert.match(out, /Warning\s+InvalidAnnotation\s+.*wsgate.io\/balance: "fastest" is not one of round-robin, least-conn/);
    assert.match(out, /Warning\s+Conflict\s+.*host chat.example.com path \/ is taken by default\/older/);
  });

  it('delete -f removes everything it applied', async () => {
    const out = await kubectl('delete', '-f', join(dir, 'app.yaml'));
    assert.match(out, /ingress.networking.k8s.io "chat" deleted/);
    for (const kind of ['Ingress', 'Service', 'EndpointSlice', 'Secret']) assert.deepEqual(server.list(kind, 'default'), [], kind);
    assert.match(await kubectl('get', 'ingress', '-A'), /^$/);
  });
});

describe('the test API server protocol', () => {
  let server: ApiServer;
  before(async () => {
    server = await startApiServer();
  });
  after(() => server.stop());

  it('advertises the served resources with short names, verbs and the ingress status subresource', async () => {
    const { body } = await call(server.url, 'GET', '/apis/networking.k8s.io/v1');
    const resources = body['resources'] as { name: string; shortNames?: string[]; verbs: string[]; namespaced: boolean }[];
    const ing = resources.find((r) => r.name === 'ingresses')!;
    assert.deepEqual(ing.shortNames, ['ing']);
    assert.ok(ing.verbs.includes('watch'));
    assert.deepEqual(resources.find((r) => r.name === 'ingresses/status')?.verbs, ['get', 'patch', 'update']);
    assert.equal(resources.find((r) => r.name === 'ingressclasses')?.namespaced, false);
    const core = await call(server.url, 'GET', '/api/v1');
    assert.deepEqual((core.body['resources'] as { name: string; shortNames?: string[] }[]).find((r) => r.name === 'services')?.shortNames, ['svc']);
    assert.equal((await call(server.url, 'GET', '/version')).body['minor'], '32');
  });

  it('creates with server-set metadata and answers a second create with 409 AlreadyExists', async () => {
    const created = await call(server.url, 'POST', INGRESSES, { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { generateName: 'gen-' }, spec: {}, status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } });
    assert.equal(created.status, 201);
    const meta = created.body.metadata!;
    assert.match(meta.name!, /^gen-[a-z0-9]{5}$/);
    assert.match(meta.uid!, /^[0-9a-f-]{36}$/);
    assert.match(meta.creationTimestamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(created.body['status'], undefined, 'status is set only through /status');
    const again = await call(server.url, 'POST', INGRESSES, { metadata: { name: meta.name } });
    assert.equal(again.status, 409);
    assert.equal(again.body['reason'], 'AlreadyExists');
    assert.equal(again.body['kind'], 'Status');
    const missing = await call(server.url, 'GET', `${INGRESSES}/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body['reason'], 'NotFound');
    assert.equal(missing.body['message'], 'ingresses.networking.k8s.io "nope" not found');
  });

  it('rejects an update with a stale resourceVersion (409 Conflict) and writes nothing for a no-op update', async () => {
    const created = (await call(server.url, 'POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases', { metadata: { name: 'wsgate-leader' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } })).body;
    const path = '/apis/coordination.k8s.io/v1/namespaces/default/leases/wsgate-leader';
    const taken = await call(server.url, 'PUT', path, { ...created, spec: { holderIdentity: 'b', leaseDurationSeconds: 15 } });
    assert.equal(taken.status, 200);
    const stale = await call(server.url, 'PUT', path, { ...created, spec: { holderIdentity: 'c', leaseDurationSeconds: 15 } });
    assert.equal(stale.status, 409);
    assert.equal(stale.body['reason'], 'Conflict');
    assert.match(String(stale.body['message']), /the object has been modified/);
    const same = await call(server.url, 'PUT', path, taken.body);
    assert.equal(same.body.metadata?.resourceVersion, taken.body.metadata?.resourceVersion);
    const stalePatch = await call(server.url, 'PATCH', path, { metadata: { resourceVersion: created.metadata!.resourceVersion }, spec: { holderIdentity: 'd' } }, 'application/merge-patch+json');
    assert.equal(stalePatch.status, 409);
  });

  it('changes only status through /status and never status through the main resource', async () => {
    const ing = server.apply(ingress('st', 'st.example.com'));
    const status = { loadBalancer: { ingress: [{ ip: '10.1.1.1' }] } };
    const viaStatus = await call(server.url, 'PUT', `${INGRESSES}/st/status`, { ...ing, metadata: { ...ing.metadata, labels: { sneaky: 'yes' } }, status });
    assert.equal(viaStatus.status, 200);
    assert.deepEqual(viaStatus.body['status'], status);
    assert.equal(viaStatus.body.metadata?.labels, undefined);
    const viaMain = await call(server.url, 'PATCH', `${INGRESSES}/st`, { status: { loadBalancer: { ingress: [{ ip: '6.6.6.6' }] } } }, 'application/merge-patch+json');
    assert.deepEqual(viaMain.body['status'], status);
    const jsonPatched = await call(server.url, 'PATCH', `${INGRESSES}/st/status`, [{ op: 'replace', path: '/status/loadBalancer/ingress/0/ip', value: '10.2.2.2' }], 'application/json-patch+json');
    assert.deepEqual(jsonPatched.body['status'], { loadBalancer: { ingress: [{ ip: '10.2.2.2' }] } });
  });

  it('applies the patch types kubectl and client libraries send', async () => {
    server.apply(service('p', 8080));
    const path = '/api/v1/namespaces/default/services/p';
    const smp = await call(server.url, 'PATCH', path, { spec: { '$setElementOrder/ports': [{ port: 80 }, { port: 81 }], ports: [{ port: 81, name: 'alt', targetPort: 9000 }, { port: 80, targetPort: 8082 }] } }, 'application/strategic-merge-patch+json');
    assert.equal(smp.status, 200);
    assert.deepEqual((smp.body['spec'] as { ports: unknown }).ports, [{ name: 'ws', port: 80, targetPort: 8082, protocol: 'TCP' }, { port: 81, name: 'alt', targetPort: 9000 }]);
    const removed = await call(server.url, 'PATCH', path, { spec: { ports: [{ $patch: 'delete', port: 81 }] } }, 'application/strategic-merge-patch+json');
    assert.equal((removed.body['spec'] as { ports: unknown[] }).ports.length, 1);
    const ssa = await call(server.url, 'PATCH', '/api/v1/namespaces/default/secrets/ssa?fieldManager=wsgate', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: ssa\ntype: kubernetes.io/tls\n', 'application/apply-patch+yaml');
    assert.equal(ssa.status, 201);
    assert.equal(ssa.body['type'], 'kubernetes.io/tls');
    assert.equal((await call(server.url, 'PATCH', '/api/v1/namespaces/default/secrets/none', {}, 'application/merge-patch+json')).status, 404);
    assert.equal((await call(server.url, 'PATCH', path, {}, 'text/plain')).status, 415);
  });

  it('deletes with a Status answer, then 404', async () => {
    server.apply(secret('gone', 'Opaque'));
    const path = '/api/v1/namespaces/default/secrets/gone';
    const first = await call(server.url, 'DELETE', path);
    assert.equal(first.status, 200);
    assert.equal(first.body['status'], 'Success');
    const second = await call(server.url, 'DELETE', path);
    assert.equal(second.status, 404);
    assert.equal(second.body['reason'], 'NotFound');
  });

  it('lists with label and field selectors', async () => {
    server.apply(endpointSlice('sel-a', 'a', { tier: 'web' }));
    server.apply(endpointSlice('sel-b', 'b', { tier: 'db' }));
    server.apply(endpointSlice('sel-c', 'c'));
    const names = async (query: string) => ((await call(server.url, 'GET', `/apis/discovery.k8s.io/v1/endpointslices?${query}`)).body['items'] as KubeObject[]).map((i) => i.metadata?.name);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('tier in (web, db)')}`), ['sel-a', 'sel-b']);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('tier!=web,kubernetes.io/service-name')}`), ['sel-b', 'sel-c']);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('!tier')}`), ['sel-c']);
    assert.deepEqual(await names(`labelSelector=${encodeURIComponent('kubernetes.io/service-name=a')}`), ['sel-a']);
    assert.deepEqual(await names(`fieldSelector=${encodeURIComponent('metadata.name=sel-b')}`), ['sel-b']);
    server.apply(secret('tls-1', 'kubernetes.io/tls'));
    server.apply(secret('opaque-1', 'Opaque'));
    const secrets = await call(server.url, 'GET', `/api/v1/secrets?fieldSelector=${encodeURIComponent('type=kubernetes.io/tls')}`);
    assert.ok((secrets.body['items'] as KubeObject[]).some((s) => s.metadata?.name === 'tls-1'));
    assert.ok(!(secrets.body['items'] as KubeObject[]).some((s) => s.metadata?.name === 'opaque-1'));
    const bad = await call(server.url, 'GET', '/api/v1/secrets?fieldSelector=spec.nothing%3Dx');
    assert.equal(bad.status, 400);
  });

  it('pages a list with limit and continue over one consistent snapshot', async () => {
    for (const n of [1, 2, 3, 4, 5]) server.apply(ingress(`page-${n}`, `p${n}.example.com`));
    const first = await call(server.url, 'GET', `/apis/networking.k8s.io/v1/ingresses?limit=2&labelSelector=`);
    const meta = first.body.metadata as { continue: string; resourceVersion: string };
    assert.equal((first.body['items'] as unknown[]).length, 2);
    server.remove('Ingress', 'default', 'page-5');
    const seen = (first.body['items'] as KubeObject[]).map((i) => i.metadata?.name);
    let token: string | undefined = meta.continue;
    while (token) {
      const page = await call(server.url, 'GET', `/apis/networking.k8s.io/v1/ingresses?limit=2&continue=${token}`);
      assert.equal((page.body.metadata as { resourceVersion: string }).resourceVersion, meta.resourceVersion);
      seen.push(...(page.body['items'] as KubeObject[]).map((i) => i.metadata?.name));
      token = (page.body.metadata as { continue?: string }).continue;
    }
    assert.ok(seen.includes('page-5'), 'a deletion after the first page does not change the snapshot');
    const again = await call(server.url, 'GET', '/apis/networking.k8s.io/v1/ingresses?limit=1');
    server.compact();
    const expired = await call(server.url, 'GET', `/apis/networking.k8s.io/v1/ingresses?limit=1&continue=${(again.body.metadata as { continue: string }).continue}`);
    assert.equal(expired.status, 410);
    assert.equal(expired.body['reason'], 'Expired');
  });

  it('watches from a resourceVersion, replaying retained history, and turns selector exits into DELETED', async () => {
    const start = server.resourceVersion;
    server.apply(endpointSlice('w-1', 'w', { watched: 'yes' }));
    server.apply(endpointSlice('w-2', 'w', { watched: 'no' }));
    const w = await watch(server.url, `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?watch=1&resourceVersion=${start}&labelSelector=watched%3Dyes`);
    try {
      const added = await w.next();
      assert.equal(added?.type, 'ADDED');
      assert.equal(added?.object.metadata?.name, 'w-1');
      assert.equal(added?.object.kind, 'EndpointSlice');
      server.apply(endpointSlice('w-2', 'w', { watched: 'yes' }));
      const entered = await w.next();
      assert.deepEqual([entered?.type, entered?.object.metadata?.name], ['ADDED', 'w-2'], 'entering the selection is ADDED');
      server.apply(endpointSlice('w-1', 'w', { watched: 'no' }));
      const left = await w.next();
      assert.deepEqual([left?.type, left?.object.metadata?.name], ['DELETED', 'w-1']);
      server.remove('EndpointSlice', 'default', 'w-2');
      const deleted = await w.next();
      assert.deepEqual([deleted?.type, deleted?.object.metadata?.name, deleted?.object.metadata?.resourceVersion], ['DELETED', 'w-2', server.resourceVersion]);
    } finally {
      w.close();
    }
  });

  it('answers a watch from a compacted resourceVersion with an ERROR event carrying 410 Expired, then ends it', async () => {
    const old = server.resourceVersion;
    server.apply(secret('after-old', 'Opaque'));
    server.compact();
    const w = await watch(server.url, `/api/v1/secrets?watch=true&resourceVersion=${old}`);
    assert.equal(w.status, 200);
    const events = await w.rest();
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, 'ERROR');
    assert.equal(events[0]!.object['code'], 410);
    assert.equal(events[0]!.object['reason'], 'Expired');
  });

  it('ends a watch after timeoutSeconds with a BOOKMARK when bookmarks are allowed', async () => {
    const w = await watch(server.url, `/api/v1/namespaces/default/events?watch=true&resourceVersion=${server.resourceVersion}&timeoutSeconds=1&allowWatchBookmarks=true`);
    const events = await w.rest();
    assert.deepEqual(events.map((e) => e.type), ['BOOKMARK']);
    assert.equal(events[0]!.object.metadata?.resourceVersion, server.resourceVersion);
  });

  it('shows core Events through events.k8s.io/v1 and filters them by involvedObject', async () => {
    await call(server.url, 'POST', '/api/v1/namespaces/default/events', { metadata: { name: 'e1' }, involvedObject: { kind: 'Ingress', name: 'x', namespace: 'default' }, reason: 'Sync', message: 'ok', type: 'Normal' });
    await call(server.url, 'POST', '/api/v1/namespaces/default/events', { metadata: { name: 'e2' }, involvedObject: { kind: 'Ingress', name: 'y', namespace: 'default' }, reason: 'Sync', message: 'ok', type: 'Normal' });
    const v1 = await call(server.url, 'GET', '/apis/events.k8s.io/v1/namespaces/default/events/e1');
    assert.equal(v1.body['note'], 'ok');
    assert.equal((v1.body['regarding'] as { name: string }).name, 'x');
    const patched = await call(server.url, 'PATCH', '/apis/events.k8s.io/v1/namespaces/default/events/e1', { series: { count: 2, lastObservedTime: microTime() } }, 'application/merge-patch+json');
    assert.equal(patched.status, 200);
    const millis = await call(server.url, 'PATCH', '/apis/events.k8s.io/v1/namespaces/default/events/e1', { series: { count: 3, lastObservedTime: new Date().toISOString() } }, 'application/merge-patch+json');
    assert.equal(millis.status, 400, 'a MicroTime with millisecond precision does not decode on a real API server');
    const filtered = await call(server.url, 'GET', `/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent('involvedObject.name=y,involvedObject.kind=Ingress')}`);
    assert.deepEqual((filtered.body['items'] as KubeObject[]).map((e) => e.metadata?.name), ['e2']);
  });

  it('refuses a wrong bearer token with 401', async () => {
    const res = await call(server.url, 'GET', '/api/v1/secrets', undefined, undefined, { Authorization: 'Bearer wrong' });
    assert.equal(res.status, 401);
    assert.equal(res.body['reason'], 'Unauthorized');
  });

  it('records each request as RBAC sees it', async () => {
    server.clearRequests();
    await call(server.url, 'GET', '/apis/networking.k8s.io/v1/ingresses?limit=1');
    await call(server.url, 'PUT', `${INGRESSES}/st/status`, server.get('Ingress', 'default', 'st'));
    const w = await watch(server.url, '/api/v1/namespaces/default/secrets?watch=1&timeoutSeconds=1');
    await w.rest();
    assert.deepEqual(server.requests.map((r) => [r.verb, r.apiGroup, r.resource, r.subresource, r.namespace]), [
      ['list', 'networking.k8s.io', 'ingresses', '', ''],
      ['update', 'networking.k8s.io', 'ingresses', 'status', 'default'],
      ['watch', '', 'secrets', '', 'default'],
    ]);
  });

  it('stops like a server going away and restarts on the same port with the same objects', async () => {
    const w = await watch(server.url, `/api/v1/secrets?watch=1&resourceVersion=${server.resourceVersion}`);
    const port = server.port;
    const rv = Number(server.resourceVersion);
    await server.stop();
    await assert.rejects(w.next(), 'the open watch is cut, not ended cleanly');
    await assert.rejects(fetch(`${server.url}/version`));
    server.apply(secret('while-down', 'Opaque'));
    await server.restart();
    assert.equal(server.port, port);
    const got = await call(server.url, 'GET', '/api/v1/namespaces/default/secrets/while-down');
    assert.equal(got.status, 200);
    assert.ok(Number(got.body.metadata?.resourceVersion) > rv);
  });
});

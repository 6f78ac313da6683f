// `wsgate run` end to end: a real wsgate process (controller + data plane), the test API server
// speaking the Kubernetes protocol, ws echo "pods" on 127.0.0.1, and a wss client. The scenario
// runs in order, as an operator would live it, and after every change checks that the
// connections opened before it are still open and still echo.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { WebSocket, type ClientOptions } from 'ws';
import { startApiServer, type ApiServer, type KubeObject } from '../../support/apiserver.ts';
import { writeKubeconfig } from '../../support/kubeconfig.ts';
import { endpointSlice, ingress, ingressClass, service, tlsSecret } from '../../support/k8s.ts';
import { makeCert, type TestCertificate } from '../../support/certs.ts';
import { closed, connect, deadPort, eventually, metricValue, nextMessage, scrape, startUpstream, type TestUpstream } from '../../support/proxy.ts';
import { CLI_SCRIPT } from '../../support/cli.ts';

const HOST = 'chat.example.test';
const CHAT_POOL = 'default/chat/chat:80';
const BASE_ANNOTATIONS = { 'wsgate.io/drain-timeout': '500ms' };

/** A "pod": a ws server that first says its name, then echoes. */
function pod(name: string): Promise<TestUpstream> {
  return startUpstream(name, (ws) => {
    ws.send(`hello from ${name}`);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
}

/** One EndpointSlice per pod: each test pod listens on its own port, and a slice has one port list. */
function podSlice(serviceName: string, upstream: TestUpstream, extra: { ready?: boolean; terminating?: boolean } = {}): KubeObject {
  return endpointSlice(serviceName, {
    name: `${serviceName}-${upstream.name}`,
    ports: [{ name: 'http', port: upstream.port }],
    endpoints: [{ address: '127.0.0.1', pod: upstream.name, ready: extra.ready ?? true, ...(extra.terminating === undefined ? {} : { terminating: extra.terminating }) }],
  }) as unknown as KubeObject;
}

function chatIngress(annotations: Record<string, string> = BASE_ANNOTATIONS, paths = [{ path: '/ws', service: 'chat', port: 80 }]): KubeObject {
  return ingress('chat', { host: HOST, annotations, paths, tls: [{ hosts: [HOST], secretName: 'chat-tls' }] }) as unknown as KubeObject;
}

function secretOf(name: string, cert: TestCertificate): KubeObject {
  return tlsSecret(name, { cert: cert.cert, key: cert.key }) as unknown as KubeObject;
}

interface Client {
  ws: WebSocket;
  /** The pod that greeted it. */
  pod: string;
  fingerprint: string;
}

describe('wsgate run against a Kubernetes API server', () => {
  let api: ApiServer;
  let dir: string;
  let wsgate: ChildProcess;
  let output = '';
  let httpsPort: number;
  let adminPort: number;
  const pods = new Map<string, TestUpstream>();
  const clients: Client[] = [];
  let certV1: TestCertificate;
  let certV2: TestCertificate;

  async function open(path = '/ws', host = HOST): Promise<Client> {
    const ws = await connect(`wss://127.0.0.1:${httpsPort}${path}`, { servername: host, headers: { Host: host } } as ClientOptions);
    const greeting = await nextMessage(ws);
    const socket = (ws as unknown as { _socket: TLSSocket })._socket;
    const client = { ws, pod: greeting.replace('hello from ', ''), fingerprint: socket.getPeerCertificate().fingerprint256 };
    clients.push(client);
    return client;
  }

  async function echoes(client: Client, text = 'ping'): Promise<boolean> {
    if (client.ws.readyState !== WebSocket.OPEN) return false;
    const reply = nextMessage(client.ws);
    client.ws.send(text);
    return (await reply) === text;
  }

  /** Every connection not deliberately drained is open and echoing. */
  async function assertAllOpen(what: string, except: Set<Client> = new Set()): Promise<void> {
    for (const client of clients) {
      if (except.has(client)) continue;
      assert.equal(client.ws.readyState, WebSocket.OPEN, `${what}: a connection to ${client.pod} was closed`);
      assert.ok(await echoes(client, `after ${what}`), `${what}: a connection to ${client.pod} stopped echoing`);
    }
  }

  async function config(): Promise<{ routes: { host: string; path: string; source?: { ingress: string } }[]; pools: { name: string; idleTimeout?: string; drainTimeout?: string; endpoints: { port: number; state: string }[] }[] } | undefined> {
    const res = await fetch(`http://127.0.0.1:${adminPort}/config`);
    return res.status === 200 ? ((await res.json()) as never) : undefined;
  }

  function events(reason: string, name: string): KubeObject[] {
    return api.list('Event', 'default').filter((e) => e['reason'] === reason && (e['involvedObject'] as { name?: string }).name === name);
  }

  before(async () => {
    api = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'wsgate-e2e-run-'));
    const kubeconfig = await writeKubeconfig(dir, api);
    [certV1, certV2] = await Promise.all([makeCert({ hosts: [HOST] }), makeCert({ hosts: [HOST] })]);
    for (const name of ['pod-a', 'pod-b', 'pod-c']) pods.set(name, await pod(name));
    api.apply(ingressClass() as unknown as KubeObject);
    api.apply(service('chat') as unknown as KubeObject);
    api.apply(podSlice('chat', pods.get('pod-a')!));
    api.apply(secretOf('chat-tls', certV1));
    api.apply(chatIngress());
    // The Service whose address the leader writes into Ingress status.
    api.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'wsgate', namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 443 }] }, status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } });

    const httpPort = await deadPort();
    httpsPort = await deadPort();
    adminPort = await deadPort();
    wsgate = spawn(
      process.execPath,
      [CLI_SCRIPT, 'run', '--kubeconfig', kubeconfig, '--workers', '1', '--http-port', String(httpPort), '--https-port', String(httpsPort),
        '--admin-port', String(adminPort), '--bind-address', '127.0.0.1', '--publish-service', 'default/wsgate', '--shutdown-delay', '0s', '--shutdown-timeout', '2s'],
      { cwd: join(import.meta.dirname, '..', '..', '..'), env: { ...process.env, WSGATE_LOG_LEVEL: process.env.WSGATE_TEST_LOG_LEVEL ?? 'warn', POD_NAME: 'wsgate-test-0' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    wsgate.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    wsgate.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => undefined))?.status === 200, 'wsgate ready', 20_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${output}`);
    });
  });

  after(async () => {
    for (const client of clients) client.ws.terminate();
    if (wsgate.exitCode === null) {
      const exited = new Promise((resolve) => wsgate.once('exit', resolve));
      wsgate.kill('SIGTERM');
      await exited;
    }
    for (const upstream of pods.values()) await upstream.close();
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the Ingress over wss with the Secret certificate and reaches the right pod', async () => {
    const client = await open();
    assert.equal(client.fingerprint, certV1.fingerprint256);
    assert.equal(client.pod, 'pod-a');
    assert.ok(await echoes(client));
  });

  it('sends new connections to an added endpoint; the open ones stay', async () => {
    api.apply(podSlice('chat', pods.get('pod-b')!));
    await eventually(async () => (await config())?.pools.find((p) => p.name === CHAT_POOL)?.endpoints.length === 2, 'two endpoints in effect');
    // least-conn: pod-a holds one connection, so the next goes to pod-b.
    const client = await open();
    assert.equal(client.pod, 'pod-b');
    await assertAllOpen('endpoint added');
  });

  it('closes connections of a removed endpoint with 1001 after drain-timeout; others stay', async () => {
    const onA = clients.filter((c) => c.pod === 'pod-a');
    assert.equal(onA.length, 1);
    const closing = closed(onA[0]!.ws);
    api.remove('EndpointSlice', 'default', 'chat-pod-a');
    const { code } = await closing;
    assert.equal(code, 1001);
    clients.splice(clients.indexOf(onA[0]!), 1);
    await assertAllOpen('endpoint removed');
    const next = await open();
    assert.equal(next.pod, 'pod-b');
  });

  it('serves a rotated Secret to new handshakes; open connections stay', async () => {
    api.apply(secretOf('chat-tls', certV2));
    await eventually(async () => {
      const probe = await open();
      const rotated = probe.fingerprint === certV2.fingerprint256;
      probe.ws.close();
      clients.splice(clients.indexOf(probe), 1);
      return rotated;
    }, 'the new certificate served');
    await assertAllOpen('secret rotated');
  });

  it('keeps every connection open through an added Ingress, an added path, a changed annotation and a no-op update', async () => {
    api.apply(service('other') as unknown as KubeObject);
    api.apply(podSlice('other', pods.get('pod-c')!));
    api.apply(ingress('other', { host: 'other.example.test', paths: [{ path: '/', service: 'other', port: 80 }] }) as unknown as KubeObject);
    await eventually(async () => (await config())?.routes.some((r) => r.host === 'other.example.test') === true, 'Ingress added');
    await assertAllOpen('Ingress added');

    api.apply(chatIngress(BASE_ANNOTATIONS, [{ path: '/ws', service: 'chat', port: 80 }, { path: '/v2', service: 'other', port: 80 }]));
    await eventually(async () => (await config())?.routes.some((r) => r.path === '/v2') === true, 'path added');
    const onV2 = await open('/v2');
    assert.equal(onV2.pod, 'pod-c');
    await assertAllOpen('path added');

    api.apply(chatIngress({ ...BASE_ANNOTATIONS, 'wsgate.io/idle-timeout': '10m' }, [{ path: '/ws', service: 'chat', port: 80 }, { path: '/v2', service: 'other', port: 80 }]));
    await eventually(async () => (await config())?.pools.some((p) => p.idleTimeout === '10m') === true, 'annotation applied');
    await assertAllOpen('annotation changed');

    const reloads = metricValue(await scrape(adminPort), 'wsgate_config_reloads_total', { result: 'success' });
    // The same spec again: a new resourceVersion, the same snapshot.
    api.apply(chatIngress({ ...BASE_ANNOTATIONS, 'wsgate.io/idle-timeout': '10m' }, [{ path: '/ws', service: 'chat', port: 80 }, { path: '/v2', service: 'other', port: 80 }]));
    // A later real change proves the no-op was seen; only that change counts as a reload.
    api.apply(podSlice('other', pods.get('pod-c')!, { ready: false }));
    await eventually(async () => (await config())?.pools.some((p) => p.endpoints.some((e) => e.state === 'not-ready')) === true, 'later change applied');
    assert.equal(metricValue(await scrape(adminPort), 'wsgate_config_reloads_total', { result: 'success' }), reloads + 1);
    await assertAllOpen('no-op update');
    api.apply(podSlice('other', pods.get('pod-c')!));
  });

  it('reports an invalid annotation as one Warning Event and keeps the last good behaviour', async () => {
    const good = await config();
    api.apply(chatIngress({ ...BASE_ANNOTATIONS, 'wsgate.io/idle-timeout': 'banana' }, [{ path: '/ws', service: 'chat', port: 80 }, { path: '/v2', service: 'other', port: 80 }]));
    await eventually(() => events('InvalidAnnotation', 'chat').length > 0, 'InvalidAnnotation Event');
    const [event] = events('InvalidAnnotation', 'chat');
    assert.equal(event!['type'], 'Warning');
    assert.match(String(event!['message']), /idle-timeout/);
    assert.match(String(event!['message']), /banana/);
    assert.equal((event!['source'] as { component?: string }).component, 'wsgate');
    assert.deepEqual((await config())?.pools.find((p) => p.name === CHAT_POOL)?.idleTimeout, good?.pools.find((p) => p.name === CHAT_POOL)?.idleTimeout);
    // Later changes (and the resyncs they cause) do not repeat the Event.
    api.apply(podSlice('chat', pods.get('pod-c')!));
    await eventually(async () => (await config())?.pools.find((p) => p.name === CHAT_POOL)?.endpoints.length === 2, 'endpoint change applied');
    assert.equal(events('InvalidAnnotation', 'chat').length, 1);
    assert.equal(Number(events('InvalidAnnotation', 'chat')[0]!['count'] ?? 1), 1);
    const next = await open();
    assert.ok(await echoes(next));
    await assertAllOpen('invalid annotation');
  });

  it('gives a host+path claimed twice to the older Ingress and a Conflict Event to the newer', async () => {
    const claim = (name: string): KubeObject =>
      ingress(name, { host: 'dup.example.test', paths: [{ path: '/', service: 'chat', port: 80 }] }) as unknown as KubeObject;
    // Named so that namespace/name order alone would pick the newer one: only age decides.
    api.apply(claim('zz-first'));
    // creationTimestamp has one-second resolution.
    const first = Date.parse(String(api.get('Ingress', 'default', 'zz-first')!.metadata!.creationTimestamp));
    await eventually(() => Date.now() >= first + 1100, 'the next second');
    api.apply(claim('aa-second'));
    await eventually(() => events('Conflict', 'aa-second').length > 0, 'Conflict Event on the newer Ingress');
    assert.equal(events('Conflict', 'aa-second')[0]!['type'], 'Warning');
    assert.equal(events('Conflict', 'zz-first').length, 0);
    const route = (await config())?.routes.find((r) => r.host === 'dup.example.test');
    assert.equal(route?.source?.ingress, 'zz-first');
  });

  it('writes status.loadBalancer of served Ingresses from --publish-service, as the Lease holder', async () => {
    await eventually(() => {
      const status = api.get('Ingress', 'default', 'chat')?.['status'] as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined;
      return status?.loadBalancer?.ingress?.[0]?.ip === '203.0.113.7';
    }, 'Ingress status written');
    const lease = api.get('Lease', 'default', 'wsgate-wsgate');
    assert.match(String((lease?.['spec'] as { holderIdentity?: string }).holderIdentity), /^wsgate-test-0_/);
    const writes = api.requests.filter((r) => r.resource === 'ingresses' && r.subresource === 'status' && r.name === 'chat').length;
    // A changed address is written again; an unchanged one is not rewritten by later syncs.
    api.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'wsgate', namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 443 }] }, status: { loadBalancer: { ingress: [{ ip: '203.0.113.8' }] } } });
    api.apply(podSlice('chat', pods.get('pod-c')!, { ready: false }));
    await eventually(() => {
      const status = api.get('Ingress', 'default', 'chat')?.['status'] as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined;
      return status?.loadBalancer?.ingress?.[0]?.ip === '203.0.113.8';
    }, 'Ingress status rewritten after the publish Service changed', 45_000);
    assert.equal(api.requests.filter((r) => r.resource === 'ingresses' && r.subresource === 'status' && r.name === 'chat').length, writes + 1);
    api.apply(podSlice('chat', pods.get('pod-c')!));
  });

  it('keeps traffic flowing while the API server is away, and catches up when it is back', async () => {
    await api.stop();
    await assertAllOpen('API server stopped');
    const during = await open();
    assert.ok(await echoes(during));
    await api.restart();
    // A change made right after the restart reaches the data plane.
    api.remove('EndpointSlice', 'default', 'chat-pod-c');
    await eventually(async () => (await config())?.pools.find((p) => p.name === CHAT_POOL)?.endpoints.every((e) => e.port === pods.get('pod-b')!.port) === true, 'change after restart applied', 30_000);
    await assertAllOpen('API server restarted', new Set(clients.filter((c) => c.pod === 'pod-c' && !c.ws.url.endsWith('/v2'))));
  });

  it('removes the metric label sets of a deleted Ingress and Secret', async () => {
    const before = await scrape(adminPort);
    assert.ok(before.includes('wsgate_tls_certificate_expiry_timestamp_seconds{namespace="default",secret="chat-tls"}'));
    assert.ok(before.includes('wsgate_upstream_endpoints{namespace="default",service="other",state="ready"}'));
    api.remove('Secret', 'default', 'chat-tls');
    api.remove('Ingress', 'default', 'other');
    api.apply(chatIngress(BASE_ANNOTATIONS));
    await eventually(async () => {
      const text = await scrape(adminPort);
      return !text.includes('wsgate_tls_certificate_expiry_timestamp_seconds{namespace="default",secret="chat-tls"}') && !text.includes('wsgate_upstream_endpoints{namespace="default",service="other"');
    }, 'label sets removed');
    await eventually(() => events('MissingSecret', 'chat').length > 0, 'MissingSecret Event');
  });
});

// Gateway API end to end through `wsgate run`: the test API server serving the Gateway API kinds,
// ws echo "pods" on 127.0.0.1, ws clients over real TLS. Each step is named after the Gateway API
// conformance test it mirrors; after every change the connections opened before it still echo,
// and a removed route (or a withdrawn ReferenceGrant) drains its connections with 1001.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type ClientOptions } from 'ws';
import { startApiServer, type ApiServer, type KubeObject } from '../../support/apiserver.ts';
import { writeKubeconfig } from '../../support/kubeconfig.ts';
import { endpointSlice, tlsSecret } from '../../support/k8s.ts';
import { gateway, gatewayClass, httpRoute, referenceGrant } from '../../support/gateway.ts';
import { makeCa, makeCert } from '../../support/certs.ts';
import { closed, connect, deadPort, eventually, metricValue, nextMessage, startUpstream, type TestUpstream } from '../../support/proxy.ts';
import type { Condition, HTTPRouteRule } from '../../../src/translate/gateway/types.ts';
import { CLI_SCRIPT } from '../../support/cli.ts';

const HOST = 'gw.example.test';
const DRAIN = { 'wsgate.io/drain-timeout': '300ms' };

function pod(name: string): Promise<TestUpstream> {
  return startUpstream(name, (ws, req) => {
    ws.send(`hello from ${name} x-team=${String(req.headers['x-team'] ?? '')} path=${req.url ?? ''}`);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
}

function wsService(name: string, namespace = 'default'): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ name: 'ws', port: 80, appProtocol: 'kubernetes.io/ws' }] } };
}

function podSlice(serviceName: string, upstream: TestUpstream, namespace = 'default'): KubeObject {
  const slice = endpointSlice(serviceName, { name: `${serviceName}-${upstream.name}`, ports: [{ name: 'ws', port: upstream.port }], endpoints: [{ address: '127.0.0.1', pod: upstream.name }] }) as unknown as KubeObject;
  slice.metadata!.namespace = namespace;
  return slice;
}

function chatRoute(extraRules: HTTPRouteRule[] = []): KubeObject {
  return httpRoute('chat', {
    parentRefs: [{ name: 'gw', sectionName: 'https' }],
    hostnames: [HOST],
    annotations: DRAIN,
    rules: [
      { matches: [{ path: { type: 'PathPrefix', value: '/ws' }, headers: [{ name: 'x-canary', value: 'yes' }] }], backendRefs: [{ name: 'canary', port: 80 }] },
      { matches: [{ path: { type: 'PathPrefix', value: '/ws' } }], backendRefs: [{ name: 'chat', port: 80 }] },
      ...extraRules,
    ],
  }) as unknown as KubeObject;
}

function conditionOf(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

describe('Gateway API through wsgate run', () => {
  let api: ApiServer;
  let dir: string;
  let wsgate: ChildProcess;
  let output = '';
  let httpPort: number;
  let httpsPort: number;
  let adminPort: number;
  const pods = new Map<string, TestUpstream>();
  const clients: WebSocket[] = [];

  async function open(path: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; greeting: string }> {
    const ws = await connect(`wss://127.0.0.1:${httpsPort}${path}`, { servername: HOST, headers: { Host: HOST, ...headers }, rejectUnauthorized: false } as ClientOptions);
    const greeting = await nextMessage(ws);
    clients.push(ws);
    return { ws, greeting };
  }

  async function echoes(ws: WebSocket, text: string): Promise<boolean> {
    if (ws.readyState !== WebSocket.OPEN) return false;
    const reply = nextMessage(ws);
    ws.send(text);
    return (await reply) === text;
  }

  async function assertOpen(what: string, connections: readonly WebSocket[]): Promise<void> {
    for (const ws of connections) assert.ok(await echoes(ws, `after ${what}`), `${what}: an open connection stopped echoing`);
  }

  function routeParents(name: string, namespace = 'default'): { parentRef: { name: string }; conditions: Condition[] }[] {
    return ((api.get('HTTPRoute', namespace, name)?.['status'] as { parents?: never[] } | undefined)?.parents ?? []) as never;
  }

  before(async () => {
    api = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'wsgate-gateway-e2e-'));
    const kubeconfig = await writeKubeconfig(dir, api);
    const cert = await makeCert({ hosts: [HOST] });
    for (const name of ['pod-a', 'pod-b', 'pod-c']) pods.set(name, await pod(name));
    api.apply(gatewayClass() as unknown as KubeObject);
    api.apply(tlsSecret('gw-tls', { cert: cert.cert, key: cert.key }) as unknown as KubeObject);
    api.apply(gateway('gw', {
      listeners: [
        { name: 'http', port: 80, protocol: 'HTTP', hostname: HOST },
        { name: 'https', port: 443, protocol: 'HTTPS', hostname: HOST, tls: { certificateRefs: [{ name: 'gw-tls' }] } },
        { name: 'odd-port', port: 8443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'gw-tls' }] } },
      ],
    }) as unknown as KubeObject);
    for (const [svc, podName] of [['chat', 'pod-a'], ['canary', 'pod-b']] as const) {
      api.apply(wsService(svc));
      api.apply(podSlice(svc, pods.get(podName)!));
    }
    api.apply(chatRoute());
    api.apply(httpRoute('to-https', { parentRefs: [{ name: 'gw', sectionName: 'http' }], hostnames: [HOST], rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }] }) as unknown as KubeObject);
    api.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'wsgate', namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 443 }] }, status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } });

    httpPort = await deadPort();
    httpsPort = await deadPort();
    adminPort = await deadPort();
    wsgate = spawn(
      process.execPath,
      [CLI_SCRIPT, 'run', '--kubeconfig', kubeconfig, '--workers', '1', '--http-port', String(httpPort), '--https-port', String(httpsPort),
        '--admin-port', String(adminPort), '--bind-address', '127.0.0.1', '--publish-service', 'default/wsgate', '--shutdown-delay', '0s', '--shutdown-timeout', '2s'],
      { cwd: join(import.meta.dirname, '..', '..', '..'), env: { ...process.env, WSGATE_LOG_LEVEL: process.env.WSGATE_TEST_LOG_LEVEL ?? 'warn', POD_NAME: 'wsgate-gw-0' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    wsgate.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    wsgate.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => undefined))?.status === 200, 'wsgate ready', 20_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${output}`);
    });
  });

  after(async () => {
    for (const ws of clients) ws.terminate();
    if (wsgate.exitCode === null) {
      const exited = new Promise((resolve) => wsgate.once('exit', resolve));
      wsgate.kill('SIGTERM');
      await exited;
    }
    for (const upstream of pods.values()) await upstream.close();
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  let chat: WebSocket;
  let canary: WebSocket;

  it('HTTPRouteBackendProtocolWebSocket: a wss upgrade on the HTTPS listener reaches the kubernetes.io/ws backend and echoes', async () => {
    const opened = await open('/ws/room');
    chat = opened.ws;
    assert.match(opened.greeting, /^hello from pod-a /);
    assert.ok(await echoes(chat, 'hi'));
  });

  it('HTTPRouteHeaderMatching: the rule with a matching header wins over the plain one on the same path', async () => {
    const opened = await open('/ws/room', { 'X-Canary': 'yes' });
    canary = opened.ws;
    assert.match(opened.greeting, /^hello from pod-b /);
    const other = await open('/ws/room', { 'X-Canary': 'no' });
    assert.match(other.greeting, /^hello from pod-a /);
  });

  it('HTTPRouteRedirectScheme: plain HTTP on the HTTP listener gets 301 to https', async () => {
    const answer = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: httpPort, path: '/ws/room?x=1', headers: { Host: HOST } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      });
      req.on('error', reject);
      req.end();
    });
    assert.deepEqual(answer, { status: 301, location: `https://${HOST}/ws/room?x=1` });
  });

  it('status: GatewayClass Accepted; Gateway Programmed with the publish Service address; listeners and route parents as the spec reasons', async () => {
    await eventually(() => conditionOf((api.get('HTTPRoute', 'default', 'chat')?.['status'] as { parents?: { conditions: Condition[] }[] } | undefined)?.parents?.[0]?.conditions, 'Accepted')?.status === 'True', 'HTTPRoute status written');
    const gc = api.get('GatewayClass', undefined, 'wsgate')!['status'] as { conditions: Condition[] };
    assert.equal(conditionOf(gc.conditions, 'Accepted')?.status, 'True');
    const gw = api.get('Gateway', 'default', 'gw')!['status'] as { addresses: unknown[]; conditions: Condition[]; listeners: { name: string; attachedRoutes: number; conditions: Condition[] }[] };
    assert.deepEqual(gw.addresses, [{ type: 'IPAddress', value: '203.0.113.7' }]);
    assert.equal(conditionOf(gw.conditions, 'Programmed')?.status, 'True');
    const listener = (name: string) => gw.listeners.find((l) => l.name === name)!;
    assert.equal(listener('https').attachedRoutes, 1);
    assert.equal(listener('http').attachedRoutes, 1);
    assert.equal(conditionOf(listener('odd-port').conditions, 'Accepted')?.reason, 'PortUnavailable');
    const parent = routeParents('chat')[0]!;
    assert.equal(conditionOf(parent.conditions, 'ResolvedRefs')?.status, 'True');
    assert.equal(conditionOf(parent.conditions, 'Accepted')?.observedGeneration, 1);
    // Events as for Ingress, on the HTTPRoute.
    await eventually(() => api.list('Event', 'default').some((e) => e['reason'] === 'Sync' && (e['involvedObject'] as { kind?: string; name?: string }).kind === 'HTTPRoute' && (e['involvedObject'] as { name?: string }).name === 'chat'), 'a Sync Event on the HTTPRoute');
  });

  it('HTTPRouteRequestHeaderModifier: a new rule reaches new connections; every open one keeps echoing', async () => {
    api.apply(chatRoute([{ matches: [{ path: { value: '/team' } }], filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Team', value: 'chat' }] } }], backendRefs: [{ name: 'chat', port: 80 }] }]));
    await eventually(async () => {
      const ws = await connect(`wss://127.0.0.1:${httpsPort}/team`, { servername: HOST, headers: { Host: HOST }, rejectUnauthorized: false } as ClientOptions).catch(() => undefined);
      if (ws === undefined) return false;
      const greeting = await nextMessage(ws);
      ws.terminate();
      return greeting.includes('x-team=chat');
    }, 'the header modifier applied');
    await assertOpen('adding a rule', [chat, canary]);
  });

  it('HTTPRouteReferenceGrant: a cross-namespace backend needs a grant; withdrawing it sets RefNotPermitted and drains with 1001', async () => {
    api.apply(wsService('shared', 'backends'));
    api.apply(podSlice('shared', pods.get('pod-c')!, 'backends'));
    api.apply(referenceGrant('allow-default', 'backends', { kind: 'HTTPRoute', namespace: 'default' }, { kind: 'Service', name: 'shared' }) as unknown as KubeObject);
    api.apply(httpRoute('shared', { parentRefs: [{ name: 'gw', sectionName: 'https' }], hostnames: [HOST], annotations: DRAIN, rules: [{ matches: [{ path: { value: '/shared' } }], backendRefs: [{ name: 'shared', namespace: 'backends', port: 80 }] }] }) as unknown as KubeObject);
    let shared: WebSocket | undefined;
    await eventually(async () => {
      const ws = await connect(`wss://127.0.0.1:${httpsPort}/shared`, { servername: HOST, headers: { Host: HOST }, rejectUnauthorized: false } as ClientOptions).catch(() => undefined);
      if (ws === undefined) return false;
      if (!(await nextMessage(ws)).startsWith('hello from pod-c')) return false;
      shared = ws;
      clients.push(ws);
      return true;
    }, 'the granted backend serves');
    const closing = closed(shared!);
    api.remove('ReferenceGrant', 'backends', 'allow-default');
    const { code } = await closing;
    assert.equal(code, 1001);
    await eventually(() => conditionOf(routeParents('shared')[0]?.conditions, 'ResolvedRefs')?.reason === 'RefNotPermitted', 'RefNotPermitted written');
    await assertOpen('withdrawing a grant', [chat, canary]);
  });

  it('HTTPRouteInvalidNonExistentBackendRef and HTTPRouteInvalidCrossNamespaceBackendRef: 500 for wss and plain HTTP, BackendNotFound / RefNotPermitted in status', async () => {
    api.apply(httpRoute('broken', {
      parentRefs: [{ name: 'gw', sectionName: 'https' }],
      hostnames: [HOST],
      rules: [
        { matches: [{ path: { value: '/missing' } }], backendRefs: [{ name: 'nothing', port: 80 }] },
        // The grant was withdrawn above: no longer permitted.
        { matches: [{ path: { value: '/cross' } }], backendRefs: [{ name: 'shared', namespace: 'backends', port: 80 }] },
      ],
    }) as unknown as KubeObject);
    const upgrade = (path: string): Promise<number> =>
      connect(`wss://127.0.0.1:${httpsPort}${path}`, { servername: HOST, headers: { Host: HOST }, rejectUnauthorized: false } as ClientOptions).then(
        (ws) => {
          ws.terminate();
          return 101;
        },
        (error: { status?: number }) => error.status ?? 0,
      );
    const plain = (path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port: httpsPort, path, servername: HOST, headers: { Host: HOST }, rejectUnauthorized: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    await eventually(async () => (await upgrade('/missing')) === 500, 'the missing Service answers 500');
    assert.equal(await upgrade('/cross'), 500);
    assert.equal(await plain('/missing'), 500);
    assert.equal(await plain('/cross'), 500);
    await eventually(() => conditionOf(routeParents('broken')[0]?.conditions, 'ResolvedRefs')?.status === 'False', 'ResolvedRefs=False written');
    assert.equal(conditionOf(routeParents('broken')[0]!.conditions, 'Accepted')?.status, 'True');
    const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    // One upgrade each (the eventually above may have retried /missing while the route was not yet served).
    assert.equal(metricValue(metrics, 'wsgate_handshake_failures_total', { ingress: 'broken', service: 'shared', reason: 'no_endpoints' }), 1);
    assert.ok(metricValue(metrics, 'wsgate_handshake_failures_total', { ingress: 'broken', service: 'nothing', reason: 'no_endpoints' }) >= 1);
    await assertOpen('an invalid backendRef', [chat, canary]);
  });

  it('a removed HTTPRoute drains its connections with 1001 after drain-timeout', async () => {
    const closingChat = closed(chat);
    const closingCanary = closed(canary);
    api.remove('HTTPRoute', 'default', 'chat');
    assert.equal((await closingChat).code, 1001);
    assert.equal((await closingCanary).code, 1001);
  });

  it('an HTTPRoute moved to a Gateway that is not wsgate\'s loses wsgate\'s status.parents entry', async () => {
    assert.equal(routeParents('to-https').length, 1);
    api.apply(httpRoute('to-https', { parentRefs: [{ name: 'elsewhere' }], hostnames: [HOST], rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }] }) as unknown as KubeObject);
    await eventually(() => routeParents('to-https').length === 0, 'the stale parent entry removed');
  });

  it('HTTPRouteBackendProtocolWebSocket with kubernetes.io/wss: TLS to the pod, verified against the BackendTLSPolicy CA and hostname; without the policy it fails closed', async () => {
    const ca = await makeCa({ commonName: 'backend CA' });
    const cert = await makeCert({ hosts: ['chat.backend.test'], ca });
    const backend = https.createServer({ cert: cert.cert, key: cert.key });
    new WebSocketServer({ server: backend }).on('connection', (ws) => {
      ws.send('hello from the wss pod');
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    try {
      const port = (backend.address() as AddressInfo).port;
      api.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'secure', namespace: 'default' }, spec: { ports: [{ name: 'wss', port: 443, appProtocol: 'kubernetes.io/wss' }] } });
      const slice = endpointSlice('secure', { name: 'secure-1', ports: [{ name: 'wss', port }], endpoints: [{ address: '127.0.0.1', pod: 'secure-0' }] }) as unknown as KubeObject;
      api.apply(slice);
      api.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'secure-ca', namespace: 'default' }, data: { 'ca.crt': ca.cert } });
      const policy: KubeObject = {
        apiVersion: 'gateway.networking.k8s.io/v1alpha3', kind: 'BackendTLSPolicy', metadata: { name: 'secure', namespace: 'default' },
        spec: { targetRefs: [{ group: '', kind: 'Service', name: 'secure' }], validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'secure-ca' }], hostname: 'chat.backend.test' } },
      };
      api.apply(policy);
      api.apply(httpRoute('secure', { parentRefs: [{ name: 'gw', sectionName: 'https' }], hostnames: [HOST], rules: [{ matches: [{ path: { value: '/secure' } }], backendRefs: [{ name: 'secure', port: 443 }] }] }) as unknown as KubeObject);
      const attempt = async (): Promise<string | number> => {
        try {
          const ws = await connect(`wss://127.0.0.1:${httpsPort}/secure`, { servername: HOST, headers: { Host: HOST }, rejectUnauthorized: false } as ClientOptions);
          const greeting = await nextMessage(ws);
          const echoed = await echoes(ws, 'over wss');
          ws.terminate();
          return echoed ? greeting : 'no echo';
        } catch (error) {
          return (error as { status?: number }).status ?? 0;
        }
      };
      await eventually(async () => (await attempt()) === 'hello from the wss pod', 'relayed over verified TLS');
      api.remove('BackendTLSPolicy', 'default', 'secure');
      await eventually(async () => (await attempt()) === 502, 'without the policy: 502, never an unverified connection');
    } finally {
      await new Promise((resolve) => backend.close(resolve));
    }
  });
});

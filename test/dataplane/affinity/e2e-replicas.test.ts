// SPEC §6 cookie affinity across wsgate replicas, as the chart deploys them: the affinity key is
// an Opaque Secret in the release namespace (`wsgate`), outside the one watched namespace
// (`default`), named by --affinity-secret. Replica A is `wsgate run`, replica B the sidecar pair
// (`controller --output` beside `proxy --config`), both with 2 workers, 3 ws "pods", one test API
// server. A cookie one replica issues is the cookie the other issues and honours: a Socket.IO
// sequence whose requests alternate between the replicas lands on one pod every time, and once
// that pod is not ready both move it to the same new pod under one new cookie.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { startApiServer, type ApiServer, type KubeObject } from '../../support/apiserver.ts';
import { writeKubeconfig } from '../../support/kubeconfig.ts';
import { endpointSlice, ingress, ingressClass, service } from '../../support/k8s.ts';
import { deadPort, eventually, startUpstream, type TestUpstream } from '../../support/proxy.ts';
import { CLI_SCRIPT } from '../../support/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const HOST = 'sio.example.test';
const COOKIE = 'SIO';
const PODS = ['pod-a', 'pod-b', 'pod-c'];
const KEY = Buffer.from('replicas-share-this-32-byte-key!');
const AFFINITY_SECRET = 'wsgate/wsgate-affinity';

interface Answer {
  pod: string;
  setCookie: string | undefined;
}

interface Replica {
  name: string;
  httpPort: number;
  processes: ChildProcess[];
}

function start(args: string[], logs: string[]): ChildProcess {
  const child = spawn(process.execPath, [CLI_SCRIPT, ...args], {
    cwd: ROOT,
    env: { ...process.env, WSGATE_LOG_LEVEL: process.env.WSGATE_TEST_LOG_LEVEL ?? 'warn', POD_NAME: `wsgate-${args[0]}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => logs.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const ready = async (port: number): Promise<boolean> => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200;

/** `SIO=VALUE; ...` -> `SIO=VALUE`, what a browser sends back. */
function cookieOf(setCookie: string | undefined): string {
  assert.ok(setCookie !== undefined, 'a Set-Cookie was sent');
  return setCookie.split(';')[0]!;
}

/** The cookie any replica holding KEY issues for a pod of default/sio. */
function expectedCookie(pod: string): string {
  return `${COOKIE}=${createHmac('sha256', KEY).update(`default/sio/${pod}`).digest().subarray(0, 16).toString('base64url')}`;
}

describe('cookie affinity across two replicas sharing the affinity Secret (wsgate run and the sidecar pair)', () => {
  let api: ApiServer;
  let dir: string;
  const logs: string[] = [];
  const pods: TestUpstream[] = [];
  let a: Replica;
  let b: Replica;

  const slice = (pod: TestUpstream, isReady: boolean): KubeObject =>
    endpointSlice('sio', { name: `sio-${pod.name}`, ports: [{ name: 'http', port: pod.port }], endpoints: [{ address: '127.0.0.1', pod: pod.name, ready: isReady }] }) as unknown as KubeObject;

  /** One polling GET on a fresh connection to a replica. */
  const poll = (replica: Replica, cookie?: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { Host: HOST };
      if (cookie !== undefined) headers.Cookie = `io=abc; ${cookie}`;
      const req = http.get({ host: '127.0.0.1', port: replica.httpPort, path: '/socket.io/?EIO=4&transport=polling', headers, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ pod: String(res.headers['x-upstream']), setCookie: res.headers['set-cookie']?.[0] }));
      });
      req.on('error', reject);
    });

  /** The upgrade on a replica: which pod took the WebSocket, and the 101's Set-Cookie. */
  const upgrade = (replica: Replica, cookie?: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const counts = pods.map((pod) => pod.handshakes.length);
      const headers: Record<string, string> = { Host: HOST };
      if (cookie !== undefined) headers.Cookie = cookie;
      const ws = new WebSocket(`ws://127.0.0.1:${replica.httpPort}/socket.io/?EIO=4&transport=websocket`, { headers });
      let setCookie: string | undefined;
      ws.once('upgrade', (res) => (setCookie = res.headers['set-cookie']?.[0]));
      ws.once('open', () => {
        const index = pods.findIndex((pod, i) => pod.handshakes.length > counts[i]!);
        ws.close(1000);
        resolve({ pod: pods[index]?.name ?? 'none', setCookie });
      });
      ws.once('error', reject);
    });

  /** Polls without a cookie until `pod` answers: the cookie this replica issues for it. */
  const cookieFor = async (replica: Replica, pod: string): Promise<string> => {
    for (let i = 0; i < 30; i++) {
      const answer = await poll(replica);
      if (answer.pod === pod) return cookieOf(answer.setCookie);
    }
    throw new Error(`${replica.name} never balanced a request onto ${pod}`);
  };

  before(async () => {
    api = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'wsgate-e2e-affinity-replicas-'));
    const kubeconfig = await writeKubeconfig(dir, api);
    for (const name of PODS) pods.push(await startUpstream(name));
    api.apply(ingressClass() as unknown as KubeObject);
    api.apply(service('sio') as unknown as KubeObject);
    // As the chart creates it: in the release namespace, not the watched one.
    api.apply({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'wsgate-affinity', namespace: 'wsgate' }, data: { 'affinity.key': KEY.toString('base64') } } as unknown as KubeObject);
    for (const pod of pods) api.apply(slice(pod, true));
    api.apply(ingress('sio', {
      host: HOST,
      paths: [{ path: '/', service: 'sio', port: 80 }],
      annotations: {
        'nginx.ingress.kubernetes.io/affinity': 'cookie',
        'nginx.ingress.kubernetes.io/session-cookie-name': COOKIE,
        'wsgate.io/load-balance': 'round-robin',
      },
    }) as unknown as KubeObject);
    const common = ['--bind-address', '127.0.0.1', '--shutdown-delay', '0s', '--shutdown-timeout', '2s'];
    const kube = ['--kubeconfig', kubeconfig, '--watch-namespace', 'default', '--affinity-secret', AFFINITY_SECRET];
    const dataPlane = async (): Promise<string[]> => ['--workers', '2', '--https-port', String(await deadPort())];

    const aHttp = await deadPort();
    const aAdmin = await deadPort();
    a = { name: 'run', httpPort: aHttp, processes: [start(['run', ...kube, ...(await dataPlane()), '--http-port', String(aHttp), '--admin-port', String(aAdmin), ...common], logs)] };

    const bHttp = await deadPort();
    const bAdmin = await deadPort();
    const controllerAdmin = await deadPort();
    const snapshotFile = join(dir, 'snapshot.json');
    b = {
      name: 'sidecar',
      httpPort: bHttp,
      processes: [
        start(['controller', ...kube, '--output', snapshotFile, '--admin-port', String(controllerAdmin), '--bind-address', '127.0.0.1'], logs),
        start(['proxy', '--config', snapshotFile, ...(await dataPlane()), '--http-port', String(bHttp), '--admin-port', String(bAdmin), ...common], logs),
      ],
    };
    await eventually(async () => (await ready(aAdmin)) && (await ready(bAdmin)) && (await ready(controllerAdmin)), 'both replicas ready', 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${logs.join('')}`);
    });
    for (const replica of [a, b]) {
      await eventually(async () => (await Promise.all([poll(replica), poll(replica)].map((p) => p.catch(() => undefined)))).every((x) => x?.pod.startsWith('pod-')), `${replica.name} serves the route`, 15_000);
    }
  });

  after(async () => {
    await Promise.all([...(a?.processes ?? []), ...(b?.processes ?? [])].map(stop));
    for (const pod of pods) await pod.close();
    await api?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('both replicas issue the same cookie for a pod: the HMAC under the Secret\'s key', async () => {
    for (const pod of PODS) {
      const [fromA, fromB] = [await cookieFor(a, pod), await cookieFor(b, pod)];
      assert.equal(fromA, expectedCookie(pod), `run's cookie for ${pod}`);
      assert.equal(fromB, expectedCookie(pod), `the sidecar pair's cookie for ${pod}`);
    }
  });

  it('a Socket.IO sequence whose requests alternate between the replicas lands on one pod every time', async () => {
    const landed = new Set<string>();
    for (let session = 0; session < 6; session++) {
      // Even sessions start on run, odd ones on the sidecar pair; each step goes to the other replica.
      const [first, second] = session % 2 === 0 ? [a, b] : [b, a];
      const handshake = await poll(first);
      const cookie = cookieOf(handshake.setCookie);
      const polled = await poll(second, cookie);
      const wsOther = await upgrade(second, `${cookie}; io=abc`);
      const wsSame = await upgrade(first, cookie);
      assert.deepEqual([polled.pod, wsOther.pod, wsSame.pod], [handshake.pod, handshake.pod, handshake.pod], `session ${session} (from ${first.name}) stays on ${handshake.pod}`);
      // The other replica accepts the cookie as valid: it does not set a new one.
      assert.deepEqual([polled.setCookie, wsOther.setCookie, wsSame.setCookie], [undefined, undefined, undefined]);
      landed.add(handshake.pod);
    }
    assert.ok(landed.size >= 2, `sessions spread over ${[...landed].join(', ')}`);
  });

  it('once its pod is not ready, both replicas send the cookie to another pod, and the new cookie is honoured by both', async () => {
    const cookie = await cookieFor(a, 'pod-b');
    const pinned = pods[1]!;
    api.apply(slice(pinned, false));
    try {
      for (const replica of [a, b]) {
        await eventually(async () => (await poll(replica, cookie)).pod !== pinned.name, `${replica.name} stops sending the cookie to ${pinned.name}`, 15_000);
      }
      const moved = await poll(b, cookie);
      assert.notEqual(moved.pod, pinned.name);
      const renewed = cookieOf(moved.setCookie);
      assert.equal(renewed, expectedCookie(moved.pod));
      const onA = [await poll(a, renewed), await upgrade(a, renewed)];
      const onB = [await poll(b, renewed), await upgrade(b, renewed)];
      assert.deepEqual([...onA, ...onB].map((x) => x.pod), [moved.pod, moved.pod, moved.pod, moved.pod]);
      assert.deepEqual([...onA, ...onB].map((x) => x.setCookie), [undefined, undefined, undefined, undefined]);
    } finally {
      api.apply(slice(pinned, true));
    }
  });
});

// SPEC §6 cookie affinity through the Kubernetes path: `wsgate run` with 2 workers, the test API
// server, 3 ws "pods" on loopback, the ingress-nginx annotations of a Socket.IO app. A Socket.IO
// sequence (two plain HTTP polling requests, then the upgrade, each on its own TCP connection so
// the workers take turns) lands on one pod every time; once that pod stops being ready the cookie
// leads to another pod with a new cookie; a forged cookie is balanced as if absent.
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

const HOST = 'sio.example.test';
const COOKIE = 'SIO';
const PODS = ['pod-a', 'pod-b', 'pod-c'];
/** The key every replica reads from the --affinity-secret Secret. */
const KEY = Buffer.from('0123456789abcdefghijklmnopqrstuv');

interface Answer {
  pod: string;
  setCookie: string | undefined;
}

describe('cookie affinity through wsgate run (2 workers, 3 endpoints)', () => {
  let api: ApiServer;
  let dir: string;
  let wsgate: ChildProcess;
  let output = '';
  let httpPort: number;
  const pods: TestUpstream[] = [];

  const slice = (pod: TestUpstream, ready: boolean): KubeObject =>
    endpointSlice('sio', { name: `sio-${pod.name}`, ports: [{ name: 'http', port: pod.port }], endpoints: [{ address: '127.0.0.1', pod: pod.name, ready }] }) as unknown as KubeObject;

  /** One polling GET on a fresh connection: which pod answered, and the Set-Cookie it came with. */
  const poll = (cookie?: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { Host: HOST };
      if (cookie !== undefined) headers.Cookie = `io=abc; ${cookie}`;
      const req = http.get({ host: '127.0.0.1', port: httpPort, path: '/socket.io/?EIO=4&transport=polling', headers, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ pod: String(res.headers['x-upstream']), setCookie: res.headers['set-cookie']?.[0] }));
      });
      req.on('error', reject);
    });

  /** The upgrade: which pod took the WebSocket, and the Set-Cookie of the 101. */
  const upgrade = (cookie?: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const before = pods.map((pod) => pod.handshakes.length);
      const headers: Record<string, string> = { Host: HOST };
      if (cookie !== undefined) headers.Cookie = cookie;
      const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/socket.io/?EIO=4&transport=websocket`, { headers });
      let setCookie: string | undefined;
      ws.once('upgrade', (res) => (setCookie = res.headers['set-cookie']?.[0]));
      ws.once('open', () => {
        const index = pods.findIndex((pod, i) => pod.handshakes.length > before[i]!);
        ws.close(1000);
        resolve({ pod: pods[index]?.name ?? 'none', setCookie });
      });
      ws.once('error', reject);
    });

  /** `SIO=VALUE; ...` -> `SIO=VALUE`, what a browser sends back. */
  const cookieOf = (setCookie: string | undefined): string => {
    assert.ok(setCookie !== undefined, 'a Set-Cookie was sent');
    return setCookie.split(';')[0]!;
  };

  before(async () => {
    api = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'wsgate-e2e-affinity-'));
    const kubeconfig = await writeKubeconfig(dir, api);
    for (const name of PODS) pods.push(await startUpstream(name));
    api.apply(ingressClass() as unknown as KubeObject);
    api.apply(service('sio') as unknown as KubeObject);
    api.apply({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'wsgate-affinity', namespace: 'default' }, data: { 'affinity.key': KEY.toString('base64') } } as unknown as KubeObject);
    for (const pod of pods) api.apply(slice(pod, true));
    api.apply(ingress('sio', {
      host: HOST,
      paths: [{ path: '/', service: 'sio', port: 80 }],
      annotations: {
        'nginx.ingress.kubernetes.io/affinity': 'cookie',
        'nginx.ingress.kubernetes.io/affinity-mode': 'persistent',
        'nginx.ingress.kubernetes.io/session-cookie-name': COOKIE,
        'nginx.ingress.kubernetes.io/session-cookie-max-age': '3600',
        'wsgate.io/session-cookie-path': '/socket.io/',
        'wsgate.io/session-cookie-samesite': 'Lax',
        'wsgate.io/load-balance': 'round-robin',
      },
    }) as unknown as KubeObject);
    httpPort = await deadPort();
    const adminPort = await deadPort();
    wsgate = spawn(
      process.execPath,
      [CLI_SCRIPT, 'run', '--kubeconfig', kubeconfig, '--workers', '2', '--http-port', String(httpPort), '--https-port', String(await deadPort()),
        '--admin-port', String(adminPort), '--bind-address', '127.0.0.1', '--affinity-secret', 'default/wsgate-affinity', '--shutdown-delay', '0s', '--shutdown-timeout', '2s'],
      { cwd: join(import.meta.dirname, '..', '..', '..'), env: { ...process.env, WSGATE_LOG_LEVEL: process.env.WSGATE_TEST_LOG_LEVEL ?? 'warn', POD_NAME: 'wsgate-test-0' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    wsgate.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    wsgate.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => undefined))?.status === 200, 'wsgate ready', 20_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${output}`);
    });
    // Both workers serve the route (fresh connections alternate between them).
    await eventually(async () => (await Promise.all([poll(), poll()].map((p) => p.catch(() => undefined)))).every((a) => a?.pod.startsWith('pod-')), 'route served', 10_000);
  });

  after(async () => {
    if (wsgate.exitCode === null) {
      const exited = new Promise((resolve) => wsgate.once('exit', resolve));
      wsgate.kill('SIGTERM');
      await exited;
    }
    for (const pod of pods) await pod.close();
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('issues an opaque cookie with the configured attributes, never the address', async () => {
    const first = await poll();
    assert.match(first.setCookie ?? '', /^SIO=[A-Za-z0-9_-]{22}; Path=\/socket\.io\/; Max-Age=3600; SameSite=Lax; HttpOnly$/);
    const pod = pods.find((p) => p.name === first.pod)!;
    // The value is the HMAC of namespace/service/pod under the Secret's key: any replica reading
    // the same Secret issues and honours the same cookie.
    const expected = createHmac('sha256', KEY).update(`default/sio/${first.pod}`).digest().subarray(0, 16).toString('base64url');
    assert.equal(cookieOf(first.setCookie), `${COOKIE}=${expected}`);
    assert.ok(!first.setCookie!.includes('127.0.0.1') && !first.setCookie!.includes(String(pod.port)) && !first.setCookie!.includes(pod.name));
  });

  it('a Socket.IO sequence (poll, poll, upgrade) lands on one pod every time, across both workers', async () => {
    const landed = new Set<string>();
    for (let session = 0; session < 6; session++) {
      const handshake = await poll();
      const cookie = cookieOf(handshake.setCookie);
      const second = await poll(cookie);
      const ws = await upgrade(`${cookie}; io=abc`);
      assert.deepEqual([second.pod, ws.pod], [handshake.pod, handshake.pod], `session ${session} stays on ${handshake.pod}`);
      // A valid cookie is not set again.
      assert.deepEqual([second.setCookie, ws.setCookie], [undefined, undefined]);
      landed.add(handshake.pod);
    }
    // Round-robin spread the new sessions: affinity pinned them, it did not funnel them.
    assert.ok(landed.size >= 2, `sessions spread over ${[...landed].join(', ')}`);
  });

  it('a 101 without a cookie carries one, and it pins the plain requests that follow', async () => {
    const ws = await upgrade();
    assert.match(ws.setCookie ?? '', /^SIO=[A-Za-z0-9_-]{22}; Path=\/socket\.io\/; Max-Age=3600; SameSite=Lax; HttpOnly$/);
    const cookie = cookieOf(ws.setCookie);
    const polls = [await poll(cookie), await poll(cookie), await poll(cookie)];
    assert.deepEqual(polls.map((p) => p.pod), [ws.pod, ws.pod, ws.pod]);
  });

  it('a forged cookie is balanced as if absent and replaced', async () => {
    const forged = `${COOKIE}=${Buffer.from('127.0.0.1:1').toString('base64url')}`;
    const answers = await Promise.all([poll(forged), poll(forged), poll(forged)]);
    for (const answer of answers) {
      assert.ok(PODS.includes(answer.pod));
      assert.notEqual(cookieOf(answer.setCookie), forged);
    }
    assert.ok(new Set(answers.map((a) => a.pod)).size >= 2, 'the forged cookie pinned nothing');
  });

  it('once its pod stops being ready the cookie leads to another pod, with a new cookie that sticks there', async () => {
    const first = await poll();
    const cookie = cookieOf(first.setCookie);
    const pinned = pods.find((p) => p.name === first.pod)!;
    api.apply(slice(pinned, false));
    await eventually(async () => (await poll(cookie)).pod !== pinned.name, 'the not-ready pod takes no pinned request', 10_000);
    const moved = await poll(cookie);
    assert.notEqual(moved.pod, pinned.name);
    const renewed = cookieOf(moved.setCookie);
    assert.notEqual(renewed, cookie);
    const ws = await upgrade(renewed);
    const again = await poll(renewed);
    assert.deepEqual([ws.pod, again.pod], [moved.pod, moved.pod]);
    api.apply(slice(pinned, true));
  });
});

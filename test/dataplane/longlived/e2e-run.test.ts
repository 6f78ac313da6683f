// The long-lived features through the Kubernetes path: `wsgate run` with 2 workers, the test API
// server, ws "pods" on loopback, annotations on an Ingress. Pings cut a silent client, a flooding
// client gets 1008, per-endpoint caps answer 503 `limit` pod-wide, and the per-endpoint gauge
// names the pods.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WebSocket } from 'ws';
import { startApiServer, type ApiServer, type KubeObject } from '../../support/apiserver.ts';
import { writeKubeconfig } from '../../support/kubeconfig.ts';
import { endpointSlice, ingress, ingressClass, service } from '../../support/k8s.ts';
import { closed, connect, deadPort, eventually, metricValue, scrape, startUpstream, type TestUpstream } from '../../support/proxy.ts';
import { CLI_SCRIPT } from '../../support/cli.ts';

const HOST = 'live.example.test';

describe('long-lived features through wsgate run (2 workers)', () => {
  let api: ApiServer;
  let dir: string;
  let wsgate: ChildProcess;
  let output = '';
  let httpPort: number;
  let adminPort: number;
  const pods: TestUpstream[] = [];

  const url = (path: string): string => `ws://127.0.0.1:${httpPort}${path}`;
  const open = (path: string, options: Record<string, unknown> = {}): Promise<WebSocket> => connect(url(path), { headers: { Host: HOST }, ...options });

  before(async () => {
    api = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'wsgate-e2e-longlived-'));
    const kubeconfig = await writeKubeconfig(dir, api);
    for (const name of ['pod-a', 'pod-b']) pods.push(await startUpstream(name, (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }))));
    api.apply(ingressClass() as unknown as KubeObject);
    api.apply(service('live') as unknown as KubeObject);
    for (const pod of pods) {
      api.apply(endpointSlice('live', { name: `live-${pod.name}`, ports: [{ name: 'http', port: pod.port }], endpoints: [{ address: '127.0.0.1', pod: pod.name, ready: true }] }) as unknown as KubeObject);
    }
    api.apply(ingress('live', {
      host: HOST,
      paths: [{ path: '/', service: 'live', port: 80 }],
      annotations: {
        'wsgate.io/ping-interval': '400ms',
        'wsgate.io/ping-timeout': '400ms',
        'wsgate.io/max-messages-per-second': '20',
        'wsgate.io/max-connections-per-endpoint': '2',
      },
    }) as unknown as KubeObject);
    httpPort = await deadPort();
    adminPort = await deadPort();
    wsgate = spawn(
      process.execPath,
      [CLI_SCRIPT, 'run', '--kubeconfig', kubeconfig, '--workers', '2', '--http-port', String(httpPort), '--https-port', String(await deadPort()),
        '--admin-port', String(adminPort), '--bind-address', '127.0.0.1', '--shutdown-delay', '0s', '--shutdown-timeout', '2s'],
      { cwd: join(import.meta.dirname, '..', '..', '..'), env: { ...process.env, WSGATE_LOG_LEVEL: process.env.WSGATE_TEST_LOG_LEVEL ?? 'warn', POD_NAME: 'wsgate-test-0' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    wsgate.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    wsgate.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => undefined))?.status === 200, 'wsgate ready', 20_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${output}`);
    });
    // The route answers (the snapshot reached every worker).
    await eventually(async () => {
      const ws = await open('/probe').catch(() => undefined);
      ws?.close();
      return ws !== undefined;
    }, 'route served', 10_000);
    await eventually(() => pods.every((pod) => pod.sockets.size === 0), 'probes gone');
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

  const metric = async (name: string, labels: Record<string, string>): Promise<number> => metricValue(await scrape(adminPort), name, labels);

  it('cuts a client that stops answering pings: 1006 client, counted in wsgate_ping_timeouts_total', async () => {
    const ws = await open('/silent', { autoPong: false });
    const started = performance.now();
    assert.equal((await closed(ws)).code, 1006);
    assert.ok(performance.now() - started >= 750, 'not before interval + timeout');
    await eventually(async () => (await metric('wsgate_ping_timeouts_total', { namespace: 'default', ingress: 'live', service: 'live', side: 'client' })) === 1, 'ping timeout counted');
  });

  it('gives a flooding client 1008', async () => {
    const ws = await open('/flood');
    const result = closed(ws);
    for (let i = 0; i < 200 && ws.readyState === ws.OPEN; i++) {
      ws.send(`m${i}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal((await result).code, 1008);
  });

  it('caps connections per endpoint across the workers: 4 fit, the 5th gets 503, the gauge names the pods', async () => {
    await eventually(() => pods.every((pod) => pod.sockets.size === 0), 'earlier connections gone');
    const held: WebSocket[] = [];
    for (let i = 0; i < 4; i++) {
      held.push(await open(`/held-${i}`));
      // Let the workers exchange their counts (every 250 ms): the cap is pod-wide.
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    assert.deepEqual(pods.map((pod) => pod.sockets.size), [2, 2]);
    await assert.rejects(open('/one-more'), /503/);
    await eventually(async () => (await metric('wsgate_upstream_connections_active', { service: 'live', endpoint: 'pod-a' })) === 2, 'gauge for pod-a');
    assert.equal(await metric('wsgate_upstream_connections_active', { service: 'live', endpoint: 'pod-b' }), 2);
    for (const ws of held) ws.close(1000);
    await Promise.all(held.map((ws) => closed(ws)));
  });
});

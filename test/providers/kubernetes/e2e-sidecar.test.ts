// The sidecar pair as the chart runs it: `wsgate controller --output FILE` (API credentials, no
// traffic) beside `wsgate proxy --config FILE` (traffic, no credentials), two processes sharing
// one file; and `wsgate controller --once`, which prints what the cluster would produce.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TLSSocket } from 'node:tls';
import { WebSocket, type ClientOptions } from 'ws';
import { validateSnapshot } from '../../../src/config/validate.ts';
import { prettyCanonicalJson } from '../../../src/config/pretty.ts';
import { redactSnapshot } from '../../../src/config/redact.ts';
import type { Snapshot } from '../../../src/config/snapshot.ts';
import { translate } from '../../../src/translate/translate.ts';
import type { Resources } from '../../../src/translate/types.ts';
import { startApiServer, type ApiServer, type KubeObject } from '../../support/apiserver.ts';
import { writeKubeconfig } from '../../support/kubeconfig.ts';
import { endpointSlice, ingress, ingressClass, kubernetesObject, service, tlsSecret } from '../../support/k8s.ts';
import { makeCert, type TestCertificate } from '../../support/certs.ts';
import { connect, deadPort, eventually, metricValue, nextMessage, scrape, startUpstream, type TestUpstream } from '../../support/proxy.ts';
import { CLI_SCRIPT } from '../../support/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const HOST = 'chat.example.test';

function pod(name: string): Promise<TestUpstream> {
  return startUpstream(name, (ws) => {
    ws.send(`hello from ${name}`);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
}

function podSlice(upstream: TestUpstream): KubeObject {
  return endpointSlice('chat', { name: `chat-${upstream.name}`, ports: [{ name: 'http', port: upstream.port }], endpoints: [{ address: '127.0.0.1', ready: true, pod: upstream.name }] }) as unknown as KubeObject;
}

function chatIngress(): KubeObject {
  return ingress('chat', { host: HOST, paths: [{ path: '/ws', service: 'chat', port: 80 }], tls: [{ hosts: [HOST], secretName: 'chat-tls' }] }) as unknown as KubeObject;
}

function wsgate(args: string[], logs: string[]): ChildProcess {
  const child = spawn(process.execPath, [CLI_SCRIPT, ...args], {
    cwd: ROOT,
    env: { ...process.env, WSGATE_LOG_LEVEL: process.env.WSGATE_TEST_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => logs.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function status(port: number, path: string): Promise<number | undefined> {
  return (await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined))?.status;
}

describe('the sidecar pair: controller --output beside proxy --config', () => {
  let api: ApiServer;
  let dir: string;
  let kubeconfig: string;
  let controller: ChildProcess;
  let proxy: ChildProcess;
  const logs: string[] = [];
  let snapshotFile: string;
  let controllerAdmin: number;
  let proxyAdmin: number;
  let httpsPort: number;
  const pods = new Map<string, TestUpstream>();
  const sockets: WebSocket[] = [];
  let cert: TestCertificate;

  async function open(): Promise<{ ws: WebSocket; pod: string; fingerprint: string }> {
    const ws = await connect(`wss://127.0.0.1:${httpsPort}/ws`, { servername: HOST, headers: { Host: HOST } } as ClientOptions);
    sockets.push(ws);
    const greeting = await nextMessage(ws);
    const socket = (ws as unknown as { _socket: TLSSocket })._socket;
    return { ws, pod: greeting.replace('hello from ', ''), fingerprint: socket.getPeerCertificate().fingerprint256 };
  }

  before(async () => {
    api = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'wsgate-e2e-sidecar-'));
    kubeconfig = await writeKubeconfig(dir, api);
    snapshotFile = join(dir, 'snapshot.json');
    cert = await makeCert({ hosts: [HOST] });
    for (const name of ['pod-a', 'pod-b']) pods.set(name, await pod(name));
    api.apply(ingressClass() as unknown as KubeObject);
    api.apply(service('chat') as unknown as KubeObject);
    api.apply(podSlice(pods.get('pod-a')!));
    api.apply(tlsSecret('chat-tls', { cert: cert.cert, key: cert.key }) as unknown as KubeObject);
    api.apply(chatIngress());

    controllerAdmin = await deadPort();
    proxyAdmin = await deadPort();
    httpsPort = await deadPort();
    controller = wsgate(['controller', '--kubeconfig', kubeconfig, '--output', snapshotFile, '--admin-port', String(controllerAdmin), '--bind-address', '127.0.0.1'], logs);
    proxy = wsgate(['proxy', '--config', snapshotFile, '--workers', '1', '--http-port', String(await deadPort()), '--https-port', String(httpsPort),
      '--admin-port', String(proxyAdmin), '--bind-address', '127.0.0.1', '--shutdown-delay', '0s', '--shutdown-timeout', '2s'], logs);
    await eventually(async () => (await status(controllerAdmin, '/readyz')) === 200 && (await status(proxyAdmin, '/readyz')) === 200, 'both ready', 20_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${logs.join('')}`);
    });
  });

  after(async () => {
    for (const ws of sockets) ws.terminate();
    await Promise.all([stopProcess(controller), stopProcess(proxy)]);
    for (const upstream of pods.values()) await upstream.close();
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves what the controller wrote: the Secret certificate, an echo from the pod', async () => {
    const client = await open();
    assert.equal(client.fingerprint, cert.fingerprint256);
    assert.equal(client.pod, 'pod-a');
    const reply = nextMessage(client.ws);
    client.ws.send('hi');
    assert.equal(await reply, 'hi');
    const text = await readFile(snapshotFile, 'utf8');
    assert.ok(validateSnapshot(JSON.parse(text)).ok);
    assert.equal(text, prettyCanonicalJson(JSON.parse(text)), 'the file is canonical JSON');
    assert.equal(metricValue(await scrape(controllerAdmin), 'wsgate_config_reloads_total', { result: 'success' }), 1);
  });

  it('carries an endpoint change through the file to new connections; open ones stay', async () => {
    const first = sockets[0]!;
    api.apply(podSlice(pods.get('pod-b')!));
    await eventually(async () => (await readFile(snapshotFile, 'utf8')).includes(String(pods.get('pod-b')!.port)), 'file rewritten');
    await eventually(async () => {
      const client = await open();
      return client.pod === 'pod-b';
    }, 'a connection reaches pod-b');
    assert.equal(first.readyState, WebSocket.OPEN);
  });

  it('does not rewrite the file for an update that changes nothing', async () => {
    const before = await stat(snapshotFile);
    const reloads = metricValue(await scrape(controllerAdmin), 'wsgate_config_reloads_total', { result: 'success' });
    api.apply(chatIngress());
    api.apply(podSlice(pods.get('pod-b')!));
    // Nothing observable should happen; give the debounce (at most 500 ms) ample time to act.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = await stat(snapshotFile);
    assert.equal(after.ino, before.ino);
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.equal(metricValue(await scrape(controllerAdmin), 'wsgate_config_reloads_total', { result: 'success' }), reloads);
  });

  it('controller --once prints the snapshot the cluster would produce and exits 0', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI_SCRIPT, 'controller', '--once', '--kubeconfig', kubeconfig], {
      cwd: ROOT,
      env: { ...process.env, WSGATE_LOG_LEVEL: 'warn' },
    });
    // The expected snapshot: translate() over the objects as the API server stores them.
    const objects = (kind: string) => api.list(kind).map((o) => kubernetesObject(o as Record<string, unknown>));
    const cluster = {
      ingressClasses: objects('IngressClass'),
      ingresses: objects('Ingress'),
      services: objects('Service'),
      endpointSlices: objects('EndpointSlice'),
      secrets: objects('Secret'),
    } as unknown as Resources;
    const expected = translate(cluster, { ingressClass: 'wsgate' }).snapshot;
    // On stdout the private keys are redacted, as /config shows them (issue 11).
    assert.equal(stdout, prettyCanonicalJson(redactSnapshot(expected)));
    assert.doesNotMatch(stdout, /PRIVATE KEY/);
    const printed = JSON.parse(stdout) as { routes: { host: string; path: string }[]; pools: { endpoints: { port: number }[] }[] };
    assert.deepEqual(printed.routes.map((r) => `${r.host}${r.path}`), [`${HOST}/ws`]);
    assert.deepEqual(printed.pools[0]!.endpoints.map((e) => e.port).sort(), [pods.get('pod-a')!.port, pods.get('pod-b')!.port].sort());
    assert.match(stderr, /Normal Sync Ingress default\/chat/);
    // It is the same snapshot the running controller wrote, keys aside.
    assert.equal(stdout, prettyCanonicalJson(redactSnapshot(JSON.parse(await readFile(snapshotFile, 'utf8')) as Snapshot)));
  });

  it('controller --once --output FILE writes the complete snapshot (mode 0600) that proxy --config serves', async () => {
    const onceFile = join(dir, 'once.json');
    const { stdout } = await promisify(execFile)(process.execPath, [CLI_SCRIPT, 'controller', '--once', '--kubeconfig', kubeconfig, '--output', onceFile], {
      cwd: ROOT,
      env: { ...process.env, WSGATE_LOG_LEVEL: 'warn' },
    });
    assert.equal(stdout, '', 'nothing on stdout: the snapshot is in the file');
    assert.equal((await stat(onceFile)).mode & 0o777, 0o600);
    const written = await readFile(onceFile, 'utf8');
    assert.match(written, /PRIVATE KEY/);
    assert.equal(written, await readFile(snapshotFile, 'utf8'), 'the snapshot the running controller serves');

    const onceHttps = await deadPort();
    const onceAdmin = await deadPort();
    const served = wsgate(['proxy', '--config', onceFile, '--workers', '1', '--http-port', String(await deadPort()), '--https-port', String(onceHttps),
      '--admin-port', String(onceAdmin), '--bind-address', '127.0.0.1', '--shutdown-delay', '0s', '--shutdown-timeout', '2s'], logs);
    try {
      await eventually(async () => (await status(onceAdmin, '/readyz')) === 200, 'proxy on the --once file ready', 20_000);
      const ws = await connect(`wss://127.0.0.1:${onceHttps}/ws`, { servername: HOST, headers: { Host: HOST } } as ClientOptions);
      sockets.push(ws);
      assert.match(await nextMessage(ws), /^hello from pod-/);
      const socket = (ws as unknown as { _socket: TLSSocket })._socket;
      assert.equal(socket.getPeerCertificate().fingerprint256, cert.fingerprint256, 'the Secret certificate, key from the file');
    } finally {
      await stopProcess(served);
    }
  });

  // Last: it stops the controller. SIGTERM hands the Lease over at once (issue 11).
  it('the controller, leading, releases its Lease on SIGTERM', async () => {
    const holder = (): string | undefined => (api.get('Lease', 'default', 'wsgate-wsgate')?.['spec'] as { holderIdentity?: string } | undefined)?.holderIdentity;
    await eventually(() => holder() === `${process.env.POD_NAME ?? hostname()}_${controller.pid}`, 'the controller holds the Lease');
    const exited = new Promise<number | null>((resolve) => controller.once('exit', (code) => resolve(code)));
    controller.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(holder(), '', 'holder cleared: another replica may take it now');
  });
});

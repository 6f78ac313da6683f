// The Kubernetes half of the soak: `wsgate run` against the test API server with live ws
// connections through API server restarts, 410 Gone on watch, dropped watches and a burst of
// Opaque Secrets no Ingress names (cached without their data, never re-running translate) interleaved with Ingress updates; then the sidecar
// pair (`controller --output` beside `proxy --config`) with its controller SIGKILLed. Invariants:
// no held connection is dropped, every message is echoed, and every change made reaches the data
// plane after recovery.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { startApiServer, type ApiServer, type KubeObject } from '../test/support/apiserver.ts';
import { writeKubeconfig } from '../test/support/kubeconfig.ts';
import { endpointSlice, ingress, ingressClass, service } from '../test/support/k8s.ts';
import { deadPort, eventually, startUpstream, type TestUpstream } from '../test/support/proxy.ts';

const ROOT = join(import.meta.dirname, '..');
const HOST = 'soak.example.test';

export interface KubernetesSoakReport {
  rounds: number;
  apiRestarts: number;
  goneWatches: number;
  /** List requests the controller made after the 410s (its relists). */
  relistsAfterGone: number;
  droppedWatches: number;
  burstObjects: number;
  controllerKills: number;
  changes: number;
  changesApplied: number;
  connections: number;
  sent: number;
  echoed: number;
  lost: number;
  dropped: number;
  failures: string[];
}

interface Live {
  sockets: WebSocket[];
  stop(): Promise<void>;
}

function wsgate(args: string[], logs: string[]): ChildProcess {
  const child = spawn(process.execPath, ['src/cli.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, WSGATE_LOG_LEVEL: process.env.WSGATE_TEST_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => logs.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
  return child;
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

async function ready(adminPort: number): Promise<boolean> {
  return (await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => undefined))?.status === 200;
}

/** The route paths the data plane has in effect (GET /config on its admin port). */
async function routePaths(adminPort: number): Promise<Set<string>> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/config`).catch(() => undefined);
  if (res?.status !== 200) return new Set();
  const config = (await res.json()) as { routes: { path: string }[] };
  return new Set(config.routes.map((r) => r.path));
}

/** The Ingress with one path per change made so far: change n adds `/c-n`. */
function soakIngress(changes: number): KubeObject {
  const paths = [{ path: '/live', service: 'live', port: 80 }];
  for (let n = 1; n <= changes; n++) paths.push({ path: `/c-${n}`, service: 'live', port: 80 });
  return ingress('soak', { host: HOST, paths }) as unknown as KubeObject;
}

function opaqueSecret(n: number): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: `noise-${n}`, namespace: 'default' }, type: 'Opaque', data: { n: Buffer.from(String(n)).toString('base64') } };
}

/** `connections` ws connections on /live, each sending a message every 20 ms. */
async function holdConnections(httpPort: number, connections: number, report: KubernetesSoakReport): Promise<Live> {
  const sockets: WebSocket[] = [];
  let stopping = false;
  for (let i = 0; i < connections; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/live/${i}`, { headers: { Host: HOST }, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('message', () => report.echoed++);
    ws.on('close', () => {
      if (!stopping) report.dropped++;
    });
    sockets.push(ws);
  }
  report.connections += connections;
  const traffic = setInterval(() => {
    for (const ws of sockets) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      ws.send(`m${report.sent}`);
      report.sent++;
    }
  }, 20);
  return {
    sockets,
    stop: async () => {
      clearInterval(traffic);
      const deadline = Date.now() + 10_000;
      while (report.echoed < report.sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      stopping = true;
      for (const ws of sockets) ws.terminate();
    },
  };
}

/** Makes change n (a new path on the Ingress) and waits until the data plane has it. */
async function change(api: ApiServer, adminPort: number, report: KubernetesSoakReport, what: string, limitMs = 30_000): Promise<void> {
  report.changes++;
  const n = report.changes;
  api.apply(soakIngress(n));
  await expectApplied(adminPort, report, what, limitMs);
}

async function expectApplied(adminPort: number, report: KubernetesSoakReport, what: string, limitMs = 30_000): Promise<void> {
  const n = report.changes;
  try {
    await eventually(async () => {
      const paths = await routePaths(adminPort);
      for (let i = 1; i <= n; i++) if (!paths.has(`/c-${i}`)) return false;
      return true;
    }, `change ${n} after ${what}`, limitMs);
    report.changesApplied = n;
  } catch (error) {
    report.failures.push((error as Error).message);
  }
}

function seedCluster(api: ApiServer, upstream: TestUpstream): void {
  api.apply(ingressClass() as unknown as KubeObject);
  api.apply(service('live') as unknown as KubeObject);
  api.apply(endpointSlice('live', { name: 'live-a', ports: [{ name: 'http', port: upstream.port }], endpoints: [{ address: '127.0.0.1', ready: true, pod: 'pod-a' }] }) as unknown as KubeObject);
  api.apply(soakIngress(0));
}

function echoUpstream(): Promise<TestUpstream> {
  return startUpstream('pod-a', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
}

/**
 * `rounds` rounds of restart / 410 / watch drop under `connections` live connections, then a burst
 * of `burst` ignored objects with an Ingress update every 1,000, then `kills` controller SIGKILLs
 * of the sidecar pair.
 */
export async function soakKubernetes(rounds: number, connections: number, burst: number, kills: number): Promise<KubernetesSoakReport> {
  const report: KubernetesSoakReport = {
    rounds: 0, apiRestarts: 0, goneWatches: 0, relistsAfterGone: 0, droppedWatches: 0, burstObjects: 0, controllerKills: 0,
    changes: 0, changesApplied: 0, connections: 0, sent: 0, echoed: 0, lost: 0, dropped: 0, failures: [],
  };
  const upstream = await echoUpstream();
  const dir = await mkdtemp(join(tmpdir(), 'wsgate-soak-k8s-'));
  const logs: string[] = [];
  try {
    await soakRun(report, dir, upstream, logs, rounds, connections, burst);
    await soakSidecar(report, dir, upstream, logs, kills, connections);
  } catch (error) {
    report.failures.push(`${(error as Error).message}\n${logs.join('').slice(-4000)}`);
  } finally {
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  }
  report.lost = report.sent - report.echoed;
  return report;
}

async function soakRun(report: KubernetesSoakReport, dir: string, upstream: TestUpstream, logs: string[], rounds: number, connections: number, burst: number): Promise<void> {
  const api = await startApiServer();
  seedCluster(api, upstream);
  const kubeconfig = await writeKubeconfig(dir, api);
  const httpPort = await deadPort();
  const adminPort = await deadPort();
  const run = wsgate(['run', '--kubeconfig', kubeconfig, '--workers', '1', '--http-port', String(httpPort), '--https-port', String(await deadPort()),
    '--admin-port', String(adminPort), '--bind-address', '127.0.0.1', '--shutdown-delay', '0s', '--shutdown-timeout', '2s'], logs);
  let live: Live | undefined;
  try {
    await eventually(() => ready(adminPort), 'wsgate run ready', 30_000);
    live = await holdConnections(httpPort, connections, report);
    for (let round = 1; round <= rounds; round++) {
      // The API server goes away and comes back; the change is made while it is away.
      await api.stop();
      api.apply(soakIngress(report.changes + 1));
      await api.restart();
      report.apiRestarts++;
      report.changes++;
      await expectApplied(adminPort, report, `API server restart ${round}`);
      // History forgotten, every watch cut: the re-watch from the old resourceVersion gets 410.
      const lists = (): number => api.requests.filter((r) => r.verb === 'list').length;
      const listsBefore = lists();
      api.compact();
      api.endWatches();
      report.goneWatches++;
      await change(api, adminPort, report, `410 Gone ${round}`);
      report.relistsAfterGone += lists() - listsBefore;
      // A watch ended by the server (its timeout), the change made before the controller re-watches.
      api.endWatches();
      report.droppedWatches++;
      await change(api, adminPort, report, `watch drop ${round}`);
      report.rounds++;
    }
    for (let n = 1; n <= burst; n++) {
      api.apply(opaqueSecret(n));
      report.burstObjects++;
      if (n % 1000 === 0) {
        report.changes++;
        api.apply(soakIngress(report.changes));
      }
      // Let the watch streams drain now and then, as a real burst arrives over time.
      if (n % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    await change(api, adminPort, report, 'the burst', 60_000);
  } finally {
    await live?.stop();
    await stopProcess(run);
    await api.stop();
  }
}

async function soakSidecar(report: KubernetesSoakReport, dir: string, upstream: TestUpstream, logs: string[], kills: number, connections: number): Promise<void> {
  const api = await startApiServer();
  seedCluster(api, upstream);
  // Continue the numbering: the Ingress carries every change made so far.
  api.apply(soakIngress(report.changes));
  const kubeconfig = await writeKubeconfig(dir, api);
  const snapshotFile = join(dir, 'snapshot.json');
  const httpPort = await deadPort();
  const proxyAdmin = await deadPort();
  const controllerArgs = ['controller', '--kubeconfig', kubeconfig, '--output', snapshotFile, '--admin-port', String(await deadPort()), '--bind-address', '127.0.0.1'];
  let controller = wsgate(controllerArgs, logs);
  const proxy = wsgate(['proxy', '--config', snapshotFile, '--workers', '1', '--http-port', String(httpPort), '--https-port', String(await deadPort()),
    '--admin-port', String(proxyAdmin), '--bind-address', '127.0.0.1', '--shutdown-delay', '0s', '--shutdown-timeout', '2s'], logs);
  let live: Live | undefined;
  try {
    await eventually(() => ready(proxyAdmin), 'proxy ready', 30_000);
    await expectApplied(proxyAdmin, report, 'sidecar start');
    live = await holdConnections(httpPort, connections, report);
    for (let kill = 1; kill <= kills; kill++) {
      await stopProcess(controller, 'SIGKILL');
      report.controllerKills++;
      // The proxy keeps serving its last snapshot: a new connection is served while nobody writes.
      const probe = new WebSocket(`ws://127.0.0.1:${httpPort}/live/probe`, { headers: { Host: HOST } });
      const served = await new Promise<boolean>((resolve) => {
        probe.once('open', () => resolve(true));
        probe.once('error', () => resolve(false));
      });
      probe.terminate();
      if (!served) report.failures.push(`controller kill ${kill}: the proxy refused a new connection`);
      // A change while no controller runs; the next controller picks it up.
      report.changes++;
      api.apply(soakIngress(report.changes));
      controller = wsgate(controllerArgs, logs);
      await expectApplied(proxyAdmin, report, `controller SIGKILL ${kill}`);
    }
  } finally {
    await live?.stop();
    await Promise.all([stopProcess(controller), stopProcess(proxy)]);
    await api.stop();
  }
}

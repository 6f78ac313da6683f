// Issue 10's figures as bench rows (used by bench/controller.ts):
//  1. translate and proxy apply at 100 / 1,000 / 5,000 Ingresses, in process: the first apply of a
//     snapshot file (read, parse, validate, hash, compile) and a reload after one endpoint changed;
//  2. real processes against the test API server (run in this process): `wsgate run`, and the
//     sidecar pair `wsgate controller --output` + `wsgate proxy --config`, each with --workers 1:
//     start -> /readyz 200 -> the last host answers, API change -> the proxy routes it (a new
//     Ingress is created; its host answers 308 instead of 404 once routed), and the RSS of each.
//  3. recovery (`node bench/controller-scale.ts recovery [OUTAGE_S]`): the controller in process over
//     1,000 Ingresses; the API server down for OUTAGE_S (30) with a change made meanwhile, then
//     back: time to the snapshot with the change; then a restart (down and straight back up) and a
//     change right after it: time from the server answering to the snapshot with the change.
//     WSGATE_BENCH_LOG=info shows the processes' logs; WSGATE_BENCH_PROF=DIR profiles each process
//     (--cpu-prof into DIR; they are stopped with SIGTERM then, so that the profile is written).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SnapshotTextReader } from '../src/config/text-reuse.ts';
import { SnapshotAcceptor } from '../src/config/incremental.ts';
import { prettyCanonicalJson } from '../src/config/pretty.ts';
import { DataPlane } from '../src/dataplane/state.ts';
import { CertificateStore } from '../src/dataplane/listen/tls.ts';
import { WsgateMetrics } from '../src/metrics/metrics.ts';
import { translate } from '../src/translate/translate.ts';
import { SecretCertificateCache } from '../src/translate/secret-certificate.ts';
import { startApiServer, type ApiServer, type KubeObject } from '../test/support/apiserver.ts';
import { writeKubeconfig } from '../test/support/kubeconfig.ts';
import { ingress, syntheticCluster } from '../test/support/k8s.ts';
import { deadPort } from '../test/support/proxy.ts';

const ENDPOINTS = 10;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export interface ApplyRow {
  ingresses: number;
  translateMs: number;
  fileKiB: number;
  firstApplyMs: number;
  reloadP50Ms: number;
  reloadP99Ms: number;
}

/** What `wsgate proxy --config` does per file change (parse with its reader, accept, apply), minus the file watch and read. */
export async function benchApply(ingresses: number, reloads = 20): Promise<ApplyRow> {
  const cluster = syntheticCluster(ingresses, ENDPOINTS);
  const started = performance.now();
  const { snapshot } = translate(cluster, { ingressClass: 'wsgate', certificateCache: new SecretCertificateCache() });
  const translateMs = performance.now() - started;
  const text = prettyCanonicalJson(snapshot);
  const dataplane = new DataPlane({ metrics: new WsgateMetrics(), certificates: await CertificateStore.create({}) });
  const acceptor = new SnapshotAcceptor();
  const reader = new SnapshotTextReader();
  const applyText = (body: string): number => {
    const t0 = performance.now();
    const accepted = acceptor.accept(reader.parse(body).value);
    if (!accepted.ok) throw new Error(`bench snapshot refused: ${JSON.stringify(accepted.issues[0])}`);
    dataplane.apply(accepted.snapshot, accepted.hash);
    return performance.now() - t0;
  };
  const firstApplyMs = applyText(text);
  const times: number[] = [];
  const doc = JSON.parse(text) as { pools: Array<{ endpoints: Array<{ port: number }> }> };
  for (let i = 0; i < reloads; i += 1) {
    doc.pools[(i * 7) % doc.pools.length]!.endpoints[0]!.port = 20_000 + i;
    times.push(applyText(prettyCanonicalJson(doc)));
  }
  times.sort((a, b) => a - b);
  return { ingresses, translateMs, fileKiB: Buffer.byteLength(text) / 1024, firstApplyMs, reloadP50Ms: percentile(times, 50), reloadP99Ms: percentile(times, 99) };
}

function get(port: number, path: string, host?: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, headers: host === undefined ? {} : { host }, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.setTimeout(5000, () => req.destroy());
    req.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** RSS of a process and its children (a proxy's worker), MiB. */
async function rssMiB(pid: number): Promise<number> {
  const ofPid = async (p: number): Promise<number> => {
    const status = await readFile(`/proc/${p}/status`, 'utf8').catch(() => '');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  };
  const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean).map(Number);
  let total = await ofPid(pid);
  for (const child of children) total += await ofPid(child);
  return total;
}

function wsgate(args: string[]): ChildProcess {
  const profile = process.env.WSGATE_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.WSGATE_BENCH_PROF}`] : [];
  // The node flags the image's ENTRYPOINT gives every wsgate process (Dockerfile), so memory is what production holds.
  return spawn(process.execPath, ['--max-semi-space-size=1', ...profile, new URL('../src/cli.ts', import.meta.url).pathname, ...args, ...(profile.length > 0 && args[0] !== 'controller' ? ['--shutdown-delay', '0s', '--shutdown-timeout', '1s'] : []), '--log-level', process.env.WSGATE_BENCH_LOG ?? 'warn', '--workers', '1'], { stdio: ['ignore', process.env.WSGATE_BENCH_LOG ? 'inherit' : 'ignore', 'inherit'] });
}

export interface TopologyRow {
  topology: 'run' | 'sidecar';
  ingresses: number;
  readyS: number;
  routableS: number;
  changeP50Ms?: number;
  changeP99Ms?: number;
  changeMaxMs?: number;
  samples?: number;
  /** MiB: the proxy (run: the one process) and the controller (sidecar only). */
  proxyRssMiB: number;
  controllerRssMiB?: number;
}

async function loadCluster(api: ApiServer, ingresses: number): Promise<void> {
  const cluster = syntheticCluster(ingresses, ENDPOINTS);
  for (const list of [cluster.ingressClasses, cluster.secrets, cluster.services, cluster.endpointSlices, cluster.ingresses]) {
    for (const object of list) api.apply(object as unknown as KubeObject);
  }
}

/** One topology at `ingresses`; `samples` new Ingresses timed from create to routed. */
export async function benchTopology(topology: 'run' | 'sidecar', ingresses: number, samples: number): Promise<TopologyRow> {
  const api = await startApiServer();
  const dir = await mkdtemp(join(tmpdir(), 'wsgate-bench-scale-'));
  const kubeconfig = await writeKubeconfig(dir, api);
  await loadCluster(api, ingresses);
  const [http, https, admin, controllerAdmin] = [await deadPort(), await deadPort(), await deadPort(), await deadPort()];
  const listen = ['--bind-address', '127.0.0.1', '--http-port', String(http), '--https-port', String(https), '--election-namespace', 'default'];
  const file = join(dir, 'snapshot.json');
  const started = performance.now();
  const children: ChildProcess[] = [];
  let controller: ChildProcess | undefined;
  if (topology === 'run') {
    children.push(wsgate(['run', '--kubeconfig', kubeconfig, ...listen, '--admin-port', String(admin)]));
  } else {
    // The empty file a pod's shared volume starts with is what the proxy waits on.
    await writeFile(file, '');
    controller = wsgate(['controller', '--kubeconfig', kubeconfig, '--output', file, ...listen, '--admin-port', String(controllerAdmin)]);
    children.push(controller, wsgate(['proxy', '--config', file, ...listen, '--admin-port', String(admin)]));
  }
  const proxy = children.at(-1)!;
  const lastHost = `app-${ingresses - 1}.a.example.com`;
  try {
    // Two probes, each on its own: the time of each is when its answer came (a request sent
    // while the proxy was busy applying is answered once it is done, and counts from then).
    const until = async (probe: () => Promise<boolean>): Promise<number> => {
      for (;;) {
        if (performance.now() - started > 180_000) throw new Error(`${topology} at ${ingresses}: not ready and routable in 180 s`);
        if (await probe()) return (performance.now() - started) / 1000;
        await sleep(20);
      }
    };
    const [readyS, routableS] = await Promise.all([
      until(async () => (await get(admin, '/readyz')) === 200),
      until(async () => {
        const status = await get(http, '/ws', lastHost);
        return status !== undefined && status !== 404;
      }),
    ]);
    const times: number[] = [];
    for (let i = 0; i < samples; i += 1) {
      const host = `probe-${i}.a.example.com`;
      const probe = ingress(`probe-${i}`, { namespace: 'ns-0', host, paths: [{ path: '/ws', service: 'app-0', port: 80 }], tls: [{ hosts: [host], secretName: 'wildcard' }] });
      const t0 = performance.now();
      api.apply(probe as unknown as KubeObject);
      for (;;) {
        const status = await get(http, '/ws', host);
        if (status !== undefined && status !== 404) break;
        if (performance.now() - t0 > 30_000) throw new Error(`${host} not routed in 30 s`);
        await sleep(5);
      }
      times.push(performance.now() - t0);
      await sleep(200);
    }
    times.sort((a, b) => a - b);
    await sleep(1000);
    return {
      topology,
      ingresses,
      readyS,
      routableS,
      ...(samples > 0 ? { changeP50Ms: percentile(times, 50), changeP99Ms: percentile(times, 99), changeMaxMs: times.at(-1)!, samples } : {}),
      proxyRssMiB: await rssMiB(proxy.pid!),
      ...(controller === undefined ? {} : { controllerRssMiB: await rssMiB(controller.pid!) }),
    };
  } finally {
    if (process.env.WSGATE_BENCH_PROF) {
      await Promise.all(children.map((child) => new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(resolve, 90_000).unref();
      })));
    }
    for (const child of children) child.kill('SIGKILL');
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export interface RecoveryRow {
  ingresses: number;
  outageS: number;
  /** API back after the outage -> the change made during it is in the snapshot. */
  afterOutageMs: number;
  /** API restarted -> a change made once it answers is in the snapshot. */
  afterRestartMs: number;
}

export async function benchRecovery(ingresses: number, outageS: number): Promise<RecoveryRow> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { startKubernetesController } = await import('../src/providers/kubernetes/assemble.ts');
  const { endpointSlice } = await import('../test/support/k8s.ts');
  const api = await startApiServer();
  const dir = await mkdtemp(join(tmpdir(), 'wsgate-bench-recovery-'));
  const kc = new KubeConfig();
  kc.loadFromFile(await writeKubeconfig(dir, api));
  await loadCluster(api, ingresses);
  let last: { pools: Array<{ name: string; endpoints: Array<{ address: string }> }> } | undefined;
  const controller = startKubernetesController(kc, { ingressClass: 'wsgate', electionNamespace: 'default', identity: 'bench-recovery' }, {
    accept: (snapshot) => {
      last = snapshot;
    },
    refuse: () => {},
  });
  const has = (address: string): boolean => last?.pools.some((p) => p.name === 'ns-0/app-0/app-0:80' && p.endpoints.some((e) => e.address === address)) === true;
  const until = async (address: string, what: string): Promise<void> => {
    const t0 = performance.now();
    while (!has(address)) {
      if (performance.now() - t0 > 60_000) throw new Error(`${what}: not applied in 60 s`);
      await sleep(5);
    }
  };
  const slice = (address: string): KubeObject => endpointSlice('app-0', { namespace: 'ns-0', name: 'app-0-ipv4', endpoints: [address] }) as unknown as KubeObject;
  try {
    while (!controller.ready()) await sleep(50);
    await api.stop();
    await sleep(outageS * 1000);
    api.apply(slice('10.254.0.1'));
    let back = performance.now();
    await api.restart();
    await until('10.254.0.1', 'after the outage');
    const afterOutageMs = performance.now() - back;
    await sleep(2000);
    await api.restart();
    back = performance.now();
    api.apply(slice('10.254.0.2'));
    await until('10.254.0.2', 'after the restart');
    const afterRestartMs = performance.now() - back;
    return { ingresses, outageS, afterOutageMs, afterRestartMs };
  } finally {
    await controller.stop();
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { setLogLevel } = await import('../src/common/log.ts');
  setLogLevel('silent');
  const [what, n, samples] = process.argv.slice(2);
  if (what === 'apply') process.stdout.write(`${JSON.stringify(await benchApply(Number(n)))}\n`);
  else if (what === 'recovery') process.stdout.write(`${JSON.stringify(await benchRecovery(1_000, Number(n ?? 30)))}\n`);
  else process.stdout.write(`${JSON.stringify(await benchTopology(what as 'run' | 'sidecar', Number(n), Number(samples ?? 0)))}\n`);
  process.exit(0);
}

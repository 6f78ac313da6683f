// Controller scale bench: `npx node bench/controller.ts`
//  1. translate() time and heap for 1,000 and 10,000 Ingresses with 10 endpoints each;
//  2. API-change-to-effect latency at 1,000 Ingresses: an EndpointSlice changed through the test
//     API server, timed until the in-process data plane has applied the snapshot with the change
//     (informer watch -> debounce -> translate -> validate -> DataPlane.apply).
//  3. Secret updates at 1,000 Ingresses: 1,000 updates of Secrets no Ingress names, then 1,000 of
//     the Secrets the Ingresses use, 10 ms apart: translations run and time spent in translate()
//     (SnapshotSync.translateMs), and the CPU time of the whole process (the test API server
//     runs in it too). `--secrets-only` runs just this part and writes nothing.
// Targets (issue 3): 10,000 Ingresses translate in under 1 s; p99 change-to-effect under 1 s.
//  4. issue 10's rows (bench/controller-scale.ts): apply cost at 100 / 1,000 / 5,000 Ingresses, both
//     topologies as real processes (readiness, change -> routed, RSS); `--scale-only` runs just these.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { KubeConfig, type V1EndpointSlice, type V1Secret } from '@kubernetes/client-node';
import { setLogLevel } from '../src/common/log.ts';
import { startKubernetesController } from '../src/providers/kubernetes/assemble.ts';
import { startProxyProcess } from '../src/runtime/single-process.ts';
import { SecretCertificateCache } from '../src/translate/secret-certificate.ts';
import { translate } from '../src/translate/translate.ts';
import type { Resources } from '../src/translate/types.ts';
import { startApiServer, type KubeObject } from '../test/support/apiserver.ts';
import { writeKubeconfig } from '../test/support/kubeconfig.ts';
import { syntheticCluster, tlsSecret } from '../test/support/k8s.ts';
import { benchApply, benchRecovery, benchTopology } from './controller-scale.ts';

setLogLevel('silent');
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ENDPOINTS = 10;
const SAMPLES = Number(process.env.WSGATE_BENCH_SAMPLES ?? 50);

function heapMiB(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface TranslateRow {
  ingresses: number;
  medianMs: number;
  maxMs: number;
  inputHeapMiB: number;
  outputHeapMiB: number;
}

function benchTranslate(ingresses: number): TranslateRow {
  const base = heapMiB();
  const cluster: Resources = syntheticCluster(ingresses, ENDPOINTS);
  const withInput = heapMiB();
  // As the rebuild loop translates: certificate checks remembered between runs.
  const certificateCache = new SecretCertificateCache();
  translate(cluster, { ingressClass: 'wsgate', certificateCache }); // warm-up
  const times: number[] = [];
  let kept: unknown;
  for (let i = 0; i < 5; i += 1) {
    const start = performance.now();
    kept = translate(cluster, { ingressClass: 'wsgate', certificateCache });
    times.push(performance.now() - start);
  }
  const withOutput = heapMiB();
  times.sort((a, b) => a - b);
  void kept;
  return { ingresses, medianMs: times[2]!, maxMs: times[4]!, inputHeapMiB: withInput - base, outputHeapMiB: withOutput - withInput };
}

async function benchChangeToEffect(ingresses: number): Promise<number[]> {
  const api = await startApiServer();
  const dir = await mkdtemp(join(tmpdir(), 'wsgate-bench-controller-'));
  const kc = new KubeConfig();
  kc.loadFromFile(await writeKubeconfig(dir, api));
  const cluster = syntheticCluster(ingresses, ENDPOINTS);
  for (const list of [cluster.ingressClasses, cluster.secrets, cluster.services, cluster.endpointSlices, cluster.ingresses]) {
    for (const object of list) api.apply(object as unknown as KubeObject);
  }
  const proxy = await startProxyProcess({ httpPort: 0, httpsPort: 0, adminPort: 0, bindAddress: '127.0.0.1', headerTimeoutMs: 10_000, shutdownDelayMs: 0, shutdownTimeoutMs: 1000, admin: false });
  let waiting: { pool: string; address: string; resolve: () => void } | undefined;
  const controller = startKubernetesController(kc, { ingressClass: 'wsgate', electionNamespace: 'default', identity: 'bench' }, {
    accept(snapshot, hash) {
      proxy.accept(snapshot, hash);
      // The effect: the data plane now serves the snapshot that has the changed endpoint.
      if (waiting && snapshot.pools.find((p) => p.name === waiting!.pool)?.endpoints.some((e) => e.address === waiting!.address)) {
        const done = waiting;
        waiting = undefined;
        done.resolve();
      }
    },
    refuse: () => {},
  });
  while (!controller.ready()) await new Promise((resolve) => setTimeout(resolve, 50));

  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    const n = (i * 37) % ingresses;
    const namespace = `ns-${n % Math.min(100, ingresses)}`;
    const slice = cluster.endpointSlices.find((s) => s.metadata?.namespace === namespace && s.metadata?.name === `app-${n}-ipv4`)!;
    const address = `10.250.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    const changed: V1EndpointSlice = { ...slice, endpoints: [...(slice.endpoints ?? []).slice(1), { addresses: [address], conditions: { ready: true } }] };
    const effect = new Promise<void>((resolve) => (waiting = { pool: `${namespace}/app-${n}/app-${n}:80`, address, resolve }));
    const start = performance.now();
    api.apply(changed as unknown as KubeObject);
    await effect;
    samples.push(performance.now() - start);
    // Spaced out, so each sample is one change rather than a batch.
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  await controller.stop();
  await proxy.close();
  await api.stop();
  await rm(dir, { recursive: true, force: true });
  return samples.sort((a, b) => a - b);
}

interface SecretRow {
  what: string;
  updates: number;
  translations: number;
  translateMs: number;
  cpuMs: number;
}

async function benchSecretUpdates(ingresses: number, updates: number): Promise<SecretRow[]> {
  const api = await startApiServer();
  const dir = await mkdtemp(join(tmpdir(), 'wsgate-bench-secrets-'));
  const kc = new KubeConfig();
  kc.loadFromFile(await writeKubeconfig(dir, api));
  const cluster = syntheticCluster(ingresses, ENDPOINTS);
  const unrelated = Array.from({ length: updates }, (_, i) => tlsSecret(`unrelated-${i}`, { namespace: `ns-${i % 100}` }));
  for (const list of [cluster.ingressClasses, cluster.secrets, cluster.services, cluster.endpointSlices, cluster.ingresses, unrelated]) {
    for (const object of list) api.apply(object as unknown as KubeObject);
  }
  const controller = startKubernetesController(kc, { ingressClass: 'wsgate', electionNamespace: 'default', identity: 'bench' }, { accept: () => {}, refuse: () => {} });
  while (!controller.ready()) await new Promise((resolve) => setTimeout(resolve, 50));
  const sync = controller.sync;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  async function phase(what: string, secrets: readonly V1Secret[]): Promise<SecretRow> {
    // Let the previous phase's last rebuild finish first.
    await sleep(1000);
    const before = { translations: sync.rebuilds, translateMs: sync.translateMs, ignored: sync.ignored, cpu: process.cpuUsage() };
    for (let i = 0; i < updates; i += 1) {
      const secret = secrets[i % secrets.length]!;
      api.apply({ ...secret, metadata: { ...secret.metadata, annotations: { update: `${what}-${i}` } } } as unknown as KubeObject);
      await sleep(10);
    }
    // Every update seen (ignored or part of a rebuild), then the debounce's last rebuild done.
    await sleep(1000);
    const cpu = process.cpuUsage(before.cpu);
    return { what, updates, translations: sync.rebuilds - before.translations, translateMs: sync.translateMs - before.translateMs, cpuMs: (cpu.user + cpu.system) / 1000 };
  }
  const rows = [await phase('unrelated Secrets', unrelated), await phase('Secrets the Ingresses use', cluster.secrets)];
  await controller.stop();
  await api.stop();
  await rm(dir, { recursive: true, force: true });
  return rows;
}

const fmt = (n: number): string => n.toFixed(1);

/** Issue 10's rows (bench/controller-scale.ts), between markers in both docs: `--scale-only` runs just these. */
async function scaleRows(): Promise<string[]> {
  const applyRows = [];
  for (const n of [100, 1_000, 5_000]) applyRows.push(await benchApply(n));
  const topologies = [await benchTopology('run', 1_000, SCALE_SAMPLES), await benchTopology('sidecar', 1_000, SCALE_SAMPLES), await benchTopology('run', 5_000, 0), await benchTopology('sidecar', 5_000, 0)];
  const recovery = await benchRecovery(1_000, 30);
  const n = (x: number): string => x.toLocaleString('en');
  return [
    '| measurement (issue 10) | value | target |',
    '|---|---|---|',
    ...applyRows.map((r) => `| ${n(r.ingresses)} Ingresses: translate / proxy first apply of the ${fmt(r.fileKiB)} KiB file / reload after one endpoint changed p50, p99 | ${fmt(r.translateMs)} / ${fmt(r.firstApplyMs)} / ${fmt(r.reloadP50Ms)}, ${fmt(r.reloadP99Ms)} ms | ${r.ingresses === 1_000 ? 'reload p99 <= 100 ms' : ''} |`),
    ...topologies.map((t) => {
      const name = t.topology === 'run' ? '`run`' : 'sidecar (`controller --output` + `proxy --config`)';
      const change = t.changeP50Ms === undefined ? '' : `; change -> routed p50 / p99 / max ${fmt(t.changeP50Ms)} / ${fmt(t.changeP99Ms!)} / ${fmt(t.changeMaxMs!)} ms (${t.samples} new Ingresses)`;
      const memory = t.controllerRssMiB === undefined ? `RSS ${fmt(t.proxyRssMiB)} MiB` : `RSS proxy ${fmt(t.proxyRssMiB)} MiB, controller ${fmt(t.controllerRssMiB)} MiB`;
      const target = t.ingresses === 5_000 ? (t.topology === 'sidecar' ? 'ready = routable; proxy <= 256, controller <= 384 MiB' : 'ready = routable') : 'p99 <= 300 ms';
      return `| ${n(t.ingresses)} Ingresses, ${name}, --workers 1: /readyz 200 at ${fmt(t.readyS)} s, last host routed at ${fmt(t.routableS)} s${change}; ${memory} | | ${target} |`;
    }),
    `| 1,000 Ingresses, controller in process: API back after a ${recovery.outageS} s outage -> the change made during it applied | ${fmt(recovery.afterOutageMs)} ms | <= 2 s |`,
    `| 1,000 Ingresses, controller in process: API server restarted -> a change made once it answers applied | ${fmt(recovery.afterRestartMs)} ms | <= 1 s |`,
  ];
}

const SCALE_SAMPLES = Number(process.env.WSGATE_BENCH_SCALE_SAMPLES ?? 30);
const SCALE_BEGIN = '<!-- controller-scale:begin (bench/controller.ts writes this block) -->';
const SCALE_END = '<!-- controller-scale:end -->';

/** Replaces the marked block of a doc (or appends it under `heading`), leaving the rest alone. */
async function writeBlock(file: URL, heading: string, lines: string[]): Promise<void> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const block = [SCALE_BEGIN, `- ${new Date().toISOString()}, Node ${process.version}, ${availableParallelism()} cores; \`node bench/controller.ts --scale-only\``, '', ...lines, SCALE_END].join('\n');
  const begin = text.indexOf(SCALE_BEGIN);
  const end = text.indexOf(SCALE_END);
  const next = begin >= 0 && end > begin ? `${text.slice(0, begin)}${block}${text.slice(end + SCALE_END.length)}` : `${text.trimEnd()}\n\n${heading}\n\n${block}\n`;
  await writeFile(file, next);
}

if (process.argv.includes('--scale-only')) {
  const lines = await scaleRows();
  process.stdout.write(`${lines.join('\n')}\n`);
  if (!process.argv.includes('--no-write')) {
    await writeBlock(new URL('../docs/controller-benchmarks.md', import.meta.url), '## At scale and in both topologies (issue 10)', lines);
    await writeBlock(new URL('../docs/benchmarks.md', import.meta.url), '## Controller at scale (issue 10)', lines);
  }
  process.exit(0);
}

if (process.argv.includes('--secrets-only')) {
  for (const row of await benchSecretUpdates(1_000, 1_000)) process.stdout.write(`${JSON.stringify({ ...row, translateMs: fmt(row.translateMs), cpuMs: fmt(row.cpuMs) })}\n`);
  process.exit(0);
}

const rows = [benchTranslate(1_000), benchTranslate(10_000)];
const latency = await benchChangeToEffect(1_000);
const secretRows = await benchSecretUpdates(1_000, 1_000);

const lines = [
  '| measurement | value | target |',
  '|---|---|---|',
  ...rows.flatMap((r) => [
    `| translate ${r.ingresses.toLocaleString('en')} Ingresses x ${ENDPOINTS} endpoints (median of 5 / max) | ${fmt(r.medianMs)} ms / ${fmt(r.maxMs)} ms | ${r.ingresses === 10_000 ? '< 1000 ms' : ''} |`,
    `| heap: objects in / translate result, ${r.ingresses.toLocaleString('en')} Ingresses | ${fmt(r.inputHeapMiB)} MiB / ${fmt(r.outputHeapMiB)} MiB | |`,
  ]),
  `| change-to-effect at 1,000 Ingresses, median (${latency.length} samples) | ${fmt(percentile(latency, 50))} ms | |`,
  `| change-to-effect at 1,000 Ingresses, p99 | ${fmt(percentile(latency, 99))} ms | < 1000 ms |`,
  `| change-to-effect at 1,000 Ingresses, max | ${fmt(latency.at(-1)!)} ms | |`,
  ...secretRows.map((r) => `| ${r.updates.toLocaleString('en')} updates of ${r.what}, 1,000 Ingresses: translations / time in translate / process CPU | ${r.translations} / ${fmt(r.translateMs)} ms / ${fmt(r.cpuMs)} ms | |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
if (!process.argv.includes('--no-write')) {
  const doc = [
    '# Controller benchmarks',
    '',
    'Written by `npm run bench` (bench/controller.ts); do not edit by hand.',
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Node ${process.version}; ${availableParallelism()} cores`,
    '- Translation: `translate()` over a synthetic cluster (test/support/k8s.ts `syntheticCluster`), 5 runs after a warm-up.',
    '- Change-to-effect: an EndpointSlice changed through the test API server (real list/watch, real client-node informers)',
    '  until the in-process data plane has applied a snapshot with the new endpoint.',
    '',
    ...lines,
    '',
  ];
  const docFile = new URL('../docs/controller-benchmarks.md', import.meta.url);
  await writeFile(docFile, doc.join('\n'));
  const scale = await scaleRows();
  process.stdout.write(`${scale.join('\n')}\n`);
  await writeBlock(docFile, '## At scale and in both topologies (issue 10)', scale);
  await writeBlock(new URL('../docs/benchmarks.md', import.meta.url), '## Controller at scale (issue 10)', scale);
}
const ok = rows[1]!.medianMs < 1000 && percentile(latency, 99) < 1000;
process.exitCode = ok ? 0 : 1;

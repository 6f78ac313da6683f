// Controller scale bench: `npx node bench/controller.ts`
//  1. translate() time and heap for 1,000 and 10,000 Ingresses with 10 endpoints each;
//  2. API-change-to-effect latency at 1,000 Ingresses: an EndpointSlice changed through the test
//     API server, timed until the in-process data plane has applied the snapshot with the change
//     (informer watch -> debounce -> translate -> validate -> DataPlane.apply).
// Targets (issue 3): 10,000 Ingresses translate in under 1 s; p99 change-to-effect under 1 s.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import { setLogLevel } from '../src/common/log.ts';
import { startKubernetesController } from '../src/providers/kubernetes/assemble.ts';
import { startProxyProcess } from '../src/runtime/single-process.ts';
import { translate } from '../src/translate/translate.ts';
import type { Resources } from '../src/translate/types.ts';
import { startApiServer, type KubeObject } from '../test/support/apiserver.ts';
import { writeKubeconfig } from '../test/support/kubeconfig.ts';
import { syntheticCluster } from '../test/support/k8s.ts';

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
  translate(cluster, { ingressClass: 'wsgate' }); // warm-up
  const times: number[] = [];
  let kept: unknown;
  for (let i = 0; i < 5; i += 1) {
    const start = performance.now();
    kept = translate(cluster, { ingressClass: 'wsgate' });
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
    deliver(snapshot, hash) {
      proxy.accept(snapshot, hash);
      // The effect: the data plane now serves the snapshot that has the changed endpoint.
      if (waiting && snapshot.pools.find((p) => p.name === waiting!.pool)?.endpoints.some((e) => e.address === waiting!.address)) {
        const done = waiting;
        waiting = undefined;
        done.resolve();
      }
    },
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

const rows = [benchTranslate(1_000), benchTranslate(10_000)];
const latency = await benchChangeToEffect(1_000);

const fmt = (n: number): string => n.toFixed(1);
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
  await writeFile(new URL('../docs/controller-benchmarks.md', import.meta.url), doc.join('\n'));
}
const ok = rows[1]!.medianMs < 1000 && percentile(latency, 99) < 1000;
process.exitCode = ok ? 0 : 1;

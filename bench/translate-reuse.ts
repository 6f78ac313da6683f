// Per-change cost in the controller at 1,000 Ingresses, in process: one Ingress changed, then
// translate + SnapshotAcceptor.accept, with (memo) or without (none) the TranslateMemo the
// controller keeps. node bench/translate-reuse.ts memo|none (medians of 30 changes after 10).
import { translate } from '../src/translate/translate.ts';
import { TranslateMemo } from '../src/translate/memo.ts';
import { SnapshotAcceptor } from '../src/config/incremental.ts';
import { syntheticCluster } from '../test/support/k8s.ts';
const useMemo = process.argv[2] === 'memo';
const r = syntheticCluster(1000, 10);
const memo = useMemo ? new TranslateMemo() : undefined;
const acc = new SnapshotAcceptor();
const t: number[] = [], a: number[] = [];
for (let i = 0; i < 40; i++) {
  const k = i % r.ingresses.length;
  const ing = structuredClone(r.ingresses[k]!); ing.metadata!.resourceVersion = `x${i}`; ing.metadata!.annotations = { ...ing.metadata!.annotations, 'wsgate.io/idle-timeout': `${30 + i}s` };
  r.ingresses[k] = ing;
  const s0 = performance.now(); const res = translate(r, memo ? { memo } : {}); const s1 = performance.now(); const ok = acc.accept(res.snapshot); const s2 = performance.now();
  if (!ok.ok) throw new Error('refused');
  if (i >= 10) { t.push(s1 - s0); a.push(s2 - s1); }
}
const med = (x: number[]) => x.sort((p, q) => p - q)[x.length >> 1]!.toFixed(1);
console.log(useMemo ? 'memo' : 'no memo', 'translate median ms', med(t), 'accept median ms', med(a), 'routes', translate(r).snapshot.routes.length);

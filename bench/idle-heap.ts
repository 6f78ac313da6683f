// What one held, idle wss connection costs `wsgate proxy` in JS heap objects, by constructor: two
// heap snapshots of the running proxy (node --heapsnapshot-signal), one after warm-up with no
// connection held and one with N held, and their difference divided by N. Not in `npm test`.
//
//   node bench/idle-heap.ts [--connections 1000] [--top 40]
//
// Builds dist/ first (as bench/run.ts does); the snapshots are written into a temporary directory.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Socket } from 'node:net';
import { makeCertificate } from './certs.ts';
import { BENCH_HOST, openWebSocket, runParallel } from './client.ts';
import { rssBytes } from './procfs.ts';
import { buildImageScript, startTarget, wsgateNodeFlags } from './targets.ts';
import { startUpstream } from './upstream.ts';

interface Totals {
  count: number;
  bytes: number;
}

/** Self size and count of every node of a .heapsnapshot, by "type:name" (constructor for objects). */
function byConstructor(path: string): Map<string, Totals> {
  const snapshot = JSON.parse(readFileSync(path, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const out = new Map<string, Totals>();
  const nodes = snapshot.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]!]!;
    let name = type === 'object' || type === 'closure' || type === 'native' || type === 'hidden' || type === 'code' ? snapshot.strings[nodes[i + nameAt]!]! : '';
    if (name.length > 60) name = `${name.slice(0, 57)}...`;
    const key = `${type}:${name}`;
    const entry = out.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += nodes[i + sizeAt]!;
    out.set(key, entry);
  }
  return out;
}

async function snapshotOf(pid: number, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 600; i++) {
    await sleep(500);
    const fresh = readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (fresh.length === 0) continue;
    const path = join(dir, fresh[0]!);
    const size = statSync(path).size;
    await sleep(1000);
    if (statSync(path).size === size && size > 0) {
      // The file is complete once it parses.
      try {
        JSON.parse(readFileSync(path, 'utf8'));
        return path;
      } catch {
        continue;
      }
    }
  }
  throw new Error('no heap snapshot written');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { connections: { type: 'string', default: '1000' }, top: { type: 'string', default: '40' } } });
  const connections = Number(values.connections);
  const top = Number(values.top);
  const cli = buildImageScript();
  const workDir = mkdtempSync(join(tmpdir(), 'wsgate-idle-heap-'));
  const snapDir = join(workDir, 'snapshots');
  execFileSync('mkdir', ['-p', snapDir]);
  process.env.WSGATE_BENCH_NODE_FLAGS = [...wsgateNodeFlags(), '--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir}`].join(' ');
  const certificate = makeCertificate(workDir, BENCH_HOST);
  const upstream = await startUpstream(1);
  const target = await startTarget('wsgate-proxy', { workDir, upstreamPort: upstream.port, certificate, proxyCores: '0', loadCore: 1, accessLog: false, cli });
  const held: Socket[] = [];
  try {
    const pid = target.pids()[0]!;
    const baseOpen = (await upstream.stats()).open;
    // Warm-up as the bench's idle phase does: connections opened and closed.
    await runParallel(200, 16, async () => void (await openWebSocket(target.endpoint, '/idle')).socket.destroy());
    await upstream.until((s) => s.open <= baseOpen, 30_000, 'warm-up closed');
    await sleep(1000);
    const rssBefore = rssBytes([pid]) / 1024;
    const a = await snapshotOf(pid, snapDir);
    await runParallel(connections, 32, async () => void held.push((await openWebSocket(target.endpoint, '/idle')).socket));
    await upstream.until((s) => s.open - baseOpen >= connections, 60_000, `${connections} idle connections`);
    await sleep(2000);
    const rssAfter = rssBytes([pid]) / 1024;
    const b = await snapshotOf(pid, snapDir);
    const before = byConstructor(a);
    const after = byConstructor(b);
    const total = (m: Map<string, Totals>): number => [...m.values()].reduce((s, t) => s + t.bytes, 0);
    const rows = [...after.entries()].map(([key, t]) => {
      const o = before.get(key) ?? { count: 0, bytes: 0 };
      return { key, count: (t.count - o.count) / connections, bytes: (t.bytes - o.bytes) / connections };
    }).filter((r) => r.bytes !== 0 || r.count !== 0).sort((x, y) => y.bytes - x.bytes);
    const lines = [
      `connections ${connections}; RSS ${(rssBefore / 1024).toFixed(1)} -> ${(rssAfter / 1024).toFixed(1)} MiB: ${((rssAfter - rssBefore) / connections).toFixed(1)} KiB per connection`,
      `JS heap (snapshot self sizes) per connection: ${((total(after) - total(before)) / connections / 1024).toFixed(2)} KiB`,
      'per connection: objects, bytes, type:constructor',
      ...rows.slice(0, top).map((r) => `${r.count.toFixed(2).padStart(7)} ${r.bytes.toFixed(0).padStart(7)}  ${r.key}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const s of held) s.destroy();
    await target.stop();
    await upstream.stop();
    if (existsSync(workDir)) rmSync(workDir, { recursive: true, force: true });
  }
}

await main();

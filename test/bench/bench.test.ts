// The bench's own pieces, without timing anything: if the frame counter or the verdicts were
// wrong, every number in docs/benchmarks.md would be too.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { summariseProfile } from '../../bench/profile.ts';
import { evaluate } from '../../bench/report.ts';
import { parseGcPauses } from '../../bench/targets.ts';
import { acceptFor, closeFrame, frameBatch, FrameCounter } from '../../bench/wsproto.ts';

test('acceptFor matches the RFC 6455 §1.3 example', () => {
  assert.equal(acceptFor('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('FrameCounter counts 7-, 16- and 64-bit length frames however the stream is cut', () => {
  const stream = Buffer.concat([frameBatch(5, 2, true), frameBatch(1024, 2, true), frameBatch(70_000, 1, true), closeFrame(1000, true)]);
  for (let cut = 0; cut <= stream.length; cut += cut < 40 ? 1 : 997) {
    const counter = new FrameCounter(true);
    const completed = counter.push(stream.subarray(0, cut)) + counter.push(stream.subarray(cut));
    assert.equal(completed, 5, `cut at ${cut}`);
    assert.equal(counter.closeFrames, 1);
    assert.equal(counter.malformed, 0);
  }
  const bytewise = new FrameCounter(true);
  for (let i = 0; i < 3000; i++) bytewise.push(stream.subarray(i, i + 1));
  assert.equal(bytewise.dataFrames, 4, 'the 70000-byte frame counts only once all of it has arrived');
  bytewise.push(stream.subarray(3000, stream.length - 1));
  assert.equal(bytewise.dataFrames, 5);
  assert.equal(bytewise.closeFrames, 0);
  bytewise.push(stream.subarray(stream.length - 1));
  assert.equal(bytewise.closeFrames, 1);
});

test('FrameCounter flags frames whose mask bit is wrong for the sender', () => {
  const counter = new FrameCounter(true);
  counter.push(frameBatch(100, 3, false));
  assert.equal(counter.dataFrames, 3);
  assert.equal(counter.malformed, 3);
});

test('evaluate takes the median of the runs, the ratio to nginx and to the best anchor, and judges each wsgate mode', () => {
  const echo = (cpuSeconds: number, p99Us = 1000) => ({ kind: 'echo' as const, payloadBytes: 1024, connections: 100, roundTrips: 500_000, cpuSeconds, systemSeconds: 0, wallSeconds: 10, tls: '', p50Us: 500, p99Us, p999Us: p99Us * 2 });
  const rows = evaluate({
    echo1k: {
      nginx: [echo(8), echo(7), echo(7.5)],
      haproxy: [echo(6), echo(6), echo(6)],
      'wsgate-proxy': [echo(9), echo(100), echo(9)],
      'wsgate-run': [echo(20, 3000), echo(20, 3000), echo(20, 3000)],
    },
  });
  const cpu = rows.find((row) => row.metric.startsWith('echo, 100 conns, 1 KiB'))!;
  // 1M messages are 500k round trips: CPU s per 1M messages = cpuSeconds / (2 * roundTrips) * 1e6.
  assert.equal(cpu.values.nginx, 7.5);
  assert.equal(cpu.values['wsgate-proxy'], 9, 'one outlier run does not move the median');
  assert.deepEqual(cpu.spread['wsgate-proxy'], [9, 100, 9]);
  assert.ok(Math.abs(cpu.ratios['wsgate-proxy']!.nginx! - 1.2) < 1e-9);
  assert.ok(Math.abs(cpu.ratios['wsgate-proxy']!.best! - 1.5) < 1e-9, 'HAProxy is the best anchor here');
  assert.equal(cpu.verdicts['wsgate-proxy'], 'pass');
  assert.equal(cpu.verdicts['wsgate-run'], 'MISS');
  const p99 = rows.find((row) => row.metric.startsWith('loaded round trip p99,'))!;
  assert.equal(p99.values['wsgate-run'], 3);
  assert.equal(p99.verdicts['wsgate-run'], 'MISS');
  assert.equal(p99.verdicts['wsgate-proxy'], 'pass');
});

test('evaluate holds the proxy at rest to 64 MiB and only reports what run adds', () => {
  const rest = (mib: number) => [{ kind: 'rest' as const, rssBytes: mib * 1024 * 1024, processes: 1 }];
  const row = evaluate({ rest: { nginx: rest(18), 'wsgate-proxy': rest(70), 'wsgate-run': rest(90) } }).find((r) => r.phase === 'rest')!;
  assert.equal(row.verdicts['wsgate-proxy'], 'MISS');
  assert.equal(row.verdicts['wsgate-run'], undefined);
  assert.equal(row.values['wsgate-run'], 90);
});

test('parseGcPauses finds the longest main-thread pause in node --trace-gc output', () => {
  const text = [
    '[1234:0x5a0]      512 ms: Scavenge 4.5 (5.2) -> 3.9 (6.2) MB, pooled: 0.0 MB, 1.23 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure;',
    '{"level":"warn","msg":"not a gc line 9.99 / 0.00 ms"}',
    '[1234:0x5a0]     2512 ms: Mark-Compact 12.1 (14.0) -> 8.0 (14.0) MB, 6.75 / 0.10 ms  (average mu = 0.990, current mu = 0.980) finalize incremental marking via task; GC in old space requested',
  ].join('\n');
  assert.deepEqual(parseGcPauses(text), { maxMs: 6.75, count: 2, longestKind: 'Mark-Compact, finalize incremental marking via task' });
});

test('summariseProfile sums self time by function and leaves idle out of the shares', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
  try {
    const path = join(dir, 'p.cpuprofile');
    const frame = (functionName: string, url = 'file:///x/relay.ts') => ({ functionName, url, lineNumber: 9, columnNumber: 0 });
    writeFileSync(path, JSON.stringify({
      nodes: [{ id: 1, callFrame: frame('(idle)', '') }, { id: 2, callFrame: frame('pump') }, { id: 3, callFrame: frame('scan') }],
      samples: [2, 3, 2, 1, 2],
      timeDeltas: [0, 3000, 1000, 3000, 5000],
    }));
    const summary = summariseProfile(path);
    assert.equal(summary.top[0]!.name, 'pump relay.ts:10');
    assert.equal(summary.top[0]!.ms, 6);
    assert.equal(summary.busyMs, 7);
    assert.equal(summary.idleMs, 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

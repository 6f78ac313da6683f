// The bench's own pieces, without timing anything: if the frame counter or the verdicts were
// wrong, every number in docs/benchmarks.md would be too.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { summariseProfile } from '../../bench/profile.ts';
import { evaluate } from '../../bench/report.ts';
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

test('evaluate turns raw results into ratios and verdicts against the issue targets', () => {
  const relay = (cpuSeconds: number) => ({ kind: 'relay' as const, messages: 1_000_000, payloadBytes: 1024, cpuSeconds, systemSeconds: 0, wallSeconds: 1, tls: '' });
  const rows = evaluate({
    relay1k: { wsgate: relay(1.3), nginx: relay(1.0) },
    latency: {
      direct: { kind: 'latency', rounds: 1, p50Us: 20, p99Us: 50, meanUs: 25 },
      nginx: { kind: 'latency', rounds: 1, p50Us: 100, p99Us: 300, meanUs: 120 },
      wsgate: { kind: 'latency', rounds: 1, p50Us: 120, p99Us: 1200, meanUs: 150 },
    },
  });
  const relayRow = rows.find((row) => row.phase === 'relay1k')!;
  assert.equal(relayRow.verdict, 'MISS');
  assert.ok(Math.abs(relayRow.ratio! - 1.3) < 1e-9);
  const p99 = rows.find((row) => row.metric.startsWith('added p99'))!;
  assert.deepEqual(p99.values, { nginx: 250, wsgate: 1150 });
  assert.equal(p99.verdict, 'pass');
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

// Dead relay buffers are given back promptly, not when V8 next feels like collecting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startBufferReclaimer, type GcFunction } from '../../src/runtime/memory.ts';
import { eventually } from '../support/proxy.ts';

test('buffers that died are reclaimed once their total grows past the threshold', async () => {
  const before = process.memoryUsage().arrayBuffers;
  const reclaimer = startBufferReclaimer({ growthBytes: 4 * 1024 * 1024, oldGrowthBytes: 4 * 1024 * 1024, intervalMs: 50 });
  try {
    // Garbage the way a relay makes it: many chunk-sized buffers, each dropped after use.
    // Held until measured: V8 may collect on its own between the allocations and the check.
    let held: Buffer[] | undefined = Array.from({ length: 512 }, (_, i) => Buffer.allocUnsafeSlow(64 * 1024).fill(i));
    assert.ok(process.memoryUsage().arrayBuffers - before > 16 * 1024 * 1024, 'the garbage is there before the reclaimer runs');
    assert.equal(held.length, 512);
    held = undefined;
    await eventually(() => process.memoryUsage().arrayBuffers - before < 4 * 1024 * 1024, 'dead buffers freed');
  } finally {
    reclaimer.stop();
  }
});

/** The real collector, counted: the reclaimer's looks are only visible through what it asks for. */
function countedCollector(): { collect: GcFunction; calls: () => number } {
  const real = runInNewContext('gc') as GcFunction;
  let calls = 0;
  return {
    collect: (options) => {
      calls++;
      real(options);
    },
    calls: () => calls,
  };
}

test('paused (no connection open), the reclaimer stops looking; resumed, it reclaims again', async () => {
  setFlagsFromString('--expose-gc');
  const counted = countedCollector();
  const reclaimer = startBufferReclaimer({ growthBytes: 1024 * 1024, intervalMs: 10, collect: counted.collect });
  try {
    reclaimer.pause();
    // Its last look finds nothing to do and it stops: garbage made afterwards is not its business.
    await sleep(100);
    const before = counted.calls();
    let held: Buffer[] | undefined = Array.from({ length: 64 }, () => Buffer.allocUnsafeSlow(64 * 1024));
    assert.equal(held.length, 64);
    held = undefined;
    await sleep(200);
    assert.equal(counted.calls(), before, 'no collection asked for while paused');
    reclaimer.resume();
    held = Array.from({ length: 64 }, () => Buffer.allocUnsafeSlow(64 * 1024));
    assert.equal(held.length, 64);
    held = undefined;
    await eventually(() => counted.calls() > before, 'a collection once resumed');
  } finally {
    reclaimer.stop();
  }
});

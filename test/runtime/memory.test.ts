// Dead relay buffers are given back promptly, not when V8 next feels like collecting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBufferReclaimer } from '../../src/runtime/memory.ts';
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

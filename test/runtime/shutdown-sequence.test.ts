// runShutdown, the one SPEC §8 sequence the single process, the cluster primary and a worker all
// go through: readiness off -> shutdown delay -> close listeners -> 1001 to all -> done when idle
// or at the timeout counted from the start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setLogLevel } from '../../src/common/log.ts';
import { runShutdown, type ShutdownSteps } from '../../src/runtime/shutdown.ts';

setLogLevel('silent');

// Timers only promise "not earlier": times are checked as lower bounds, and loosely from above.
function recorded(whenIdle: () => Promise<void>, delayMs: number, timeoutMs: number): { steps: ShutdownSteps; log: string[]; times: Map<string, number> } {
  const log: string[] = [];
  const times = new Map<string, number>();
  const started = performance.now();
  const at = (step: string): void => {
    log.push(step);
    times.set(step, performance.now() - started);
  };
  return {
    log,
    times,
    steps: {
      delayMs,
      timeoutMs,
      beginDraining: () => at('draining'),
      stopAccepting: async () => at('stopAccepting'),
      closeConnections: () => at('closeConnections'),
      whenIdle: async () => {
        await whenIdle();
        at('idle');
      },
      finish: async () => at('finish'),
    },
  };
}

test('the steps run in order, listeners close after the delay, idle ends it', async () => {
  const { steps, log, times } = recorded(() => new Promise((resolve) => setTimeout(resolve, 100)), 200, 5000);
  assert.equal(await runShutdown(steps), 'idle');
  assert.deepEqual(log, ['draining', 'stopAccepting', 'closeConnections', 'idle', 'finish']);
  assert.ok(times.get('stopAccepting')! >= 195, `listeners closed at ${times.get('stopAccepting')} ms, before the 200 ms delay`);
  assert.ok(times.get('finish')! < 4000, 'idle ends it well before the timeout');
});

test('connections that stay past the timeout end it with "timeout", still finishing', async () => {
  const { steps, log, times } = recorded(() => new Promise(() => {}), 100, 300);
  assert.equal(await runShutdown(steps), 'timeout');
  assert.deepEqual(log, ['draining', 'stopAccepting', 'closeConnections', 'finish']);
  assert.ok(times.get('stopAccepting')! >= 95);
  assert.ok(times.get('finish')! >= 295, 'the timeout counts from the start');
});

test('a delay longer than the timeout is cut at the timeout', async () => {
  const { steps, log, times } = recorded(() => new Promise(() => {}), 5000, 200);
  assert.equal(await runShutdown(steps), 'timeout');
  assert.deepEqual(log, ['draining', 'stopAccepting', 'closeConnections', 'finish']);
  assert.ok(times.get('stopAccepting')! >= 195 && times.get('stopAccepting')! < 4000, 'listeners close at the timeout, not after the delay');
});

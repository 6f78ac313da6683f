// A connection's lease gives back each thing it holds exactly once, whichever way it ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionLease } from '../../../src/dataplane/handshake/lease.ts';
import type { Admission } from '../../../src/dataplane/admission/admission.ts';
import type { RouteMetrics } from '../../../src/metrics/metrics.ts';
import type { DataPlane, ProxiedConnection } from '../../../src/dataplane/state.ts';
import { EndpointRegistry } from '../../../src/dataplane/upstream/registry.ts';

function recorder() {
  const calls: string[] = [];
  const admission: Admission = { acquire: () => 'ok', release: (group, ip) => void calls.push(`release ${group} ${ip}`) };
  const metrics: RouteMetrics = {
    traffic: { bytesUp: 0, bytesDown: 0, messagesUp: 0, messagesDown: 0 },
    opened: () => void calls.push('opened'),
    closed: (seconds, code, side) => void calls.push(`closed ${seconds} ${code} ${side}`),
    pingTimedOut: (side) => void calls.push(`ping timeout ${side}`),
    rebalanceClosed: () => void calls.push('rebalance close'),
  };
  const dataplane = { track: () => void calls.push('track'), untrack: () => void calls.push('untrack') } as unknown as DataPlane;
  return { calls, admission, metrics, dataplane };
}

test('a refusal after admission gives the slot back once', () => {
  const { calls, admission } = recorder();
  const lease = new ConnectionLease();
  lease.holdAdmission(admission, 'ns/ing', '192.0.2.1');
  lease.release();
  lease.release();
  assert.deepEqual(calls, ['release ns/ing 192.0.2.1']);
});

test('a failed exchange gives back the endpoint count and the slot, once', () => {
  const { calls, admission } = recorder();
  const registry = new EndpointRegistry();
  registry.connectionOpened('10.0.0.1:80');
  const lease = new ConnectionLease();
  lease.holdAdmission(admission, 'ns/ing', '192.0.2.1');
  lease.holdEndpoint(registry, '10.0.0.1:80');
  lease.release();
  lease.end(undefined);
  assert.equal(registry.load('10.0.0.1:80'), 0);
  assert.deepEqual(calls, ['release ns/ing 192.0.2.1']);
});

test('a relayed connection ends with all four duties, in order, once', () => {
  const { calls, admission, metrics, dataplane } = recorder();
  const registry = new EndpointRegistry();
  registry.connectionOpened('10.0.0.1:80');
  registry.connectionOpened('10.0.0.1:80');
  const lease = new ConnectionLease();
  lease.holdAdmission(admission, 'ns/ing', '192.0.2.1');
  lease.holdEndpoint(registry, '10.0.0.1:80');
  lease.opened(metrics);
  lease.track(dataplane, {} as ProxiedConnection);
  lease.end({ durationSeconds: 2, code: 1000, side: 'client' });
  lease.end({ durationSeconds: 3, code: 1006, side: 'upstream' });
  lease.release();
  assert.equal(registry.load('10.0.0.1:80'), 1);
  assert.deepEqual(calls, ['opened', 'track', 'release ns/ing 192.0.2.1', 'closed 2 1000 client', 'untrack']);
});

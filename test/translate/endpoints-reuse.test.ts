// endpointsForPort keeps the endpoints of a one-slice Service per slice object: the same slice
// gives equal lists (copies, so a caller's change stays its own), a replaced slice its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointsForPort } from '../../src/translate/endpoints.ts';
import { endpointSlice } from '../support/k8s.ts';

test('one slice: equal copies from the same object, the new endpoints from a replaced one', () => {
  const slice = endpointSlice('chat', { endpoints: ['10.0.0.2', '10.0.0.1', { address: '10.0.0.3', ready: false }] });
  const port = { name: 'http', port: 80 };
  const first = endpointsForPort([slice], port);
  assert.deepEqual(first.map((e) => [e.address, e.state]), [['10.0.0.1', 'ready'], ['10.0.0.2', 'ready'], ['10.0.0.3', 'not-ready']]);
  first[0]!.address = '192.0.2.1';
  first.pop();
  const again = endpointsForPort([slice], port);
  assert.deepEqual(again.map((e) => e.address), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  assert.notEqual(again[0], first[0]);
  // An update is a new object (as the informer delivers it): its endpoints, not the kept ones.
  const updated = { ...slice, endpoints: [{ addresses: ['10.0.0.9'], conditions: { ready: true } }] };
  assert.deepEqual(endpointsForPort([updated], port).map((e) => e.address), ['10.0.0.9']);
  // Another port name of the same slice is its own list (this slice has no such port: none).
  assert.deepEqual(endpointsForPort([slice], { name: 'metrics', port: 9090 }), []);
});

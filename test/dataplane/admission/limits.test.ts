import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionLimits } from '../../../src/dataplane/admission/limits.ts';

const CHAT = 'default/chat';
const NEWS = 'default/news';

test('without limits every connection is admitted and counted', () => {
  const limits = new ConnectionLimits();
  for (let i = 0; i < 100; i++) assert.equal(limits.tryAcquire(CHAT, undefined, '10.0.0.1', undefined), 'ok');
  assert.equal(limits.active(CHAT), 100);
  assert.equal(limits.active(CHAT, '10.0.0.1'), 100);
});

test('max-connections refuses beyond the limit for the Ingress, whoever the client', () => {
  const limits = new ConnectionLimits();
  assert.equal(limits.tryAcquire(CHAT, 2, '10.0.0.1', undefined), 'ok');
  assert.equal(limits.tryAcquire(CHAT, 2, '10.0.0.2', undefined), 'ok');
  assert.equal(limits.tryAcquire(CHAT, 2, '10.0.0.3', undefined), 'max-connections');
  // Another Ingress has its own count.
  assert.equal(limits.tryAcquire(NEWS, 2, '10.0.0.3', undefined), 'ok');
  limits.release(CHAT, '10.0.0.1');
  assert.equal(limits.tryAcquire(CHAT, 2, '10.0.0.3', undefined), 'ok');
  assert.equal(limits.active(CHAT), 2);
});

test('max-connections-per-client refuses one client beyond its limit, not the others', () => {
  const limits = new ConnectionLimits();
  assert.equal(limits.tryAcquire(CHAT, undefined, '10.0.0.1', 2), 'ok');
  assert.equal(limits.tryAcquire(CHAT, undefined, '10.0.0.1', 2), 'ok');
  assert.equal(limits.tryAcquire(CHAT, undefined, '10.0.0.1', 2), 'max-connections-per-client');
  assert.equal(limits.tryAcquire(CHAT, undefined, '10.0.0.2', 2), 'ok');
  limits.release(CHAT, '10.0.0.1');
  assert.equal(limits.tryAcquire(CHAT, undefined, '10.0.0.1', 2), 'ok');
});

test('a refused attempt takes no slot', () => {
  const limits = new ConnectionLimits();
  assert.equal(limits.tryAcquire(CHAT, 1, '10.0.0.1', 1), 'ok');
  for (let i = 0; i < 5; i++) {
    assert.equal(limits.tryAcquire(CHAT, 1, '10.0.0.2', 1), 'max-connections');
    assert.equal(limits.tryAcquire(CHAT, 5, '10.0.0.1', 1), 'max-connections-per-client');
  }
  assert.equal(limits.active(CHAT), 1);
  assert.equal(limits.active(CHAT, '10.0.0.2'), 0);
});

test('the Ingress limit is checked before the per-client one', () => {
  const limits = new ConnectionLimits();
  limits.tryAcquire(CHAT, 1, '10.0.0.1', 1);
  assert.equal(limits.tryAcquire(CHAT, 1, '10.0.0.1', 1), 'max-connections');
});

test('an IPv4-mapped address is the same client as its IPv4 form', () => {
  const limits = new ConnectionLimits();
  assert.equal(limits.tryAcquire(CHAT, undefined, '10.0.0.1', 1), 'ok');
  assert.equal(limits.tryAcquire(CHAT, undefined, '::ffff:10.0.0.1', 1), 'max-connections-per-client');
  limits.release(CHAT, '::ffff:10.0.0.1');
  assert.equal(limits.active(CHAT), 0);
});

test('a limit added by a reload counts the connections already open', () => {
  const limits = new ConnectionLimits();
  for (let i = 0; i < 3; i++) limits.tryAcquire(CHAT, undefined, '10.0.0.1', undefined);
  assert.equal(limits.tryAcquire(CHAT, 3, '10.0.0.2', undefined), 'max-connections');
  assert.equal(limits.tryAcquire(CHAT, undefined, '10.0.0.1', 3), 'max-connections-per-client');
});

test('a limit of zero refuses everything', () => {
  const limits = new ConnectionLimits();
  assert.equal(limits.tryAcquire(CHAT, 0, '10.0.0.1', undefined), 'max-connections');
  assert.equal(limits.tryAcquire(CHAT, undefined, '10.0.0.1', 0), 'max-connections-per-client');
  assert.equal(limits.groupCount, 0);
});

test('no map entries remain once every connection is released', () => {
  const limits = new ConnectionLimits();
  for (let client = 0; client < 50; client++) {
    for (let i = 0; i < 3; i++) limits.tryAcquire(`ns/ing-${client % 5}`, undefined, `10.0.${client}.1`, undefined);
  }
  assert.equal(limits.groupCount, 5);
  for (let client = 0; client < 50; client++) {
    for (let i = 0; i < 3; i++) limits.release(`ns/ing-${client % 5}`, `10.0.${client}.1`);
  }
  assert.equal(limits.groupCount, 0);
  assert.equal(limits.active('ns/ing-0'), 0);
});

test('releasing more than was acquired, or for an unknown group, changes nothing', () => {
  const limits = new ConnectionLimits();
  limits.release(CHAT, '10.0.0.1');
  limits.tryAcquire(CHAT, undefined, '10.0.0.1', undefined);
  limits.release(CHAT, '10.0.0.2');
  assert.equal(limits.active(CHAT), 1);
  limits.release(CHAT, '10.0.0.1');
  limits.release(CHAT, '10.0.0.1');
  assert.equal(limits.active(CHAT), 0);
  assert.equal(limits.tryAcquire(CHAT, 1, '10.0.0.1', 1), 'ok');
  assert.equal(limits.tryAcquire(CHAT, 1, '10.0.0.1', 1), 'max-connections');
});

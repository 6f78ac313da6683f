import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileHashKey, pickInTurn, pickLeastLoaded } from '../../../src/dataplane/upstream/balancers.ts';
import type { EndpointRef, PickContext } from '../../../src/dataplane/upstream/types.ts';

const ref = (key: string): EndpointRef => ({ key, address: key.split(':')[0]!, port: Number(key.split(':')[1]) });
const A = ref('10.0.0.1:80');
const B = ref('10.0.0.2:80');
const C = ref('10.0.0.3:80');

function ctx(overrides: Partial<PickContext> = {}): PickContext {
  return { clientIp: '192.0.2.7', headers: {}, url: '/ws', ...overrides };
}

test('least-loaded picks the endpoint with the fewest open connections', () => {
  const loads: Record<string, number> = { [A.key]: 5, [B.key]: 1, [C.key]: 3 };
  for (let turn = 0; turn < 5; turn++) assert.equal(pickLeastLoaded([A, B, C], (key) => loads[key]!, turn), B);
});

test('least-loaded takes turns among equally loaded endpoints', () => {
  const loads: Record<string, number> = { [A.key]: 2, [B.key]: 0, [C.key]: 0 };
  const picked = [0, 1, 2, 3].map((turn) => pickLeastLoaded([A, B, C], (key) => loads[key]!, turn));
  assert.deepEqual(picked, [B, C, B, C]);
  assert.equal(pickLeastLoaded([], () => 0, 0), undefined);
});

test('in-turn starts at the cursor, wraps, and skips what is not accepted', () => {
  assert.equal(pickInTurn([A, B, C], () => true, 1), 1);
  assert.equal(pickInTurn([A, B, C], () => true, 2), 2);
  assert.equal(pickInTurn([A, B, C], (e) => e !== C, 2), 0);
  assert.equal(pickInTurn([A, B, C], () => false, 0), undefined);
  assert.equal(pickInTurn([], () => true, 0), undefined);
});

test('hash by header: case-insensitive name, repeated headers joined, empty is absent', () => {
  const read = compileHashKey('header:X-User')!;
  assert.equal(read(ctx({ headers: { 'x-user': 'alice' } })), 'alice');
  assert.equal(read(ctx({ headers: { 'x-user': ['a', 'b'] } as never })), 'a, b');
  assert.equal(read(ctx({ headers: { 'x-user': '' } })), undefined);
  assert.equal(read(ctx({ headers: { 'x-other': 'bob' } })), undefined);
});

test('hash by cookie: exact name, first occurrence, quotes removed', () => {
  const read = compileHashKey('cookie:session')!;
  assert.equal(read(ctx({ headers: { cookie: 'theme=dark; session=abc123; other=1' } })), 'abc123');
  assert.equal(read(ctx({ headers: { cookie: 'session="q v"' } })), 'q v');
  assert.equal(read(ctx({ headers: { cookie: 'session=first; session=second' } })), 'first');
  assert.equal(read(ctx({ headers: { cookie: 'Session=x; mysession=y' } })), undefined);
  assert.equal(read(ctx({ headers: { cookie: 'session=' } })), undefined);
  assert.equal(read(ctx()), undefined);
});

test('hash by query parameter: decoded, first value, fragment ignored', () => {
  const read = compileHashKey('query:room')!;
  assert.equal(read(ctx({ url: '/ws?room=lobby&x=1' })), 'lobby');
  assert.equal(read(ctx({ url: '/ws?x=1&room=a%20b' })), 'a b');
  assert.equal(read(ctx({ url: '/ws?room=one&room=two' })), 'one');
  assert.equal(read(ctx({ url: '/ws?room=r#frag' })), 'r');
  assert.equal(read(ctx({ url: '/ws?roomy=1' })), undefined);
  assert.equal(read(ctx({ url: '/ws' })), undefined);
});

test('hash by client ip: an IPv4-mapped address is the same client as its IPv4 form', () => {
  const read = compileHashKey('client-ip')!;
  assert.equal(read(ctx({ clientIp: '203.0.113.9' })), '203.0.113.9');
  assert.equal(read(ctx({ clientIp: '::ffff:203.0.113.9' })), '203.0.113.9');
  assert.equal(read(ctx({ clientIp: '2001:db8::1' })), '2001:db8::1');
});

test('hash-by values outside the grammar compile to nothing', () => {
  for (const bad of ['', 'header', 'header:', ':x', 'body:x', 'client', 'ip']) assert.equal(compileHashKey(bad), undefined, bad);
});

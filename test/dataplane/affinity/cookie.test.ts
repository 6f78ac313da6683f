// The affinity cookie's value and header handling: deterministic under one key (what lets workers
// and replicas agree), different under another, and byte-exact on the 101 head.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AffinityCookie, headWithSetCookie, readCookie } from '../../../src/dataplane/upstream/affinity.ts';

const ready = [
  { key: '10.0.0.1:8080', address: '10.0.0.1', port: 8080, name: 'pod-a' },
  { key: '10.0.0.2:8080', address: '10.0.0.2', port: 8080 },
];
const settings = { mode: 'cookie' as const, cookieName: 'SID' };

test('the same key names an endpoint alike in two tables; another key or service does not', () => {
  const one = new AffinityCookie(settings, Buffer.alloc(32, 1), 'ns', 'svc', ready);
  const two = new AffinityCookie(settings, Buffer.alloc(32, 1), 'ns', 'svc', ready);
  const other = new AffinityCookie(settings, Buffer.alloc(32, 2), 'ns', 'svc', ready);
  const otherService = new AffinityCookie(settings, Buffer.alloc(32, 1), 'ns', 'svc2', ready);
  const cookie = one.setCookieFor(ready[1]!, {})!.split(';')[0]!;
  assert.equal(two.pinned({ cookie }), ready[1]);
  assert.equal(other.pinned({ cookie }), undefined);
  assert.equal(otherService.pinned({ cookie }), undefined);
  assert.equal(one.setCookieFor(ready[1]!, { cookie }), undefined, 'a valid cookie is not set again');
  assert.equal(one.setCookieFor(ready[1]!, {}), `${cookie}; Path=/; HttpOnly`);
});

test('readCookie finds the first cookie of the name among others, and nothing in a look-alike', () => {
  assert.equal(readCookie('a=1; SID=x; SID=y', 'SID'), 'x');
  assert.equal(readCookie('XSID=1; SIDX=2', 'SID'), undefined);
  assert.equal(readCookie(undefined, 'SID'), undefined);
});

test('Set-Cookie goes into the 101 head before its blank line; the bytes after stay', () => {
  const head = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n');
  const out = headWithSetCookie(Buffer.concat([head, Buffer.from([0x81, 0x00])]), 'SID=v; Path=/');
  assert.equal(out.toString('latin1'), 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSet-Cookie: SID=v; Path=/\r\n\r\n\x81\x00');
});

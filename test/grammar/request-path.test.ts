import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { normaliseRequestTarget } from '../../src/grammar/request-path.ts';

function pathOf(target: string): string {
  const result = normaliseRequestTarget(target);
  assert.ok(result.ok, `${target}: ${result.ok ? '' : result.reason}`);
  return result.value.path;
}

test('origin-form targets normalise as RFC 3986 §5.2.4 and §2.3 say', () => {
  const table: [string, string][] = [
    ['/', '/'],
    ['/public', '/public'],
    ['/public/', '/public/'],
    ['/public/../private', '/private'],
    ['/public/%2e%2e/private', '/private'],
    ['/public/%2E%2E/private', '/private'],
    ['/public/.%2e/private', '/private'],
    ['/public/./../private', '/private'],
    ['//private', '/private'],
    ['/./private', '/private'],
    ['/%70rivate', '/private'],
    ['/a//b///c', '/a/b/c'],
    ['/a/./b/.', '/a/b/'],
    ['/a/b/..', '/a/'],
    ['/a/..', '/'],
    ['/public/..;/private', '/public/..;/private'],
    ['/public/%252e%252e/private', '/public/%252e%252e/private'],
    ['/a%3fb', '/a%3Fb'],
    ['/a%7eb%41%2D%5f', '/a~bA-_'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/.hidden/...', '/.hidden/...'],
  ];
  for (const [input, expected] of table) assert.equal(pathOf(input), expected, input);
});

test('the query is kept as it is, with its question mark', () => {
  assert.deepEqual(normaliseRequestTarget('/a/../b?x=%2e%2e/../&y'), {
    ok: true,
    value: { path: '/b', query: '?x=%2e%2e/../&y' },
  });
  assert.deepEqual(normaliseRequestTarget('/a?'), { ok: true, value: { path: '/a', query: '?' } });
});

test('absolute-form: authority lowercased and returned, path normalised', () => {
  assert.deepEqual(normaliseRequestTarget('http://LocalHost:8080/public/../private?q'), {
    ok: true,
    value: { path: '/private', query: '?q', authority: 'localhost:8080' },
  });
  assert.deepEqual(normaliseRequestTarget('HTTPS://other.test'), {
    ok: true,
    value: { path: '/', query: '', authority: 'other.test' },
  });
  assert.deepEqual(normaliseRequestTarget('http://[::1]:80?x'), {
    ok: true,
    value: { path: '/', query: '?x', authority: '[::1]:80' },
  });
});

test('what cannot be normalised is refused with a reason', () => {
  const refused = [
    '/../private',
    '/public/../../private',
    '/%2e%2e/x',
    '/public/..%2fprivate',
    '/public%2f..%2fprivate',
    '/private%2f',
    '/private%2F',
    '/a%5cb',
    '/a%00b',
    '/public\\..\\private',
    '/a\x00b',
    '/a\rb',
    '/a\nb',
    '/a b',
    '/a\tb',
    '/a\x7fb',
    '/a%',
    '/a%2',
    '/a%zz',
    '/a%2g',
    '/a?x y',
    '*',
    '',
    'private',
    'ws://localhost/x',
    'ftp://localhost/x',
    'http:///x',
    'http://user@host/x',
    'http://ho st/x',
  ];
  for (const input of refused) {
    const result = normaliseRequestTarget(input);
    assert.equal(result.ok, false, JSON.stringify(input));
    if (!result.ok) assert.ok(result.reason.length > 0);
  }
});

test('the common case returns the input string itself', () => {
  const target = '/chat/room-1/socket';
  const result = normaliseRequestTarget(target);
  assert.ok(result.ok);
  assert.equal(result.value.path, target);
  assert.equal(result.value.query, '');
});

const segmentChars = fc.constantFrom(...'abcxyz019-_~.'.split(''), '%2e', '%2E', '%41', '%3f', '%25', ';');
const rawSegment = fc.array(segmentChars, { minLength: 0, maxLength: 5 }).map((parts) => parts.join(''));
const rawPath = fc.array(rawSegment, { minLength: 0, maxLength: 8 }).map((segments) => `/${segments.join('/')}`);

test('property: normalised output is idempotent and clean', () => {
  fc.assert(
    fc.property(rawPath, (input) => {
      const first = normaliseRequestTarget(input);
      if (!first.ok) return;
      const path = first.value.path;
      assert.ok(path.startsWith('/'));
      assert.ok(!path.includes('//'), path);
      assert.ok(!/\/\.\.?(?:\/|$)/.test(path), path);
      assert.ok(!/%(?:[46][1-9A-F]|[57][0-9A]|3[0-9]|2[DE]|5F|7E)/i.test(path), path);
      const second = normaliseRequestTarget(path);
      assert.ok(second.ok);
      assert.equal(second.value.path, path);
    }),
    { numRuns: 2000 },
  );
});

const safeSegment = fc.stringMatching(/^[a-z0-9_~-]{1,6}$/);
const safePath = fc.array(safeSegment, { minLength: 1, maxLength: 6 }).map((segments) => `/${segments.join('/')}`);
const noise = fc.constantFrom('./', 'x/../', '/', '%2e/', 'q%2E%2e/x/../../');

test('property: inserting ./, x/../ or duplicate slashes anywhere normalises back', () => {
  fc.assert(
    fc.property(safePath, fc.array(fc.tuple(fc.nat(), noise), { maxLength: 6 }), (path, insertions) => {
      let noisy = path;
      for (const [where, extra] of insertions) {
        const slashes = [...noisy.matchAll(/\//g)].map((m) => m.index);
        const at = slashes[where % slashes.length]! + 1;
        noisy = noisy.slice(0, at) + extra + noisy.slice(at);
      }
      assert.equal(pathOf(noisy), path, noisy);
    }),
    { numRuns: 2000 },
  );
});

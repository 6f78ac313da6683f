import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouter, normalizeHost, type RoutableEntry } from '../../../src/dataplane/handshake/router.ts';

interface Entry extends RoutableEntry {
  id: string;
}

function route(id: string, host: string, path: string, pathType: RoutableEntry['pathType'] = 'Prefix'): Entry {
  return { id, host, path, pathType };
}

/** Asserts each [host, path, expected id or undefined] row. */
function expectRoutes(entries: Entry[], rows: [string, string, string | undefined][]): void {
  const router = compileRouter(entries);
  for (const [host, path, expected] of rows) {
    assert.equal(router.match(normalizeHost(host), path)?.id, expected, `${host} ${path}`);
  }
}

test('exact host beats wildcard beats any host', () => {
  expectRoutes(
    [route('any', '', '/'), route('wild', '*.example.com', '/'), route('exact', 'chat.example.com', '/')],
    [
      ['chat.example.com', '/', 'exact'],
      ['news.example.com', '/', 'wild'],
      ['example.org', '/', 'any'],
    ],
  );
});

test('the order routes are listed in does not change precedence', () => {
  expectRoutes(
    [route('exact', 'chat.example.com', '/'), route('wild', '*.example.com', '/'), route('any', '', '/')].reverse(),
    [
      ['chat.example.com', '/x', 'exact'],
      ['news.example.com', '/x', 'wild'],
      ['other.test', '/x', 'any'],
    ],
  );
});

test('a wildcard covers exactly one label', () => {
  expectRoutes(
    [route('wild', '*.example.com', '/')],
    [
      ['a.example.com', '/', 'wild'],
      ['a.b.example.com', '/', undefined],
      ['example.com', '/', undefined],
      ['.example.com', '/', undefined],
      ['aexample.com', '/', undefined],
    ],
  );
});

test('Exact beats Prefix for the same path', () => {
  expectRoutes(
    [route('prefix', 'h.test', '/ws'), route('exact', 'h.test', '/ws', 'Exact')],
    [
      ['h.test', '/ws', 'exact'],
      ['h.test', '/ws/', 'prefix'],
      ['h.test', '/ws/room', 'prefix'],
    ],
  );
});

test('Exact matches only the identical path', () => {
  expectRoutes(
    [route('exact', 'h.test', '/ws', 'Exact')],
    [
      ['h.test', '/ws', 'exact'],
      ['h.test', '/ws/', undefined],
      ['h.test', '/WS', undefined],
      ['h.test', '/ws/x', undefined],
    ],
  );
});

test('the longest matching prefix wins', () => {
  expectRoutes(
    [route('root', 'h.test', '/'), route('api', 'h.test', '/api'), route('v2', 'h.test', '/api/v2')],
    [
      ['h.test', '/api/v2/socket', 'v2'],
      ['h.test', '/api/v2', 'v2'],
      ['h.test', '/api/v1/socket', 'api'],
      ['h.test', '/api', 'api'],
      ['h.test', '/other', 'root'],
      ['h.test', '/', 'root'],
    ],
  );
});

test('prefixes match element by element (Ingress API table)', () => {
  expectRoutes(
    [route('foo', 'h.test', '/foo'), route('aaa-bbb', 'h.test', '/aaa/bbb')],
    [
      ['h.test', '/foo', 'foo'],
      ['h.test', '/foo/', 'foo'],
      ['h.test', '/foo/bar', 'foo'],
      ['h.test', '/foobar', undefined],
      ['h.test', '/fo', undefined],
      ['h.test', '/aaa/bbb', 'aaa-bbb'],
      ['h.test', '/aaa/bbb/', 'aaa-bbb'],
      ['h.test', '/aaa/bbb/ccc', 'aaa-bbb'],
      ['h.test', '/aaa/bbbxyz', undefined],
      ['h.test', '/aaa', undefined],
      ['h.test', '/Foo', undefined],
    ],
  );
});

test('a trailing slash in a Prefix rule is ignored', () => {
  expectRoutes(
    [route('foo', 'h.test', '/foo/')],
    [
      ['h.test', '/foo', 'foo'],
      ['h.test', '/foo/', 'foo'],
      ['h.test', '/foo/x', 'foo'],
      ['h.test', '/foox', undefined],
    ],
  );
});

test('Prefix / matches every path, and ImplementationSpecific is Prefix', () => {
  expectRoutes(
    [route('impl', 'h.test', '/chat', 'ImplementationSpecific'), route('root', 'h.test', '/')],
    [
      ['h.test', '/', 'root'],
      ['h.test', '/anything/at/all', 'root'],
      ['h.test', '/chat/room', 'impl'],
      ['h.test', '/chatroom', 'root'],
    ],
  );
});

test('the query string and fragment are not part of the path', () => {
  expectRoutes(
    [route('exact', 'h.test', '/ws', 'Exact'), route('foo', 'h.test', '/foo')],
    [
      ['h.test', '/ws?token=abc', 'exact'],
      ['h.test', '/ws?', 'exact'],
      ['h.test', '/ws#frag', 'exact'],
      ['h.test', '/foo?next=/bar', 'foo'],
      ['h.test', '/bar?x=/foo', undefined],
    ],
  );
});

test('the Host header is matched without port, case or trailing dot', () => {
  expectRoutes(
    [route('exact', 'chat.example.com', '/'), route('wild', '*.example.com', '/')],
    [
      ['chat.example.com:443', '/', 'exact'],
      ['CHAT.Example.COM', '/', 'exact'],
      ['chat.example.com.', '/', 'exact'],
      ['chat.example.com.:8443', '/', 'exact'],
      ['News.Example.com:80', '/', 'wild'],
    ],
  );
});

test('a host whose paths do not match falls through to wildcard, then any host', () => {
  const entries = [
    route('exact-api', 'chat.example.com', '/api'),
    route('wild-ws', '*.example.com', '/ws'),
    route('default', '', '/'),
  ];
  expectRoutes(entries, [
    ['chat.example.com', '/api/x', 'exact-api'],
    ['chat.example.com', '/ws', 'wild-ws'],
    ['chat.example.com', '/other', 'default'],
    ['x.example.com', '/api', 'default'],
    ['unknown.test', '/ws', 'default'],
  ]);
});

test('without a default backend an unmatched request has no route', () => {
  expectRoutes(
    [route('exact', 'chat.example.com', '/ws', 'Exact')],
    [
      ['chat.example.com', '/other', undefined],
      ['other.test', '/ws', undefined],
      ['', '/ws', undefined],
    ],
  );
  assert.equal(compileRouter([]).match('h.test', '/'), undefined);
});

test('an any-host rule with a path serves every host on that path', () => {
  expectRoutes(
    [route('ws', '', '/ws')],
    [
      ['a.test', '/ws/x', 'ws'],
      ['b.test:8080', '/ws', 'ws'],
      ['b.test', '/', undefined],
    ],
  );
});

test('when two rules claim the same host, path and kind, the first listed wins', () => {
  expectRoutes(
    [route('older', 'h.test', '/foo'), route('newer', 'h.test', '/foo/'), route('exact-old', 'h.test', '/x', 'Exact'), route('exact-new', 'h.test', '/x', 'Exact')],
    [
      ['h.test', '/foo/bar', 'older'],
      ['h.test', '/x', 'exact-old'],
    ],
  );
});

test('repeated slashes and paths that are not origin-form', () => {
  expectRoutes(
    [route('foo', 'h.test', '/foo'), route('root', 'h.test', '/')],
    [
      ['h.test', '/foo//bar', 'foo'],
      ['h.test', '//foo', 'root'],
      ['h.test', '*', 'root'],
    ],
  );
  expectRoutes([route('foo', 'h.test', '/foo')], [['h.test', 'foo', undefined]]);
});

test('many routes on one host: each request finds its own', () => {
  const entries: Entry[] = [];
  for (let i = 0; i < 500; i++) entries.push(route(`r${i}`, 'h.test', `/svc/${i}`));
  const router = compileRouter(entries);
  for (let i = 0; i < 500; i += 37) assert.equal(router.match('h.test', `/svc/${i}/socket?x=1`)?.id, `r${i}`);
  assert.equal(router.match('h.test', '/svc/500'), undefined);
});

test('normalizeHost', () => {
  const cases: [string, string][] = [
    ['Example.COM', 'example.com'],
    ['example.com:8080', 'example.com'],
    ['example.com.', 'example.com'],
    ['example.com.:443', 'example.com'],
    ['[::1]:80', '[::1]'],
    ['[::1]', '[::1]'],
    ['[2001:DB8::1]:443', '[2001:db8::1]'],
    ['10.0.0.1:80', '10.0.0.1'],
    ['  spaced.test  ', 'spaced.test'],
    ['', ''],
  ];
  for (const [input, expected] of cases) assert.equal(normalizeHost(input), expected, input);
});

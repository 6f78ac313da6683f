import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostKey, isDnsName, lookupHost, normaliseRequestHost, parseRouteHost } from '../../src/grammar/host.ts';
import { REFUSED, expectTable } from './support.ts';

const NAME_253 = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;

test('route hosts: lowercase RFC 1123 names, one leading *. label, or any host', () => {
  expectTable(parseRouteHost, [
    ['echo.example.com', 'echo.example.com'],
    ['*.example.com', '*.example.com'],
    ['*.a.b', '*.a.b'],
    ['', ''],
    ['a-b.c1.io', 'a-b.c1.io'],
    [`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`],
    [NAME_253, NAME_253],
    [`*.${NAME_253}`, `*.${NAME_253}`],
    [`${'a'.repeat(64)}.com`, REFUSED],
    [`${NAME_253}d`, REFUSED],
    ['Echo.example.com', REFUSED],
    ['a.*.b', REFUSED],
    ['*.*.b', REFUSED],
    ['*', REFUSED],
    ['*.', REFUSED],
    ['-a.com', REFUSED],
    ['a-.com', REFUSED],
    ['a..com', REFUSED],
    ['.a.com', REFUSED],
    ['a.com.', REFUSED],
    ['a_b.com', REFUSED],
    ['a.com:443', REFUSED],
    [' a.com', REFUSED],
  ]);
  assert.equal(isDnsName('*.example.com'), false);
});

test('a request Host: lowercase, no port, no trailing dot, IPv6 kept in brackets', () => {
  const cases: [string, string][] = [
    ['Echo.Example.COM', 'echo.example.com'],
    ['echo.example.com:8443', 'echo.example.com'],
    ['echo.example.com.', 'echo.example.com'],
    ['echo.example.com.:80', 'echo.example.com'],
    ['[::1]:8080', '[::1]'],
    ['[FD00::1]', '[fd00::1]'],
    ['::1', '::1'],
    [' a.test ', 'a.test'],
    ['', ''],
  ];
  for (const [input, expected] of cases) assert.equal(normaliseRequestHost(input), expected, input);
});

test('lookup: exact first, then the one-label wildcard; never the apex nor two labels', () => {
  const exact = new Map([['a.example.com', 'exact']]);
  const wildcard = new Map([[(hostKey('*.example.com') as { domain: string }).domain, 'wild']]);
  const found = (name: string) => lookupHost(exact, wildcard, name, (entry) => entry);
  assert.equal(found('a.example.com'), 'exact');
  assert.equal(found('b.example.com'), 'wild');
  assert.equal(found('example.com'), undefined);
  assert.equal(found('a.b.example.com'), undefined);
  assert.equal(found('.example.com'), undefined);
  // An exact level with no answer falls through to the wildcard.
  assert.equal(lookupHost(exact, wildcard, 'a.example.com', (entry) => (entry === 'exact' ? undefined : entry)), 'wild');
  assert.deepEqual(hostKey('echo.example.com'), { kind: 'exact', name: 'echo.example.com' });
});

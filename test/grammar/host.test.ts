import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookupHost, normaliseRequestHost, parseHostName, parseRouteHost } from '../../src/grammar/host.ts';

test('route hosts: RFC 1123 names or one *. label, lowercased', () => {
  const rows: [string, string | undefined][] = [
    ['chat.example.com', 'chat.example.com'],
    ['Chat.Example.COM', 'chat.example.com'],
    ['*.example.com', '*.example.com'],
    ['', ''],
    [`${'a'.repeat(63)}.io`, `${'a'.repeat(63)}.io`],
    [`${'a'.repeat(64)}.io`, undefined],
    [`${'a.'.repeat(125)}abc`, `${'a.'.repeat(125)}abc`],
    [`${'a.'.repeat(125)}abcd`, undefined],
    ['a.*.b', undefined],
    ['*.*.b', undefined],
    ['*', undefined],
    ['-a.com', undefined],
    ['a..com', undefined],
    ['a.com.', undefined],
    ['a_b.com', undefined],
  ];
  for (const [text, expected] of rows) {
    const parsed = parseRouteHost(text);
    assert.equal(parsed.ok ? parsed.value : undefined, expected, text);
    if (!parsed.ok) assert.match(parsed.reason, /is not a DNS name/);
  }
  assert.equal(parseHostName('*.example.com', { wildcard: false }).ok, false);
});

test('request hosts: lowercase, no port, no trailing dot, IPv6 keeps its brackets', () => {
  const rows: [string, string][] = [
    ['Example.COM', 'example.com'],
    ['example.com:8080', 'example.com'],
    ['example.com.', 'example.com'],
    ['[::1]:80', '[::1]'],
    ['::1', '::1'],
    [' a.test ', 'a.test'],
  ];
  for (const [text, expected] of rows) assert.equal(normaliseRequestHost(text), expected, text);
});

test('lookup: exact first, then exactly one wildcard label, never the apex', () => {
  const exact = new Map([['a.example.com', 'exact']]);
  const wildcards = new Map([['example.com', 'wild']]);
  const rows: [string, string | undefined][] = [
    ['a.example.com', 'exact'],
    ['b.example.com', 'wild'],
    ['c.b.example.com', undefined],
    ['example.com', undefined],
  ];
  for (const [host, expected] of rows) assert.equal(lookupHost(host, exact, wildcards, (v) => v), expected, host);
  // An exact entry that does not answer falls through to the wildcard.
  assert.equal(lookupHost('a.example.com', exact, wildcards, (v) => (v === 'exact' ? undefined : v)), 'wild');
});

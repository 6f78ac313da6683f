import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileOriginPolicy, compileSourceRanges } from '../../../src/dataplane/admission/policy.ts';
import { canonicalClientIp } from '../../../src/grammar/client-address.ts';
import { ConfigError } from '../../../src/common/errors.ts';

function expectOrigins(allowed: string[] | undefined, rows: [string, boolean][]): void {
  const allows = compileOriginPolicy(allowed);
  for (const [origin, expected] of rows) assert.equal(allows(origin), expected, `${origin} against ${JSON.stringify(allowed)}`);
}

function expectSources(cidrs: string[] | undefined, rows: [string, boolean][]): void {
  const allows = compileSourceRanges(cidrs);
  for (const [ip, expected] of rows) assert.equal(allows(ip), expected, `${ip} against ${JSON.stringify(cidrs)}`);
}

test('no origin list allows every origin', () => {
  expectOrigins(undefined, [
    ['https://anything.test', true],
    ['null', true],
  ]);
});

test('exact origins: scheme and host case-insensitive, default ports normalized', () => {
  expectOrigins(
    ['https://app.example.com', 'http://Local.Test:8080'],
    [
      ['https://app.example.com', true],
      ['HTTPS://APP.EXAMPLE.COM', true],
      ['https://app.example.com:443', true],
      ['https://app.example.com:8443', false],
      ['http://app.example.com', false],
      ['http://app.example.com:443', false],
      ['https://other.example.com', false],
      ['https://app.example.com.evil.test', false],
      ['http://local.test:8080', true],
      ['http://local.test', false],
    ],
  );
  expectOrigins(['https://a.com:443'], [['https://a.com', true]]);
  expectOrigins(['http://a.com:80'], [['http://a.com', true]]);
});

test('a wildcard origin matches any subdomain depth, not the apex, not another scheme or port', () => {
  expectOrigins(
    ['https://*.example.com'],
    [
      ['https://a.example.com', true],
      ['https://a.b.c.example.com', true],
      ['https://A.Example.Com:443', true],
      ['https://example.com', false],
      ['http://a.example.com', false],
      ['https://a.example.com:8443', false],
      ['https://aexample.com', false],
      ['https://a.example.com.evil.test', false],
      ['https://example.com.a.example.org', false],
    ],
  );
  expectOrigins(['https://*.example.com:8443'], [
    ['https://a.example.com:8443', true],
    ['https://a.example.com', false],
  ]);
});

test('values that are not origins are refused', () => {
  expectOrigins(
    ['https://app.example.com'],
    [
      ['null', false],
      ['', false],
      ['app.example.com', false],
      ['https://app.example.com/path', false],
      ['https://user@app.example.com', false],
      ['https://app.example.com?x', false],
      ['https://*.example.com', false],
    ],
  );
});

test('an empty origin list allows none; a trailing slash in an entry is tolerated', () => {
  expectOrigins([], [['https://a.com', false]]);
  expectOrigins(['https://a.com/'], [['https://a.com', true]]);
});

test('IPv6 literal origins compare as hosts', () => {
  expectOrigins(['http://[::1]:3000'], [
    ['http://[::1]:3000', true],
    ['http://[0:0::1]:3000', true],
    ['http://[::2]:3000', false],
  ]);
});

test('an entry that is not an origin is a config error', () => {
  // grammar/origin.ts: http and https only (browsers send no other), entries as written (no trimming).
  for (const bad of ['app.example.com', 'https://', 'https://a.com/path', 'https://a.*.com', 'https://*.', '*', 'wss://a.com', ' https://a.com', 'https://a.com:0443']) {
    assert.throws(() => compileOriginPolicy([bad]), ConfigError, bad);
  }
});

test('no source ranges allows every client', () => {
  expectSources(undefined, [
    ['203.0.113.1', true],
    ['not-an-ip', true],
  ]);
});

test('IPv4 ranges, including a bare address and host bits set', () => {
  expectSources(
    ['10.0.0.0/8', '192.168.1.7', '172.16.5.9/12'],
    [
      ['10.1.2.3', true],
      ['11.0.0.1', false],
      ['192.168.1.7', true],
      ['192.168.1.8', false],
      ['172.31.255.255', true],
      ['172.32.0.0', false],
    ],
  );
  expectSources(['0.0.0.0/0'], [['198.51.100.1', true], ['2001:db8::1', false]]);
});

test('IPv6 ranges', () => {
  expectSources(
    ['2001:db8::/32', 'fd00::1'],
    [
      ['2001:db8:ffff::1', true],
      ['2001:DB8::1', true],
      ['2001:db9::1', false],
      ['fd00::1', true],
      ['fd00::2', false],
      ['10.0.0.1', false],
    ],
  );
});

test('an IPv4-mapped client matches IPv4 ranges', () => {
  expectSources(
    ['10.0.0.0/8'],
    [
      ['::ffff:10.1.2.3', true],
      ['::FFFF:10.1.2.3', true],
      ['::ffff:a01:203', true],
      ['0:0:0:0:0:ffff:10.9.9.9', true],
      ['::ffff:11.0.0.1', false],
    ],
  );
  expectSources(['::ffff:10.0.0.0/104'], [['10.4.5.6', true], ['11.4.5.6', false]]);
});

test('a client address that is not an IP never matches a range', () => {
  expectSources(['0.0.0.0/0', '::/0'], [
    ['', false],
    ['localhost', false],
    ['10.0.0.1:80', false],
  ]);
});

test('an entry that is not a CIDR is a config error', () => {
  for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0/8', '2001:db8::/129', 'abc', '10.0.0.0/8/8', '10.0.0.0/-1', '', '10.0.0.0/08', ' 10.0.0.0/8']) {
    assert.throws(() => compileSourceRanges([bad]), ConfigError, bad);
  }
});

test('canonicalClientIp unifies the spellings of one client', () => {
  const cases: [string, string][] = [
    ['10.0.0.1', '10.0.0.1'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['::ffff:0a00:0001', '10.0.0.1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::1', '::1'],
    ['::ffff:1:2:3', '::ffff:1:2:3'],
    ['not-an-ip', 'not-an-ip'],
  ];
  for (const [input, expected] of cases) assert.equal(canonicalClientIp(input), expected, input);
});

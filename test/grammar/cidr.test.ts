import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseCidr } from '../../src/grammar/cidr.ts';
import { canonicalClientIp } from '../../src/grammar/client-address.ts';

test('CIDRs: a bare address is one host, IPv6 compressed, IPv4-mapped ranges become IPv4', () => {
  const rows: [string, string | undefined][] = [
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['10.0.0.1', '10.0.0.1/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:DB8:0::/32', '2001:db8::/32'],
    ['fd00::1', 'fd00::1/128'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['::ffff:a00:1', '10.0.0.1/32'],
    ['::ffff:0:0/80', '::ffff:0:0/80'],
    ['10.0.0.0/33', undefined],
    ['10.0.0.0/08', undefined],
    ['10.0.0.0/', undefined],
    ['10.0.0.0/-1', undefined],
    ['10.0.0.0/8/8', undefined],
    ['10.0.0/8', undefined],
    ['2001:db8::/129', undefined],
    ['fe80::1%eth0', undefined],
    ['office', undefined],
    ['', undefined],
  ];
  for (const [text, expected] of rows) {
    const parsed = normaliseCidr(text);
    assert.equal(parsed.ok ? parsed.value : undefined, expected, text);
  }
});

test('the canonical client address unifies the spellings of one client', () => {
  const rows: [string, string][] = [
    ['10.0.0.1', '10.0.0.1'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['::ffff:0a00:0001', '10.0.0.1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::ffff:1:2:3', '::ffff:1:2:3'],
    ['not-an-ip', 'not-an-ip'],
  ];
  for (const [input, expected] of rows) assert.equal(canonicalClientIp(input), expected, input);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalClientIp, mappedIPv4 } from '../../src/grammar/client-address.ts';

test('canonicalClientIp: one spelling per client', () => {
  const cases: [string, string][] = [
    ['10.0.0.1', '10.0.0.1'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['::FFFF:0a00:0001', '10.0.0.1'],
    ['0:0:0:0:0:ffff:10.9.9.9', '10.9.9.9'],
    ['2001:DB8::1', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::ffff:1:2:3', '::ffff:1:2:3'],
    ['not-an-ip', 'not-an-ip'],
    ['', ''],
  ];
  for (const [input, expected] of cases) assert.equal(canonicalClientIp(input), expected, input);
  assert.equal(mappedIPv4('::1'), undefined);
});

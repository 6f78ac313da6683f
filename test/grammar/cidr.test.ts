import { test } from 'node:test';
import { normaliseCidr, parseCidr } from '../../src/grammar/cidr.ts';
import { REFUSED, expectTable } from './support.ts';

test('CIDRs: a bare address is one host; mapped IPv4 ranges become IPv4; IPv6 compressed', () => {
  expectTable(normaliseCidr, [
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['10.0.0.1', '10.0.0.1/32'],
    ['172.16.5.9/12', '172.16.5.9/12'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['fd00::1', 'fd00::1/128'],
    ['2001:DB8:0:0::/32', '2001:db8::/32'],
    ['::/0', '::/0'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['::ffff:a00:1', '10.0.0.1/32'],
    ['::ffff:0:0/96', '0.0.0.0/0'],
    ['::ffff:0:0/64', '::ffff:0:0/64'],
    ['10.0.0.0/33', REFUSED],
    ['fd00::/129', REFUSED],
    ['10.0.0.0/08', REFUSED],
    ['10.0.0.0/', REFUSED],
    ['10.0.0.0/-1', REFUSED],
    ['10.0.0.0/8/8', REFUSED],
    ['10.0.0/8', REFUSED],
    ['256.0.0.0/8', REFUSED],
    ['fe80::1%eth0', REFUSED],
    ['example.com/8', REFUSED],
    [' 10.0.0.0/8', REFUSED],
    ['', REFUSED],
  ]);
  expectTable(parseCidr, [['fd00::/8', { address: 'fd00::', prefix: 8, family: 'ipv6' }]]);
});

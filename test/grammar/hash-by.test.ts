import { test } from 'node:test';
import { normaliseHashBy, parseHashBy } from '../../src/grammar/hash-by.ts';
import { REFUSED, expectTable } from './support.ts';

test('hash-by: header (a token, lowercased), cookie (a token), query (no space, & = #), client-ip', () => {
  expectTable(normaliseHashBy, [
    ['client-ip', 'client-ip'],
    ['header:X-User-Id', 'header:x-user-id'],
    ["header:x!#$%&'*+.^_`|~1", "header:x!#$%&'*+.^_`|~1"],
    ['cookie:Session', 'cookie:Session'],
    ['query:room', 'query:room'],
    ['query:a.b[c]', 'query:a.b[c]'],
    ['header:X Bad', REFUSED],
    ['header:', REFUSED],
    ['header:a:b', REFUSED],
    ['header:a\nb', REFUSED],
    ['cookie:a=b', REFUSED],
    ['cookie:a;b', REFUSED],
    ['query:a=b', REFUSED],
    ['query:a&b', REFUSED],
    ['query:a#b', REFUSED],
    ['query:a b', REFUSED],
    ['query:', REFUSED],
    ['Header:x', REFUSED],
    ['client-ip ', REFUSED],
    ['ip', REFUSED],
    ['', REFUSED],
  ]);
  expectTable(parseHashBy, [['cookie:sid', { kind: 'cookie', name: 'sid' }], ['client-ip', { kind: 'client-ip' }]]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseHashBy } from '../../src/grammar/hash-by.ts';
import { isToken } from '../../src/grammar/token.ts';

test('hash-by: header and cookie names are tokens (headers lowercased), query names cannot split a query', () => {
  const rows: [string, string | undefined][] = [
    ['client-ip', 'client-ip'],
    ['header:X-User', 'header:x-user'],
    ['cookie:Session', 'cookie:Session'],
    ['query:room', 'query:room'],
    ['query:a+b', 'query:a+b'],
    ['header:X Bad', undefined],
    ['header:', undefined],
    ['cookie:a;b', undefined],
    ['query:a=b', undefined],
    ['query:a&b', undefined],
    ['query:a#b', undefined],
    ['query:a b', undefined],
    ['Header:x', undefined],
    ['client-ip ', undefined],
    ['ip', undefined],
  ];
  for (const [text, expected] of rows) {
    const parsed = normaliseHashBy(text);
    assert.equal(parsed.ok ? parsed.value : undefined, expected, text);
  }
});

test('RFC 9110 tokens', () => {
  for (const good of ['X-User', "!#$%&'*+.^_`|~09az"]) assert.equal(isToken(good), true, good);
  for (const bad of ['', 'a b', 'a;b', 'a:b', 'a"b', 'é']) assert.equal(isToken(bad), false, bad);
});

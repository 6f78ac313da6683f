import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isToken } from '../../src/grammar/token.ts';

test('RFC 9110 tokens', () => {
  for (const good of ['X-User', "!#$%&'*+.^_`|~", 'a0']) assert.equal(isToken(good), true, good);
  for (const bad of ['', 'a b', 'a:b', 'a=b', 'a;b', 'a,b', '"a"', 'a(b)', 'ä', 'a\tb']) assert.equal(isToken(bad), false, bad);
});

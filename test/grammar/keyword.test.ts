import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alternatives, parseBoolean, parseKeyword } from '../../src/grammar/keyword.ts';
import { REFUSED, expectTable } from './support.ts';

test('keywords are spelled exactly', () => {
  const words = ['least-conn', 'round-robin', 'hash'] as const;
  expectTable((text) => parseKeyword(text, words), [['hash', 'hash'], ['round-robin', 'round-robin'], ['Hash', REFUSED], ['', REFUSED], ['hash ', REFUSED]]);
  assert.deepEqual(parseKeyword('x', words), { ok: false, reason: 'least-conn, round-robin or hash' });
  assert.equal(alternatives(['a']), 'a');
  assert.equal(alternatives(['a', 'b']), 'a or b');
});

test('booleans are true or false', () => {
  expectTable(parseBoolean, [['true', true], ['false', false], ['True', REFUSED], ['yes', REFUSED], ['1', REFUSED], ['', REFUSED]]);
});

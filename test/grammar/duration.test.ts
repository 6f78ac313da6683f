import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, formatDuration, normaliseDuration } from '../../src/grammar/duration.ts';
import { REFUSED, expectTable } from './support.ts';

test('durations as operators write them', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('1m'), 60_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1.5s'), 1500);
});

test('anything else is not a duration', () => {
  for (const bad of ['', '5', 's', '5 s', '-5s', '5d', '5sec', '1m 30s', 'abc']) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
});

test('formatting round-trips', () => {
  for (const ms of [1, 500, 5000, 60_000, 3_600_000, 90_000]) assert.equal(parseDuration(formatDuration(ms)), ms);
});

test('normaliseDuration: one spelling per length; zero only where allowed', () => {
  expectTable((text) => normaliseDuration(text, { allowZero: false }), [
    ['1.5s', '1500ms'], ['60s', '1m'], ['1m30s', '90s'], ['0.5m', '30s'], ['0s', REFUSED], ['0ms', REFUSED], ['5', REFUSED], [' 5s', REFUSED],
  ]);
  expectTable((text) => normaliseDuration(text, { allowZero: true }), [['0s', '0ms'], ['0m0s', '0ms'], ['soon', REFUSED]]);
});

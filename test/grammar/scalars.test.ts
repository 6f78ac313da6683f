import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBoolean, parseByteSize, parseEnum, parsePositiveInteger } from '../../src/grammar/scalars.ts';
import { parseTimeout } from '../../src/grammar/duration.ts';
import type { Parsed } from '../../src/grammar/result.ts';

function expectRows<T>(parse: (text: string) => Parsed<T>, rows: [string, T | undefined][]): void {
  for (const [text, expected] of rows) {
    const parsed = parse(text);
    assert.equal(parsed.ok ? parsed.value : undefined, expected, text);
  }
}

test('positive integers', () => expectRows(parsePositiveInteger, [['1', 1], ['42', 42], ['0', undefined], ['01', undefined], ['1.5', undefined], ['-1', undefined], ['99999999999999999999', undefined]]));

test('byte sizes with Kubernetes binary suffixes', () => expectRows(parseByteSize, [['1024', 1024], ['64Ki', 65536], ['1Mi', 1048576], ['1Gi', 1073741824], ['10KiB', undefined], ['1k', undefined], ['0', undefined], ['1MB', undefined]]));

test('booleans', () => expectRows(parseBoolean, [['true', true], ['false', false], ['True', undefined], ['yes', undefined]]));

test('enums', () => expectRows((text) => parseEnum(text, ['least-conn', 'round-robin', 'hash'] as const), [['hash', 'hash'], ['HASH', undefined], ['', undefined]]));

test('timeouts: only drain-timeout may be zero', () => {
  expectRows((text) => parseTimeout(text, { allowZero: false }), [['1.5s', 1500], ['1m30s', 90_000], ['0s', undefined], ['5', undefined], ['1d', undefined]]);
  expectRows((text) => parseTimeout(text, { allowZero: true }), [['0s', 0], ['0ms', 0]]);
});

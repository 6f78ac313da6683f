import { test } from 'node:test';
import { parseByteSize, parsePositiveInteger } from '../../src/grammar/number.ts';
import { REFUSED, expectTable } from './support.ts';

test('positive integers', () => {
  expectTable(parsePositiveInteger, [
    ['1', 1], ['10000', 10000], ['9007199254740991', 9007199254740991],
    ['0', REFUSED], ['01', REFUSED], ['-1', REFUSED], ['+1', REFUSED], ['1.5', REFUSED], ['1e3', REFUSED], [' 1', REFUSED], ['', REFUSED],
    ['9007199254740992', REFUSED],
  ]);
});

test('byte sizes with Kubernetes binary suffixes', () => {
  expectTable(parseByteSize, [
    ['1', 1], ['64Ki', 65536], ['1Mi', 1048576], ['2Gi', 2 * 1024 ** 3],
    ['0', REFUSED], ['0Ki', REFUSED], ['1.5Ki', REFUSED], ['64KB', REFUSED], ['64ki', REFUSED], ['64K', REFUSED], ['1Ti', REFUSED], ['', REFUSED],
    ['9007199254740991Ki', REFUSED],
  ]);
});

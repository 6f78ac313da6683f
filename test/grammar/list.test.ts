import { test } from 'node:test';
import { parseCommaList } from '../../src/grammar/list.ts';
import { accept, reject } from '../../src/grammar/result.ts';
import { REFUSED, expectTable } from './support.ts';

test('comma lists: items trimmed, empty items dropped, the first bad item refuses the list', () => {
  const digits = (text: string) => parseCommaList(text, (entry) => (/^\d+$/.test(entry) ? accept(Number(entry)) : reject(`${entry} is not a number`)));
  expectTable(digits, [['1', [1]], ['1, 2,,3 ', [1, 2, 3]], ['', REFUSED], [' , ', REFUSED], ['1,x', REFUSED]]);
});

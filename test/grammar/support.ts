// Table helpers for the grammar tests: each row an input and the value it parses to, or REFUSED.
import assert from 'node:assert/strict';
import type { Parsed } from '../../src/grammar/result.ts';

export const REFUSED = Symbol('refused');

export function expectTable<T>(parse: (text: string) => Parsed<T>, rows: ReadonlyArray<readonly [string, T | typeof REFUSED]>): void {
  for (const [input, expected] of rows) {
    const parsed = parse(input);
    if (expected === REFUSED) {
      assert.equal(parsed.ok, false, `${JSON.stringify(input)} is refused`);
      if (!parsed.ok) assert.ok(parsed.reason.length > 0, `${JSON.stringify(input)} says why`);
    } else {
      assert.deepEqual(parsed, { ok: true, value: expected }, JSON.stringify(input));
    }
  }
}

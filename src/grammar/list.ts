// Comma lists as annotations write them (`a, b`): each item trimmed, empty items dropped.
import { accept, reject, type Parsed } from './result.ts';

export function parseCommaList<T>(text: string, item: (entry: string) => Parsed<T>): Parsed<T[]> {
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (entries.length === 0) return reject('the list is empty');
  const values: T[] = [];
  for (const entry of entries) {
    const parsed = item(entry);
    if (!parsed.ok) return parsed;
    values.push(parsed.value);
  }
  return accept(values);
}

// Values chosen from a fixed list, spelled exactly (no case folding: `LEAST-CONN` is a typo the
// operator should hear about, not a guess to make).
import { accept, reject, type Parsed } from './result.ts';

/** Words as an operator reads them: `a, b or c`. */
export function alternatives(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

export function parseKeyword<W extends string>(text: string, words: readonly W[]): Parsed<W> {
  return (words as readonly string[]).includes(text) ? accept(text as W) : reject(alternatives(words));
}

export function parseBoolean(text: string): Parsed<boolean> {
  const word = parseKeyword(text, ['true', 'false'] as const);
  return word.ok ? accept(word.value === 'true') : word;
}

// The small grammars of annotation values: whole numbers, byte sizes, booleans and enumerations.
// A snapshot carries these as JSON numbers, booleans and enum strings, which its schema checks.
import { parsed, refused, type Parsed } from './result.ts';

export const POSITIVE_INTEGER_ACCEPTS = 'a whole number greater than zero';

export function parsePositiveInteger(text: string): Parsed<number> {
  if (!/^[1-9]\d*$/.test(text)) return refused(`it is not ${POSITIVE_INTEGER_ACCEPTS}`);
  const value = Number(text);
  return Number.isSafeInteger(value) ? parsed(value) : refused('it is too large');
}

const BINARY_UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** Bytes, plain or with a Kubernetes binary suffix (`64Ki`, `1Mi`; not `KiB`, not `k`). */
export function parseByteSize(text: string): Parsed<number> {
  const match = /^([1-9]\d*)(Ki|Mi|Gi)?$/.exec(text);
  if (match === null) return refused('it is not a number of bytes greater than zero, optionally with Ki, Mi or Gi');
  const value = Number(match[1]) * BINARY_UNITS[match[2] ?? '']!;
  return Number.isSafeInteger(value) ? parsed(value) : refused('it is too large');
}

export function parseBoolean(text: string): Parsed<boolean> {
  if (text === 'true') return parsed(true);
  if (text === 'false') return parsed(false);
  return refused('it is not true or false');
}

export function parseEnum<T extends string>(text: string, values: readonly T[]): Parsed<T> {
  return (values as readonly string[]).includes(text) ? parsed(text as T) : refused(`it is not one of ${values.join(', ')}`);
}

// Counts and sizes (SPEC §6 max-connections, max-message-size): whole numbers greater than zero,
// written in decimal without a sign or leading zeros.
import { accept, reject, type Parsed } from './result.ts';

export const POSITIVE_INTEGER_ACCEPTS = 'a whole number greater than zero';
export const BYTE_SIZE_ACCEPTS = 'a number of bytes greater than zero, optionally with Ki, Mi or Gi (64Ki)';

export function parsePositiveInteger(text: string): Parsed<number> {
  if (!/^[1-9]\d*$/.test(text)) return reject(POSITIVE_INTEGER_ACCEPTS);
  const value = Number(text);
  return Number.isSafeInteger(value) ? accept(value) : reject('it is too large');
}

const BINARY_UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** Bytes, plain or with a Kubernetes binary suffix (`64Ki`, `1Mi`). */
export function parseByteSize(text: string): Parsed<number> {
  const match = /^([1-9]\d*)(Ki|Mi|Gi)?$/.exec(text);
  if (match === null) return reject(BYTE_SIZE_ACCEPTS);
  const value = Number(match[1]) * BINARY_UNITS[match[2] ?? '']!;
  return Number.isSafeInteger(value) ? accept(value) : reject('it is too large');
}

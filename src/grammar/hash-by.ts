// The key of consistent hashing (SPEC §6 hash-by). Header names are RFC 9110 tokens and
// case-insensitive (RFC 9110 §5.1), so they are lowercased to keep one spelling in the snapshot;
// cookie names are tokens and case-sensitive (RFC 6265 §4.1.1, §5.4); a query parameter name is
// anything a query can carry as a name unencoded: no space, `&`, `=` or `#`.
import { accept, reject, type Parsed } from './result.ts';
import { isToken } from './token.ts';

export const HASH_BY_ACCEPTS = 'header:NAME, cookie:NAME, query:NAME or client-ip';

export type HashKey = { kind: 'client-ip' } | { kind: 'header' | 'cookie' | 'query'; name: string };

export function parseHashBy(text: string): Parsed<HashKey> {
  if (text === 'client-ip') return accept({ kind: 'client-ip' });
  const match = /^(header|cookie|query):(.*)$/s.exec(text);
  if (match === null) return reject(HASH_BY_ACCEPTS);
  const kind = match[1] as 'header' | 'cookie' | 'query';
  const name = match[2]!;
  if (name === '') return reject(`${kind}: needs a name`);
  if (kind === 'query') return /^[^\s&=#]+$/.test(name) ? accept({ kind, name }) : reject(`${JSON.stringify(name)} is not a query parameter name`);
  if (!isToken(name)) return reject(`${JSON.stringify(name)} is not a ${kind} name`);
  return accept({ kind, name: kind === 'header' ? name.toLowerCase() : name });
}

export function formatHashBy(key: HashKey): string {
  return key.kind === 'client-ip' ? 'client-ip' : `${key.kind}:${key.name}`;
}

/** The normalised text (`header:X-User` -> `header:x-user`). */
export function normaliseHashBy(text: string): Parsed<string> {
  const parsed = parseHashBy(text);
  return parsed.ok ? accept(formatHashBy(parsed.value)) : parsed;
}

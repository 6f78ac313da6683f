// The key of consistent hashing (SPEC §6 hash-by). Header names are tokens compared
// case-insensitively (RFC 9110 §5.1), so one lowercase spelling; cookie names are tokens compared
// as written (RFC 6265 §5.4); a query name is anything a query string can carry as a name
// (no whitespace, `&`, `=` or `#`, which would end or split it).
import { isToken } from './token.ts';
import { parsed, refused, type Parsed } from './result.ts';

export type HashBy = { kind: 'client-ip' } | { kind: 'header' | 'cookie' | 'query'; name: string };

export const HASH_BY_ACCEPTS = 'header:NAME, cookie:NAME, query:NAME or client-ip';

export function parseHashBy(text: string): Parsed<HashBy> {
  if (text === 'client-ip') return parsed({ kind: 'client-ip' });
  const match = /^(header|cookie|query):(.*)$/s.exec(text);
  if (match === null) return refused(`it is not ${HASH_BY_ACCEPTS}`);
  const kind = match[1] as 'header' | 'cookie' | 'query';
  const name = match[2]!;
  if (name === '') return refused(`${kind}: needs a name`);
  if (kind === 'query') return /^[^\s&=#]+$/.test(name) ? parsed({ kind, name }) : refused(`${JSON.stringify(name)} is not a query parameter name`);
  if (!isToken(name)) return refused(`${JSON.stringify(name)} is not a ${kind} name`);
  return parsed({ kind, name: kind === 'header' ? name.toLowerCase() : name });
}

export function formatHashBy(hashBy: HashBy): string {
  return hashBy.kind === 'client-ip' ? 'client-ip' : `${hashBy.kind}:${hashBy.name}`;
}

export function normaliseHashBy(text: string): Parsed<string> {
  const hashBy = parseHashBy(text);
  return hashBy.ok ? parsed(formatHashBy(hashBy.value)) : hashBy;
}

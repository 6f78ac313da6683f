// The annotation readings of the value grammars in grammar/: the same grammar a snapshot field is
// validated with and the data plane compiles, plus what only an annotation has (comma lists,
// `*` for any origin).
import { parseCidr, formatCidr } from '../grammar/cidr.ts';
import { parseCommaList } from '../grammar/list.ts';
import { normaliseOrigin } from '../grammar/origin.ts';
import { accept, type Parsed } from '../grammar/result.ts';

/** CIDRs or bare addresses, IPv4 or IPv6, in order. */
export function cidrList(text: string): Parsed<string[]> {
  return parseCommaList(text, (entry) => {
    const cidr = parseCidr(entry);
    return cidr.ok ? accept(formatCidr(cidr.value)) : cidr;
  });
}

/** Full origins, each once, sorted; `*` alone means any origin (undefined: no list). */
export function originList(text: string): Parsed<string[] | undefined> {
  if (text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '').join() === '*') return accept(undefined);
  const origins = parseCommaList(text, normaliseOrigin);
  return origins.ok ? accept([...new Set(origins.value)].sort()) : origins;
}

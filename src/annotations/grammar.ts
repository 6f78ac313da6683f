// Value grammars shared by the annotation parsers. Each returns the value in the snapshot's own
// form (normalised, so equal meanings give equal bytes) or a rejection with an optional detail.
import { formatDuration, parseDuration, parseTimeout } from '../grammar/duration.ts';
import { normaliseCidr } from '../grammar/cidr.ts';
import { normaliseOrigin } from '../grammar/origin.ts';
import { normaliseHashBy } from '../grammar/hash-by.ts';
import { parseBoolean, parseByteSize, parseEnum, parsePositiveInteger } from '../grammar/scalars.ts';
import type { Parsed as GrammarParsed } from '../grammar/result.ts';
import type { Balance } from '../config/snapshot.ts';
import { accept, reject, type Parsed } from './policy.ts';

// An annotation message names what is accepted already; a grammar's reason is added only where it
// says more than "not this grammar" (a zero duration, a number too large, the bad list entry).
function withDetail<T>(result: GrammarParsed<T>, detailed: boolean): Parsed<T> {
  if (result.ok) return accept(result.value);
  return detailed ? reject(result.reason) : reject();
}

export function duration(text: string, options: { allowZero: boolean }): Parsed<string> {
  const trimmed = text.trim();
  const ms = parseTimeout(trimmed, options);
  return ms.ok ? accept(formatDuration(ms.value)) : withDetail(ms, parseDuration(trimmed) !== undefined);
}

export function positiveInteger(text: string): Parsed<number> {
  const trimmed = text.trim();
  return withDetail(parsePositiveInteger(trimmed), /^[1-9]\d*$/.test(trimmed));
}

export function byteSize(text: string): Parsed<number> {
  const trimmed = text.trim();
  return withDetail(parseByteSize(trimmed), /^[1-9]\d*(Ki|Mi|Gi)?$/.test(trimmed));
}

export function boolean(text: string): Parsed<boolean> {
  return withDetail(parseBoolean(text.trim()), false);
}

function commaList(text: string): string[] {
  return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

/** CIDRs, IPv4 or IPv6; a bare address means that one address (grammar/cidr.ts). */
export function cidrList(text: string): Parsed<string[]> {
  const entries = commaList(text);
  if (entries.length === 0) return reject('the list is empty');
  const ranges: string[] = [];
  for (const entry of entries) {
    const cidr = normaliseCidr(entry);
    if (!cidr.ok) return reject(cidr.reason);
    ranges.push(cidr.value);
  }
  return accept(ranges);
}

/** Full origins (grammar/origin.ts); `*` alone means any origin (undefined). */
export function originList(text: string): Parsed<string[] | undefined> {
  const entries = commaList(text);
  if (entries.length === 0) return reject('the list is empty');
  if (entries.length === 1 && entries[0] === '*') return accept(undefined);
  const origins = new Set<string>();
  for (const entry of entries) {
    const origin = normaliseOrigin(entry);
    if (!origin.ok) return reject(origin.reason);
    origins.add(origin.value);
  }
  return accept([...origins].sort());
}

const BALANCES: readonly Balance[] = ['least-conn', 'round-robin', 'hash'];

export function balance(text: string): Parsed<Balance> {
  return withDetail(parseEnum(text.trim(), BALANCES), false);
}

export function hashBy(text: string): Parsed<string> {
  const trimmed = text.trim();
  return withDetail(normaliseHashBy(trimmed), /^(header|cookie|query):/.test(trimmed));
}

/** ingress-nginx timeouts: whole seconds. */
export function nginxSeconds(text: string): Parsed<string> {
  const seconds = positiveInteger(text);
  return seconds.ok ? accept(formatDuration(seconds.value * 1000)) : reject();
}

/** ingress-nginx `upstream-hash-by` variables wsgate can honour. */
export function nginxHashBy(text: string): Parsed<string> {
  const trimmed = text.trim();
  if (trimmed === '$remote_addr') return accept('client-ip');
  const match = /^\$(http|cookie|arg)_([A-Za-z0-9_-]+)$/.exec(trimmed);
  if (match === null) return reject();
  const [, variable, name = ''] = match;
  // nginx spells the header X-User-Id as $http_x_user_id.
  if (variable === 'http') return accept(`header:${name.toLowerCase().replaceAll('_', '-')}`);
  return accept(variable === 'cookie' ? `cookie:${name}` : `query:${name}`);
}

export function nginxBalance(text: string): Parsed<Balance> {
  const trimmed = text.trim();
  if (trimmed === 'round_robin') return accept('round-robin');
  // EWMA picks the least loaded endpoint by latency; least-conn is wsgate's nearest equivalent.
  if (trimmed === 'ewma') return accept('least-conn');
  return reject();
}

export function nginxBackendProtocol(text: string): Parsed<boolean> {
  const upper = text.trim().toUpperCase();
  if (upper === 'HTTPS') return accept(true);
  if (upper === 'HTTP') return accept(false);
  return reject();
}

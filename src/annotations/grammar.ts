// Value grammars shared by the annotation parsers. Each returns the value in the snapshot's own
// form (normalised, so equal meanings give equal bytes) or a rejection with an optional detail.
import { isIP } from 'node:net';
import { formatDuration, parseDuration } from '../grammar/duration.ts';
import type { Balance } from '../config/snapshot.ts';
import { accept, reject, type Parsed } from './policy.ts';

export function duration(text: string, options: { allowZero: boolean }): Parsed<string> {
  const ms = parseDuration(text.trim());
  if (ms === undefined) return reject();
  if (ms === 0 && !options.allowZero) return reject('it must be greater than zero');
  return accept(formatDuration(ms));
}

export function positiveInteger(text: string): Parsed<number> {
  const trimmed = text.trim();
  if (!/^[1-9]\d*$/.test(trimmed)) return reject();
  const value = Number(trimmed);
  return Number.isSafeInteger(value) ? accept(value) : reject('it is too large');
}

const BINARY_UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** Bytes, plain or with a Kubernetes binary suffix (`64Ki`, `1Mi`). */
export function byteSize(text: string): Parsed<number> {
  const match = /^([1-9]\d*)(Ki|Mi|Gi)?$/.exec(text.trim());
  if (match === null) return reject();
  const value = Number(match[1]) * BINARY_UNITS[match[2] ?? '']!;
  return Number.isSafeInteger(value) ? accept(value) : reject('it is too large');
}

export function boolean(text: string): Parsed<boolean> {
  const trimmed = text.trim();
  if (trimmed === 'true') return accept(true);
  if (trimmed === 'false') return accept(false);
  return reject();
}

function commaList(text: string): string[] {
  return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

/** CIDRs, IPv4 or IPv6; a bare address means that one address (as ingress-nginx allows). */
export function cidrList(text: string): Parsed<string[]> {
  const entries = commaList(text);
  if (entries.length === 0) return reject('the list is empty');
  const ranges: string[] = [];
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined) return reject(`${JSON.stringify(entry)} is not a CIDR`);
    if (prefix === undefined) {
      ranges.push(`${address}/${bits}`);
      continue;
    }
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) {
      return reject(`${JSON.stringify(entry)} has a prefix length outside 0-${bits}`);
    }
    ranges.push(`${address}/${Number(prefix)}`);
  }
  return accept(ranges);
}

const HOST_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/**
 * Full origins as browsers send them (RFC 6454 serialisation): `scheme://host[:port]`, scheme
 * http or https, a leading `*.` label as the only wildcard. `*` alone means any origin (undefined).
 */
export function originList(text: string): Parsed<string[] | undefined> {
  const entries = commaList(text);
  if (entries.length === 0) return reject('the list is empty');
  if (entries.length === 1 && entries[0] === '*') return accept(undefined);
  const origins = new Set<string>();
  for (const entry of entries) {
    const origin = normaliseOrigin(entry);
    if (origin === undefined) return reject(`${JSON.stringify(entry)} is not an origin`);
    origins.add(origin);
  }
  return accept([...origins].sort());
}

function normaliseOrigin(entry: string): string | undefined {
  const match = /^(https?):\/\/([^/:?#@]+)(?::(\d{1,5}))?\/?$/i.exec(entry);
  if (match === null) return undefined;
  const scheme = match[1]!.toLowerCase();
  const host = match[2]!.toLowerCase();
  const labels = host.split('.');
  const named = labels[0] === '*' ? labels.slice(1) : labels;
  if (named.length === 0 || !named.every((label) => HOST_LABEL.test(label))) return undefined;
  const port = match[3] === undefined ? undefined : Number(match[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const defaultPort = scheme === 'https' ? 443 : 80;
  return port === undefined || port === defaultPort ? `${scheme}://${host}` : `${scheme}://${host}:${port}`;
}

export function balance(text: string): Parsed<Balance> {
  const trimmed = text.trim();
  return trimmed === 'least-conn' || trimmed === 'round-robin' || trimmed === 'hash' ? accept(trimmed) : reject();
}

/** RFC 9110 token characters: what a header or cookie name may contain. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function hashBy(text: string): Parsed<string> {
  const trimmed = text.trim();
  if (trimmed === 'client-ip') return accept(trimmed);
  const match = /^(header|cookie|query):(.*)$/.exec(trimmed);
  if (match === null) return reject();
  const [, kind, name = ''] = match;
  if (name === '') return reject(`${kind}: needs a name`);
  if (kind === 'query') return /^[^\s&=#]+$/.test(name) ? accept(trimmed) : reject(`${JSON.stringify(name)} is not a query parameter name`);
  if (!TOKEN.test(name)) return reject(`${JSON.stringify(name)} is not a ${kind} name`);
  // Header names are case-insensitive (RFC 9110 §5.1): one spelling keeps the snapshot canonical.
  return accept(kind === 'header' ? `header:${name.toLowerCase()}` : trimmed);
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

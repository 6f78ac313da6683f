// Host names (SPEC §5): route and certificate hosts are RFC 1123 names (labels of at most 63
// characters, 253 in all) or one leading `*.` label, compared case-insensitively (RFC 4343), so
// they are normalised to lowercase. A `*.example.com` wildcard stands for exactly one label.
import { parsed, refused, type Parsed } from './result.ts';

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const HOST_ACCEPTS = 'a DNS name (labels of letters, digits and -, at most 63 characters, 253 in all) or a one-label wildcard (*.example.com)';

/** A host name, optionally `*.`-wildcarded, lowercased. */
export function parseHostName(text: string, options: { wildcard: boolean } = { wildcard: true }): Parsed<string> {
  const lower = text.toLowerCase();
  const name = options.wildcard && lower.startsWith('*.') ? lower.slice(2) : lower;
  const ok = name.length > 0 && name.length <= 253 && name.split('.').every((label) => label.length <= 63 && DNS_LABEL.test(label));
  return ok ? parsed(lower) : refused(`${JSON.stringify(text)} is not ${HOST_ACCEPTS}`);
}

/** A route host: a host name, a one-label wildcard, or '' for any host. */
export function parseRouteHost(text: string): Parsed<string> {
  return text === '' ? parsed('') : parseHostName(text, { wildcard: true });
}

/**
 * The host a request names (Host header, SNI name), as routes and certificates are keyed:
 * lowercase, no port, no trailing dot. An IPv6 literal keeps its brackets (`[::1]:80` -> `[::1]`).
 */
export function normaliseRequestHost(hostHeader: string): string {
  let host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    return close === -1 ? host : host.slice(0, close + 1);
  }
  const colon = host.indexOf(':');
  // More than one colon is an unbracketed IPv6 literal (not a valid Host): leave it whole.
  if (colon !== -1 && host.indexOf(':', colon + 1) === -1) host = host.slice(0, colon);
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/**
 * Exact name first, then the one-label wildcard (RFC 6125 §6.4.3): `a.example.com` finds the entry
 * of `*.example.com`, which `wildcards` keeps under `example.com`; `example.com` itself never does.
 * `pick` turns an entry into the answer; undefined falls through to the wildcard (a router whose
 * exact host has no matching path). `host` must already be normalised.
 */
export function lookupHost<T, R>(host: string, exact: ReadonlyMap<string, T>, wildcards: ReadonlyMap<string, T>, pick: (entry: T) => R | undefined): R | undefined {
  const hit = exact.get(host);
  const answer = hit === undefined ? undefined : pick(hit);
  if (answer !== undefined || wildcards.size === 0) return answer;
  const dot = host.indexOf('.');
  const wildcard = dot > 0 ? wildcards.get(host.slice(dot + 1)) : undefined;
  return wildcard === undefined ? undefined : pick(wildcard);
}

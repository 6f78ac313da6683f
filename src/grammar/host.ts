// Host names, in the two places they occur. A route host (Ingress rule, snapshot route,
// certificate host) is a value an operator writes; a request's Host header (or SNI name) is what
// a client sends and is only normalised, never refused, since an unknown name simply matches no
// route.
import { accept, reject, type Parsed } from './result.ts';

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

export const ROUTE_HOST_ACCEPTS = 'a lowercase DNS name, a one-label wildcard (*.example.com) or "" (any host)';

/**
 * A lowercase DNS name: RFC 1123 labels of at most 63 characters, at most 253 in all.
 * Upper case is refused rather than folded: the Kubernetes API server admits only lowercase
 * Ingress hosts (DNS-1123 subdomain) and the snapshot schema says the same, so folding here
 * would make the three readers disagree on a value no cluster can hold.
 */
export function isDnsName(text: string): boolean {
  if (text.length === 0 || text.length > 253) return false;
  return text.split('.').every((label) => label.length <= 63 && DNS_LABEL.test(label));
}

/** A DNS name, or one behind a single leading `*.` label (the Ingress API's only wildcard). */
export function isWildcardOrDnsName(text: string): boolean {
  return isDnsName(text.startsWith('*.') ? text.slice(2) : text);
}

/** A route host: exact name, `*.` one-label wildcard, or '' for any host. */
export function parseRouteHost(text: string): Parsed<string> {
  return text === '' || isWildcardOrDnsName(text) ? accept(text) : reject(ROUTE_HOST_ACCEPTS);
}

/**
 * The host a request names, as routes are keyed: lowercase, no port, no trailing dot (RFC 4343:
 * names compare case-insensitively; a trailing dot names the same host). An IPv6 literal keeps
 * its brackets (`[::1]:80` -> `[::1]`).
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

/** Where a table keyed by route host stores a host: wildcards under the domain they leave fixed. */
export type HostKey = { kind: 'exact'; name: string } | { kind: 'wildcard'; domain: string };

export function hostKey(routeHost: string): HostKey {
  return routeHost.startsWith('*.') ? { kind: 'wildcard', domain: routeHost.slice(2) } : { kind: 'exact', name: routeHost };
}

/**
 * The first answer, for a normalised name, of its exact entry, else of the one-label wildcard
 * covering it: `*.example.com` (stored under `example.com`) covers `a.example.com`, never
 * `example.com` nor `a.b.example.com` (RFC 6125 §6.4.3 for certificates; the Ingress API for
 * hosts). `answer` lets a level with no answer fall through to the next (the router's paths).
 */
export function lookupHost<T, R>(
  exact: ReadonlyMap<string, T>,
  wildcard: ReadonlyMap<string, T>,
  name: string,
  answer: (entry: T) => R | undefined,
): R | undefined {
  const entry = exact.get(name);
  const hit = entry === undefined ? undefined : answer(entry);
  if (hit !== undefined || wildcard.size === 0) return hit;
  const dot = name.indexOf('.');
  const covering = dot > 0 ? wildcard.get(name.slice(dot + 1)) : undefined;
  return covering === undefined ? undefined : answer(covering);
}

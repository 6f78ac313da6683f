// Total orders for everything translate() emits, so the same objects in any order give the same
// bytes. Plain code-unit comparison: localeCompare would depend on the machine's locale.
import { isIP } from 'node:net';
import type { V1Ingress } from '@kubernetes/client-node';
import type { Endpoint } from '../config/snapshot.ts';
import { compareStrings, joinNamespacedName } from '../common/names.ts';

export { compareStrings };

/** Milliseconds since the epoch; the informers give Dates, YAML read without them gives strings. */
export function createdAt(ingress: V1Ingress): number {
  const stamp: unknown = ingress.metadata?.creationTimestamp;
  const ms = stamp instanceof Date ? stamp.getTime() : typeof stamp === 'string' ? Date.parse(stamp) : Number.NaN;
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

export function namespacedName(ingress: { metadata?: { namespace?: string; name?: string } }): string {
  return joinNamespacedName(ingress.metadata?.namespace, ingress.metadata?.name);
}

/** Older first (creationTimestamp), then namespace/name: who wins a conflict (SPEC §5). */
export function compareIngressAge(a: V1Ingress, b: V1Ingress): number {
  const byAge = createdAt(a) - createdAt(b);
  if (byAge !== 0 && !Number.isNaN(byAge)) return byAge;
  return compareStrings(namespacedName(a), namespacedName(b));
}

/**
 * Endpoints in a stable order: IPv4 numerically, then IPv6 (and names) as text, then port. Keys are
 * computed once per endpoint, not per comparison: pools of hundreds of endpoints are common.
 */
export function sortEndpoints(endpoints: Endpoint[]): Endpoint[] {
  const keyed = endpoints.map((endpoint) => ({ endpoint, key: `${addressKey(endpoint.address)}|${String(endpoint.port).padStart(5, '0')}` }));
  keyed.sort((a, b) => compareStrings(a.key, b.key));
  return keyed.map((entry) => entry.endpoint);
}

function addressKey(address: string): string {
  if (isIP(address) !== 4) return `6${address}`;
  return `4${address.split('.').map((octet) => octet.padStart(3, '0')).join('.')}`;
}

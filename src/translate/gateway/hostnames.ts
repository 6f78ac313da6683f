// Gateway API hostnames (HTTPRoute spec "hostnames", Listener "hostname"): a `*.` prefix is a
// suffix match of any depth (`*.example.com` covers `a.example.com` and `a.b.example.com`, never
// `example.com`); absent means any host. A route's hostnames are intersected with its listener's.
import { parseRouteHost } from '../../grammar/host.ts';

/** A hostname as routes key it (lowercase); undefined when outside the grammar. */
export function normaliseGatewayHost(host: string): string | undefined {
  const lower = host.toLowerCase();
  const parsed = parseRouteHost(lower);
  return parsed.ok && lower !== '' ? parsed.value : undefined;
}

/** Whether wildcard `*.suffix` covers `name` (exact or wildcard) at any depth. */
function covers(wildcard: string, name: string): boolean {
  const suffix = wildcard.slice(1); // `.example.com`
  const bare = name.startsWith('*.') ? name.slice(1) : `.${name}`;
  return bare.endsWith(suffix) && bare.length > suffix.length;
}

/**
 * The hosts a route serves on a listener: '' (any host) when neither names one; the more
 * specific of each overlapping pair otherwise (Gateway API: "the most specific match wins").
 */
export function intersectHostnames(listener: string | undefined, route: readonly string[]): string[] {
  if (route.length === 0) return [listener ?? ''];
  if (listener === undefined) return [...new Set(route)];
  const out = new Set<string>();
  for (const host of route) {
    if (host === listener) out.add(host);
    else if (listener.startsWith('*.') && covers(listener, host)) out.add(host);
    else if (host.startsWith('*.') && covers(host, listener)) out.add(listener);
  }
  return [...out];
}

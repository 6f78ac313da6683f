// An Ingress's rules and default backend as the routes it claims (SPEC §5; Ingress API path
// semantics): ImplementationSpecific means Prefix here, and a Prefix path's trailing slash does not
// change what it matches (`/foo/` matches exactly what `/foo` does), so both are written once.
import type { V1Ingress, V1IngressBackend } from '@kubernetes/client-node';
import { parseRouteHost } from '../grammar/host.ts';

export type RouteType = 'Exact' | 'Prefix';

export interface RouteClaim {
  host: string;
  path: string;
  pathType: RouteType;
  backend: V1IngressBackend;
}

/** The route host of a rule (grammar/host.ts: what the API server admits), '' for none; undefined if not one. */
export function normaliseHost(host: string | undefined): string | undefined {
  if (host === undefined) return '';
  const parsed = parseRouteHost(host);
  return parsed.ok ? parsed.value : undefined;
}

function normalisePath(path: string | undefined, pathType: RouteType): string | undefined {
  const written = path === undefined || path === '' ? '/' : path;
  if (!written.startsWith('/')) return undefined;
  if (pathType === 'Exact') return written;
  const trimmed = written.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

export function routeType(pathType: string | undefined): RouteType {
  return pathType === 'Exact' ? 'Exact' : 'Prefix';
}

export function routeKey(claim: Pick<RouteClaim, 'host' | 'path' | 'pathType'>): string {
  return `${claim.host}\u0000${claim.path}\u0000${claim.pathType}`;
}

export function routeLabel(claim: Pick<RouteClaim, 'host' | 'path' | 'pathType'>): string {
  return `${claim.host === '' ? '(any host)' : claim.host}${claim.path} (${claim.pathType})`;
}

/**
 * The routes in spec order, each key once: a later duplicate inside one Ingress is dropped, and
 * spec.defaultBackend (host '', `/`, Prefix) only where no rule of the Ingress already claims that.
 * Hosts or paths the API server would not admit are left out.
 */
export function routeClaims(ingress: V1Ingress): RouteClaim[] {
  const claims: RouteClaim[] = [];
  const seen = new Set<string>();
  const add = (claim: RouteClaim): void => {
    const key = routeKey(claim);
    if (seen.has(key)) return;
    seen.add(key);
    claims.push(claim);
  };
  for (const rule of ingress.spec?.rules ?? []) {
    const host = normaliseHost(rule.host);
    if (host === undefined) continue;
    for (const httpPath of rule.http?.paths ?? []) {
      const pathType = routeType(httpPath.pathType);
      const path = normalisePath(httpPath.path, pathType);
      if (path === undefined || httpPath.backend === undefined) continue;
      add({ host, path, pathType, backend: httpPath.backend });
    }
  }
  const defaultBackend = ingress.spec?.defaultBackend;
  if (defaultBackend !== undefined) add({ host: '', path: '/', pathType: 'Prefix', backend: defaultBackend });
  return claims;
}

/** The hosts of an Ingress's rules (for a spec.tls entry that lists none). */
export function ruleHosts(ingress: V1Ingress): string[] {
  const hosts = new Set<string>();
  for (const rule of ingress.spec?.rules ?? []) {
    const host = normaliseHost(rule.host);
    if (host !== undefined && host !== '') hosts.add(host);
  }
  return [...hosts];
}

// Host + path routing of SPEC §5, compiled once per snapshot. A request costs a few map lookups:
// one per host level (exact, one-label wildcard, any host) and, within a host, one for Exact
// paths plus one per path element for Prefix paths, longest first.
import { ConfigError } from '../../common/errors.ts';
import type { PathType } from '../../config/snapshot.ts';
import { hostKey, lookupHost, parseRouteHost } from '../../grammar/host.ts';

// The request side's one normalisation (grammar/host.ts), under the name its callers know.
export { normaliseRequestHost as normalizeHost } from '../../grammar/host.ts';

export interface RoutableEntry {
  /** Exact host, `*.example.com` (one label) or `''` for any host. */
  host: string;
  path: string;
  pathType: PathType;
}

export interface Router<T> {
  /**
   * `host` already normalised by normalizeHost (the caller does it once per request, for the
   * access log and routing alike); `path` may carry a query.
   */
  match(host: string, path: string): T | undefined;
}

/**
 * Builds the routing table. When two entries claim the same host, path and match kind, the
 * first one listed wins (translate orders routes so the older Ingress comes first, SPEC §5).
 * Throws ConfigError on a host outside the route host grammar (validateSnapshot refuses it first).
 */
export function compileRouter<T extends RoutableEntry>(entries: readonly T[]): Router<T> {
  const exactHosts = new Map<string, PathTable<T>>();
  /** Keyed by the domain under the wildcard label: `*.example.com` -> `example.com`. */
  const wildcardHosts = new Map<string, PathTable<T>>();
  const anyHost = new PathTable<T>();
  for (const entry of entries) {
    const host = parseRouteHost(entry.host);
    if (!host.ok) throw ConfigError.of(`route host ${JSON.stringify(entry.host)} is not ${host.reason}`);
    const key = hostKey(host.value);
    let table: PathTable<T>;
    if (host.value === '') table = anyHost;
    else if (key.kind === 'wildcard') table = tableFor(wildcardHosts, key.domain);
    else table = tableFor(exactHosts, key.name);
    table.add(entry);
  }

  return {
    match(host, target) {
      const path = pathOf(target);
      // Each level falls through to the next when none of its paths match, so a defaultBackend
      // (any host, Prefix `/`) catches whatever the specific rules leave.
      return lookupHost(exactHosts, wildcardHosts, host, (table) => table.match(path)) ?? anyHost.match(path);
    },
  };
}

function tableFor<T extends RoutableEntry>(tables: Map<string, PathTable<T>>, key: string): PathTable<T> {
  let table = tables.get(key);
  if (table === undefined) {
    table = new PathTable<T>();
    tables.set(key, table);
  }
  return table;
}

/** The path of a request target: no query, no fragment. */
function pathOf(target: string): string {
  let end = target.length;
  const question = target.indexOf('?');
  if (question !== -1) end = question;
  const hash = target.indexOf('#');
  if (hash !== -1 && hash < end) end = hash;
  return end === target.length ? target : target.slice(0, end);
}

function withoutTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end -= 1;
  return end === path.length ? path : path.slice(0, end);
}

/** The paths of one host: Exact beats Prefix, and the longest matching Prefix wins. */
class PathTable<T extends RoutableEntry> {
  readonly #exact = new Map<string, T>();
  /**
   * Prefix paths without trailing slashes (`/` becomes `''`): the Ingress API matches element by
   * element, so `/foo` and `/foo/` are the same rule and cover `/foo`, `/foo/` and `/foo/bar`.
   */
  readonly #prefix = new Map<string, T>();

  add(entry: T): void {
    if (entry.pathType === 'Exact') {
      if (!this.#exact.has(entry.path)) this.#exact.set(entry.path, entry);
      return;
    }
    // ImplementationSpecific is served as Prefix (SPEC §5).
    const key = withoutTrailingSlashes(entry.path);
    if (!this.#prefix.has(key)) this.#prefix.set(key, entry);
  }

  match(path: string): T | undefined {
    const exact = this.#exact.get(path);
    if (exact !== undefined) return exact;
    if (this.#prefix.size === 0) return undefined;
    // Try the request path, then each shorter run of whole elements: `/a/b/c`, `/a/b`, `/a`, ''.
    // Cutting only at a slash is what keeps `/foo` from matching `/foobar`.
    let candidate = withoutTrailingSlashes(path);
    while (true) {
      const hit = this.#prefix.get(candidate);
      if (hit !== undefined) return hit;
      if (candidate === '') return undefined;
      const slash = candidate.lastIndexOf('/');
      candidate = slash === -1 ? '' : withoutTrailingSlashes(candidate.slice(0, slash));
    }
  }
}

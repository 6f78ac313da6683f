// Host + path routing of SPEC §5, compiled once per snapshot. A request costs a few map lookups:
// one per host level (exact, one-label wildcard, any host) and, within a host, one for Exact
// paths plus one per path element for Prefix paths, longest first.
import type { IncomingHttpHeaders } from 'node:http';
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
  /** Gateway API: the wildcard covers names of any depth below it. */
  wildcardDepth?: 'any';
  /**
   * Gateway API matches (headers, query, listener): entries of one host and path are tried with
   * the most conditions first (HTTPRoute precedence), and one that does not accept falls through.
   */
  accepts?(request: RouteRequest): boolean;
  conditionCount?: number;
}

/** What conditional entries look at; absent in match(): every entry accepts. */
export interface RouteRequest {
  headers: IncomingHttpHeaders;
  /** The request target, query included. */
  target: string;
  proto: 'http' | 'https';
}

export interface Router<T> {
  /**
   * `host` already normalised by normalizeHost (the caller does it once per request, for the
   * access log and routing alike); `path` may carry a query.
   */
  match(host: string, path: string, request?: RouteRequest): T | undefined;
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
  /** Gateway API wildcards (any depth), keyed like wildcardHosts. */
  const suffixHosts = new Map<string, PathTable<T>>();
  for (const entry of entries) {
    const host = parseRouteHost(entry.host);
    if (!host.ok) throw ConfigError.of(`route host ${JSON.stringify(entry.host)} is not ${host.reason}`);
    const key = hostKey(host.value);
    let table: PathTable<T>;
    if (host.value === '') table = anyHost;
    else if (key.kind === 'wildcard' && entry.wildcardDepth === 'any') table = tableFor(suffixHosts, key.domain);
    else if (key.kind === 'wildcard') table = tableFor(wildcardHosts, key.domain);
    else table = tableFor(exactHosts, key.name);
    table.add(entry);
  }

  for (const table of [...exactHosts.values(), ...wildcardHosts.values(), ...suffixHosts.values(), anyHost]) table.order();
  return {
    match(host, target, request) {
      const path = pathOf(target);
      // Each level falls through to the next when none of its paths match, so a defaultBackend
      // (any host, Prefix `/`) catches whatever the specific rules leave.
      return (
        lookupHost(exactHosts, wildcardHosts, host, (table) => table.match(path, request)) ??
        (suffixHosts.size === 0 ? undefined : matchSuffix(suffixHosts, host, path, request)) ??
        anyHost.match(path, request)
      );
    },
  };
}

/** Gateway API wildcards: the longest suffix first (`*.b.example.com` before `*.example.com`). */
function matchSuffix<T extends RoutableEntry>(tables: ReadonlyMap<string, PathTable<T>>, host: string, path: string, request: RouteRequest | undefined): T | undefined {
  let dot = host.indexOf('.');
  while (dot !== -1) {
    const hit = tables.get(host.slice(dot + 1))?.match(path, request);
    if (hit !== undefined) return hit;
    dot = host.indexOf('.', dot + 1);
  }
  return undefined;
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
  readonly #exact = new Map<string, T[]>();
  /**
   * Prefix paths without trailing slashes (`/` becomes `''`): the Ingress API matches element by
   * element, so `/foo` and `/foo/` are the same rule and cover `/foo`, `/foo/` and `/foo/bar`.
   */
  readonly #prefix = new Map<string, T[]>();

  add(entry: T): void {
    // ImplementationSpecific is served as Prefix (SPEC §5).
    const [table, key] = entry.pathType === 'Exact' ? [this.#exact, entry.path] : [this.#prefix, withoutTrailingSlashes(entry.path)];
    const list = table.get(key);
    if (list === undefined) table.set(key, [entry]);
    // Without conditions the first listed wins and a second is never reached (SPEC §5 conflicts).
    else if (entry.accepts !== undefined || list.every((e) => e.accepts !== undefined)) list.push(entry);
  }

  /** HTTPRoute precedence within one host and path: most header, then query, matches first; stable. */
  order(): void {
    for (const table of [this.#exact, this.#prefix]) {
      for (const list of table.values()) if (list.length > 1) list.sort((a, b) => (b.conditionCount ?? 0) - (a.conditionCount ?? 0));
    }
  }

  match(path: string, request?: RouteRequest): T | undefined {
    const exactList = this.#exact.get(path);
    const exact = exactList === undefined ? undefined : accepted(exactList, request);
    if (exact !== undefined) return exact;
    if (this.#prefix.size === 0) return undefined;
    // Try the request path, then each shorter run of whole elements: `/a/b/c`, `/a/b`, `/a`, ''.
    // Cutting only at a slash is what keeps `/foo` from matching `/foobar`.
    let candidate = withoutTrailingSlashes(path);
    while (true) {
      const list = this.#prefix.get(candidate);
      const hit = list === undefined ? undefined : accepted(list, request);
      if (hit !== undefined) return hit;
      if (candidate === '') return undefined;
      const slash = candidate.lastIndexOf('/');
      candidate = slash === -1 ? '' : withoutTrailingSlashes(candidate.slice(0, slash));
    }
  }
}

/** The first entry whose conditions hold; a plain entry (the common case) at once. */
function accepted<T extends RoutableEntry>(list: readonly T[], request: RouteRequest | undefined): T | undefined {
  for (let i = 0; i < list.length; i += 1) {
    const entry = list[i]!;
    if (entry.accepts === undefined || request === undefined || entry.accepts(request)) return entry;
  }
  return undefined;
}

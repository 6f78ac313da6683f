// acceptSnapshot for a source that offers one snapshot after another (the snapshot file, the
// controller's rebuild loop): what did not change since the last accepted snapshot is not
// validated or canonicalised again. A pool, route or certificate is "unchanged" when its JSON text
// equals that of one in the last accepted snapshot (JSON.stringify is native and cheap; the
// validation and canonical text it stands for are not). Only the changed ones, with the pools
// they name, are validated, plus the three rules that span the whole document (pool names unique,
// a route's pool exists, one route per host + path + pathType); whenever anything is wrong, the
// whole document is validated again, so the issues reported are exactly acceptSnapshot's.
import type { Accepted } from './accept.ts';
import { canonicalHashReusing, canonicalJson, textHash } from './canonical.ts';
import type { Snapshot } from './snapshot.ts';
import { validateSnapshotIssues } from './validate.ts';

type Fields = Record<string, unknown>;

/** The JSON text of each pool of an accepted snapshot, so the data plane's compile reuses it. */
const POOL_TEXT = new WeakMap<object, string>();

/** The canonical text of each pool, route and certificate of an accepted snapshot (the writer's pretty text reuses it). */
const CANONICAL_TEXT = new WeakMap<object, string>();

/**
 * canonicalJson(element) of a pool, route or certificate of a snapshot a SnapshotAcceptor
 * accepted; undefined for anything else. Unchanged elements get the very string of the last
 * accept, so a Map keyed by it hashes it once.
 */
export function acceptedCanonicalText(element: object): string | undefined {
  return CANONICAL_TEXT.get(element);
}

/**
 * Elements that cannot change (deeply frozen; the snapshot file reader hands the same object out
 * again for text that did not change): their JSON text is made once, not at every accept.
 */
const UNCHANGING = new WeakMap<object, { text: string; key: string } | undefined>();

export function markUnchanging(element: object): void {
  if (!UNCHANGING.has(element)) UNCHANGING.set(element, undefined);
}

/** JSON.stringify(element) and `prefix` + it; the very same strings each time for an unchanging element (their hash is then computed once). */
function jsonText(element: object, prefix: string): { text: string; key: string } {
  const known = UNCHANGING.get(element);
  if (known !== undefined) return known;
  const text = JSON.stringify(element);
  const made = { text, key: `${prefix}${text}` };
  if (UNCHANGING.has(element)) UNCHANGING.set(element, made);
  return made;
}

/** JSON.stringify(pool), remembered when the pool went through a SnapshotAcceptor. */
export function poolJsonText(pool: object): string {
  return POOL_TEXT.get(pool) ?? JSON.stringify(pool);
}

/** A document cut along the lines that change independently. */
interface Parts {
  /** Everything but pools, routes and the certificates, as JSON text. */
  rest: string;
  pools: Fields[];
  routes: Fields[];
  certificates: Fields[];
  defaultCertificate: Fields | undefined;
}

/** JSON text of an element -> its canonical text, for every element of the last accepted snapshot. */
type Known = Map<string, string>;

export interface AcceptStats {
  /** Accepts that validated only what changed. */
  incremental: number;
  /** Accepts that validated the whole document. */
  full: number;
}

export class SnapshotAcceptor {
  #known: Known | undefined;
  #restKey: string | undefined;
  readonly stats: AcceptStats = { incremental: 0, full: 0 };

  accept(doc: unknown): Accepted {
    const parts = partsOf(doc);
    if (parts === undefined) return this.#full(doc, undefined);
    const keyed = keyedParts(parts);
    const known = this.#known;
    if (known === undefined || parts.rest !== this.#restKey || !this.#changedAreValid(parts, keyed, known)) return this.#full(doc, { parts, keyed });
    this.stats.incremental += 1;
    return this.#finish(doc, parts, keyed, known);
  }

  #full(doc: unknown, cut: { parts: Parts; keyed: Map<Fields, string> } | undefined): Accepted {
    this.stats.full += 1;
    const issues = validateSnapshotIssues(doc);
    if (issues.length > 0) return { ok: false, issues };
    if (cut === undefined) {
      // Valid yet not of the usual shape (cannot happen with the schema as it is): nothing kept.
      this.#known = undefined;
      return { ok: true, snapshot: doc as Snapshot, hash: textHash(canonicalJson(doc)) };
    }
    return this.#finish(doc, cut.parts, cut.keyed, new Map());
  }

  /** The changed elements validated with the pools they name, and the document-wide rules. */
  #changedAreValid(parts: Parts, keyed: Map<Fields, string>, known: Known): boolean {
    const changed = (element: Fields): boolean => !known.has(keyed.get(element)!);
    const poolsByName = new Map<unknown, Fields>();
    for (const pool of parts.pools) {
      if (poolsByName.has(pool.name)) return false;
      poolsByName.set(pool.name, pool);
    }
    const routeKeys = new Set<string>();
    for (const route of parts.routes) {
      if (!poolsByName.has(route.pool)) return false;
      const key = `${String(route.host)}\u0000${String(route.path)}\u0000${String(route.pathType)}`;
      if (routeKeys.has(key)) return false;
      routeKeys.add(key);
    }
    const routes = parts.routes.filter(changed);
    const pools = new Set(parts.pools.filter(changed));
    for (const route of routes) pools.add(poolsByName.get(route.pool)!);
    const certificates = parts.certificates.filter(changed);
    const defaultChanged = parts.defaultCertificate !== undefined && changed(parts.defaultCertificate);
    if (routes.length === 0 && pools.size === 0 && certificates.length === 0 && !defaultChanged) return true;
    const root = JSON.parse(parts.rest) as { root: Fields; tls: Fields | undefined };
    const probe: Fields = { ...root.root, pools: [...pools], routes };
    if (certificates.length > 0 || defaultChanged) {
      probe.tls = { ...root.tls, certificates, ...(defaultChanged ? { defaultCertificate: parts.defaultCertificate } : {}) };
    }
    return validateSnapshotIssues(probe).length === 0;
  }

  #finish(doc: unknown, parts: Parts, keyed: Map<Fields, string>, known: Known): Accepted {
    const next: Known = new Map();
    const canonicalOf = new Map<object, string>();
    for (const [element, key] of keyed) {
      const text = next.get(key) ?? known.get(key) ?? canonicalJson(element);
      next.set(key, text);
      canonicalOf.set(element, text);
      CANONICAL_TEXT.set(element, text);
    }
    const hash = canonicalHashReusing(doc, (object) => canonicalOf.get(object));
    this.#known = next;
    this.#restKey = parts.rest;
    return { ok: true, snapshot: doc as Snapshot, hash };
  }
}

function record(value: unknown): Fields | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : undefined;
}

function records(value: unknown): Fields[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.every((item) => record(item) !== undefined) ? (value as Fields[]) : undefined;
}

function partsOf(doc: unknown): Parts | undefined {
  const root = record(doc);
  if (root === undefined) return undefined;
  const { pools: poolsValue, routes: routesValue, tls: tlsValue, ...restRoot } = root;
  const pools = records(poolsValue);
  const routes = records(routesValue);
  if (pools === undefined || routes === undefined) return undefined;
  let tls: Fields | undefined;
  let certificates: Fields[] = [];
  let defaultCertificate: Fields | undefined;
  if (tlsValue !== undefined) {
    const given = record(tlsValue);
    if (given === undefined) return undefined;
    const { certificates: certificatesValue, defaultCertificate: defaultValue, ...restTls } = given;
    if (certificatesValue !== undefined) {
      const list = records(certificatesValue);
      if (list === undefined) return undefined;
      certificates = list;
    }
    if (defaultValue !== undefined) {
      defaultCertificate = record(defaultValue);
      if (defaultCertificate === undefined) return undefined;
    }
    tls = restTls;
  }
  // Whether tls has a certificates list at all is part of the rest (an empty list is not none).
  const shape = { root: restRoot, tls, hasCertificates: record(tlsValue)?.certificates !== undefined };
  return { rest: JSON.stringify(shape), pools, routes, certificates, defaultCertificate };
}

/** Each element's JSON text, prefixed by what it is (a pool and a route never share a key). */
function keyedParts(parts: Parts): Map<Fields, string> {
  const keyed = new Map<Fields, string>();
  for (const pool of parts.pools) {
    const { text, key } = jsonText(pool, 'p');
    POOL_TEXT.set(pool, text);
    keyed.set(pool, key);
  }
  for (const route of parts.routes) keyed.set(route, jsonText(route, 'r').key);
  for (const certificate of parts.certificates) keyed.set(certificate, jsonText(certificate, 'c').key);
  if (parts.defaultCertificate !== undefined) keyed.set(parts.defaultCertificate, `d${JSON.stringify(parts.defaultCertificate)}`);
  return keyed;
}

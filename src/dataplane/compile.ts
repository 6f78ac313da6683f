// The data plane's compile step: a validated snapshot -> the tables a request is served from
// (the router, the pools, each route's policy). Certificates are the certificate store's
// (listen/tls.ts), which loads them all or none at the same reload. Pure: no I/O, no clock, no metric series; the
// state (state.ts) attaches metrics once compiling has succeeded, so a refused snapshot leaves
// nothing behind. test/dataplane/compile.test.ts dumps what it builds as golden files.
import tls from 'node:tls';
import { ConfigError } from '../common/errors.ts';
import { parseCaBundle } from '../grammar/pem-pair.ts';
import { parseDuration } from '../grammar/duration.ts';
import { poolJsonText } from '../config/incremental.ts';
import { poolWithDefaults, type Pool, type Route, type Snapshot } from '../config/snapshot.ts';
import type { RouteLabels } from '../metrics/metrics.ts';
import { compileOriginPolicy, compileSourceRanges } from './admission/policy.ts';
import { compileRouter, type RouteRequest, type Router } from './handshake/router.ts';
import { compileAccepts, conditionCount, type WeightedChoice } from './handshake/gateway-filters.ts';
import { compileLongLived, type LongLivedRoute } from './long-lived.ts';
import { UpstreamPool } from './upstream/pool.ts';
import type { UpstreamVerify } from './upstream/connect.ts';
import { subjectAltNameCheck } from './upstream/subject-alt-names.ts';
import type { EndpointRegistry } from './upstream/registry.ts';
import { affinityKey } from './upstream/affinity.ts';
import type { RebalancePolicy } from './upstream/rebalance.ts';

export interface CompiledPool {
  /** Picks the endpoint of each new connection. */
  endpoints: UpstreamPool;
  name: string;
  namespace: string;
  service: string;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  drainTimeoutMs: number;
  /** SPEC §6 drain-spread: a drain's 1001s go out evenly over this window after drainTimeout. */
  drainSpreadMs: number;
  /** SPEC §6 rebalance (upstream/rebalance.ts); undefined: off. */
  rebalance?: RebalancePolicy;
  upstreamTls: boolean;
  /** Present when upstreamTls verifies (SPEC §6 upstream-tls-verify). */
  upstreamVerify?: UpstreamVerify;
  /** Gateway API invalid backendRef: every request routed here is answered 500 (invalidBackend in the snapshot). */
  invalidBackend?: true;
}

export interface CompiledRoute {
  /** Position in the snapshot's routes: where the state keeps this route's metrics. */
  index: number;
  host: string;
  path: string;
  pathType: Route['pathType'];
  route: Route;
  pool: CompiledPool;
  labels: RouteLabels;
  originAllowed: (origin: string) => boolean;
  sourceAllowed: (ip: string) => boolean;
  /** Connections are limited per Ingress (SPEC §6 max-connections): the group all its routes share. */
  limitGroup: string;
  maxConnections?: number;
  maxConnectionsPerClient?: number;
  maxMessageSize?: number;
  /** Plain-HTTP requests get 308 to https:// (SPEC §6 ssl-redirect). */
  httpsRedirect: boolean;
  /** Gateway API fields (gateway-filters.ts); absent on Ingress routes. */
  wildcardDepth?: 'any';
  accepts?: (request: RouteRequest) => boolean;
  conditionCount?: number;
  /** A weighted split: one of these (this route with each pool) per new connection. */
  split?: WeightedChoice<CompiledRoute>;
  /** Pings, lifetime, message rate (long-lived.ts). */
  longLived: LongLivedRoute;
}

export interface CompiledTables {
  router: Router<CompiledRoute>;
  pools: Map<string, CompiledPool>;
  /** In snapshot order (`index`). */
  routes: CompiledRoute[];
}

/**
 * Compiles a validated snapshot. Throws ConfigError for what validation does not see (a
 * hand-built snapshot in a test, a policy entry the data plane cannot use).
 */
export function compileSnapshot(snapshot: Snapshot, registry: EndpointRegistry, reuse?: CompiledReuse): CompiledTables {
  const pools = compilePools(snapshot.pools, registry, reuse, snapshot.affinityKey);
  const routes = snapshot.routes.map((route, index) => compileRoute(route, index, pools));
  // A split's other pools become routes of their own, after the snapshot's: each has its metrics.
  const all = [...routes];
  for (const route of routes) {
    if (route.route.backends === undefined) continue;
    const items: CompiledRoute[] = [];
    const cumulative: number[] = [];
    let total = 0;
    for (const backend of route.route.backends) {
      if (backend.weight <= 0) continue;
      const variant = backend.pool === route.route.pool && items.every((i) => i !== route) ? route : compileRoute({ ...route.route, pool: backend.pool }, all.length, pools);
      if (variant !== route) all.push(variant);
      total += backend.weight;
      items.push(variant);
      cumulative.push(total);
    }
    if (items.length > 1) route.split = { items, cumulative, total };
  }
  return { router: compileRouter(routes), pools, routes: all };
}

/**
 * Compiled pools by the JSON text of the pool they came from: a reload reuses the pool objects
 * (and their balancing state) whose text did not change, instead of building every pool again.
 * One reload's cache is filled by compilePools and handed to the next.
 */
export class CompiledReuse {
  readonly #previous: Map<string, CompiledPool>;
  readonly next = new Map<string, CompiledPool>();
  reused = 0;

  constructor(previous?: CompiledReuse) {
    this.#previous = previous?.next ?? new Map();
  }

  pool(given: Pool, build: () => CompiledPool, salt = ''): CompiledPool {
    const key = salt === '' ? poolJsonText(given) : `${salt}\n${poolJsonText(given)}`;
    const found = this.next.get(key) ?? this.#previous.get(key);
    if (found !== undefined) this.reused += 1;
    const pool = found ?? build();
    this.next.set(key, pool);
    return pool;
  }
}

export function compilePools(pools: readonly Pool[], registry: EndpointRegistry, reuse?: CompiledReuse, affinityKeyText?: string): Map<string, CompiledPool> {
  const out = new Map<string, CompiledPool>();
  for (const given of pools) {
    // The key is the snapshot's, not the pool's: a pool with affinity is reused only under the same key.
    const key = given.affinity === undefined ? undefined : affinityKey(affinityKeyText);
    const salt = key === undefined ? '' : key.toString('base64');
    out.set(given.name, reuse === undefined ? compilePool(given, registry, key) : reuse.pool(given, () => compilePool(given, registry, key), salt));
  }
  return out;
}

function compilePool(given: Pool, registry: EndpointRegistry, affinityKey?: Buffer): CompiledPool {
  const pool = poolWithDefaults(given);
  return {
    endpoints: new UpstreamPool(pool, registry, affinityKey),
    name: pool.name,
    namespace: pool.source?.namespace ?? '',
    service: pool.source?.service ?? pool.name,
    connectTimeoutMs: durationMs(pool, 'connectTimeout', pool.connectTimeout),
    handshakeTimeoutMs: durationMs(pool, 'handshakeTimeout', pool.handshakeTimeout),
    idleTimeoutMs: durationMs(pool, 'idleTimeout', pool.idleTimeout),
    drainTimeoutMs: durationMs(pool, 'drainTimeout', pool.drainTimeout),
    drainSpreadMs: pool.drainSpread === undefined ? 0 : durationMs(pool, 'drainSpread', pool.drainSpread),
    upstreamTls: pool.upstreamTls,
    ...(pool.invalidBackend === true ? { invalidBackend: true as const } : {}),
    ...(pool.rebalance === true ? { rebalance: { ratePerSecond: pool.rebalanceRate ?? 5, threshold: pool.rebalanceThreshold ?? 1.5 } } : {}),
    ...(pool.upstreamTls && pool.upstreamTlsVerify === true ? { upstreamVerify: compileUpstreamVerify(pool) } : {}),
  };
}

/** The CA once per snapshot, not per connection; no CA trusts nothing (fail-closed, see UpstreamVerify). */
function compileUpstreamVerify(pool: Pool): UpstreamVerify {
  const bundle = pool.upstreamTlsCa === undefined ? { ok: true as const, value: [] } : parseCaBundle(pool.upstreamTlsCa);
  if (!bundle.ok) throw ConfigError.of(`pool ${pool.name}: upstreamTlsCa ${bundle.reason}`);
  // BackendTLSPolicy wellKnownCACertificates: System: Node's bundled roots, given explicitly
  // (a `ca` option replaces the default roots rather than adding to them).
  const ca = pool.upstreamTlsSystemRoots === true ? [...tls.rootCertificates, ...bundle.value] : bundle.value;
  return {
    ca,
    secureContext: tls.createSecureContext({ ca }),
    ...(pool.upstreamTlsServerName === undefined ? {} : { serverName: pool.upstreamTlsServerName }),
    ...(pool.upstreamTlsSubjectAltNames === undefined ? {} : { checkServerIdentity: subjectAltNameCheck(pool.upstreamTlsSubjectAltNames) }),
  };
}

function durationMs(pool: Pool, field: string, text: string): number {
  const ms = parseDuration(text);
  // validateSnapshot refuses such text; a snapshot that skipped it is refused here, never defaulted.
  if (ms === undefined) throw ConfigError.of(`pool ${pool.name}: ${field} ${JSON.stringify(text)} is not a duration`);
  return ms;
}

function compileRoute(route: Route, index: number, pools: ReadonlyMap<string, CompiledPool>): CompiledRoute {
  const pool = pools.get(route.pool);
  // validateSnapshot guarantees the reference; this guards hand-built snapshots in tests.
  if (!pool) throw ConfigError.of(`route ${route.host}${route.path} names unknown pool ${route.pool}`);
  const policy = route.policy ?? {};
  return {
    index,
    host: route.host,
    path: route.path,
    pathType: route.pathType,
    route,
    pool,
    labels: { namespace: route.source?.namespace ?? '', ingress: route.source?.ingress ?? '', service: pool.service },
    originAllowed: compileOriginPolicy(policy.allowedOrigins),
    sourceAllowed: compileSourceRanges(policy.allowedSourceRanges),
    limitGroup: route.source ? `${route.source.kind === 'HTTPRoute' ? 'HTTPRoute:' : ''}${route.source.namespace}/${route.source.ingress}` : `route:${route.host}${route.path}:${route.pathType}`,
    maxConnections: policy.maxConnections,
    maxConnectionsPerClient: policy.maxConnectionsPerClient,
    maxMessageSize: policy.maxMessageSize,
    httpsRedirect: policy.httpsRedirect === true,
    longLived: compileLongLived(route, policy),
    ...gatewayFields(route),
  };
}

function gatewayFields(route: Route): Pick<CompiledRoute, 'wildcardDepth' | 'accepts' | 'conditionCount'> {
  const accepts = compileAccepts(route);
  return {
    ...(route.wildcardDepth === undefined ? {} : { wildcardDepth: route.wildcardDepth }),
    ...(accepts === undefined ? {} : { accepts, conditionCount: conditionCount(route) }),
  };
}

// The data plane's compile step: a validated snapshot -> the tables a request is served from
// (the router, the pools, each route's policy). Certificates are the certificate store's
// (listen/tls.ts), which loads them all or none at the same reload. Pure: no I/O, no clock, no metric series; the
// state (state.ts) attaches metrics once compiling has succeeded, so a refused snapshot leaves
// nothing behind. test/dataplane/compile.test.ts dumps what it builds as golden files.
import tls from 'node:tls';
import { ConfigError } from '../common/errors.ts';
import { parseCaBundle } from '../grammar/pem-pair.ts';
import { parseDuration } from '../grammar/duration.ts';
import { poolWithDefaults, type Pool, type Route, type Snapshot } from '../config/snapshot.ts';
import type { RouteLabels } from '../metrics/metrics.ts';
import { compileOriginPolicy, compileSourceRanges } from './admission/policy.ts';
import { compileRouter, type Router } from './handshake/router.ts';
import { compileLongLived, type LongLivedRoute } from './long-lived.ts';
import { UpstreamPool } from './upstream/pool.ts';
import type { UpstreamVerify } from './upstream/connect.ts';
import type { EndpointRegistry } from './upstream/registry.ts';
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
export function compileSnapshot(snapshot: Snapshot, registry: EndpointRegistry): CompiledTables {
  const pools = compilePools(snapshot.pools, registry);
  const routes = snapshot.routes.map((route, index) => compileRoute(route, index, pools));
  return { router: compileRouter(routes), pools, routes };
}

export function compilePools(pools: readonly Pool[], registry: EndpointRegistry): Map<string, CompiledPool> {
  const out = new Map<string, CompiledPool>();
  for (const given of pools) {
    const pool = poolWithDefaults(given);
    out.set(pool.name, {
      endpoints: new UpstreamPool(pool, registry),
      name: pool.name,
      namespace: pool.source?.namespace ?? '',
      service: pool.source?.service ?? pool.name,
      connectTimeoutMs: durationMs(pool, 'connectTimeout', pool.connectTimeout),
      handshakeTimeoutMs: durationMs(pool, 'handshakeTimeout', pool.handshakeTimeout),
      idleTimeoutMs: durationMs(pool, 'idleTimeout', pool.idleTimeout),
      drainTimeoutMs: durationMs(pool, 'drainTimeout', pool.drainTimeout),
      drainSpreadMs: pool.drainSpread === undefined ? 0 : durationMs(pool, 'drainSpread', pool.drainSpread),
      upstreamTls: pool.upstreamTls,
      ...(pool.rebalance === true ? { rebalance: { ratePerSecond: pool.rebalanceRate ?? 5, threshold: pool.rebalanceThreshold ?? 1.5 } } : {}),
      ...(pool.upstreamTls && pool.upstreamTlsVerify === true ? { upstreamVerify: compileUpstreamVerify(pool) } : {}),
    });
  }
  return out;
}

/** The CA once per snapshot, not per connection; no CA trusts nothing (fail-closed, see UpstreamVerify). */
function compileUpstreamVerify(pool: Pool): UpstreamVerify {
  const bundle = pool.upstreamTlsCa === undefined ? { ok: true as const, value: [] } : parseCaBundle(pool.upstreamTlsCa);
  if (!bundle.ok) throw ConfigError.of(`pool ${pool.name}: upstreamTlsCa ${bundle.reason}`);
  return {
    ca: bundle.value,
    secureContext: tls.createSecureContext({ ca: bundle.value }),
    ...(pool.upstreamTlsServerName === undefined ? {} : { serverName: pool.upstreamTlsServerName }),
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
    limitGroup: route.source ? `${route.source.namespace}/${route.source.ingress}` : `route:${route.host}${route.path}:${route.pathType}`,
    maxConnections: policy.maxConnections,
    maxConnectionsPerClient: policy.maxConnectionsPerClient,
    maxMessageSize: policy.maxMessageSize,
    httpsRedirect: policy.httpsRedirect === true,
    longLived: compileLongLived(route, policy),
  };
}

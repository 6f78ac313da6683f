// The data plane's state: the snapshot in effect compiled for lookups, the open connections,
// and what a reload does to them (SPEC §5 endpoints, §8 drain). A reload swaps one reference;
// established connections are never touched except to drain those whose endpoint left.
import { parseDuration } from '../grammar/duration.ts';
import { POOL_DEFAULTS, type EndpointState, type Pool, type Route, type Snapshot } from '../config/snapshot.ts';
import { logger } from '../common/log.ts';
import type { RouteLabels, RouteMetrics, WsgateMetrics } from '../metrics/metrics.ts';
import { compileOriginPolicy, compileSourceRanges } from './admission/policy.ts';
import { EndpointRegistry, UpstreamPool } from './upstream/pool.ts';
import type { Relay } from './relay/relay.ts';
import { compileRouter, type Router } from './handshake/router.ts';
import type { CertificateStore } from './listen/tls.ts';

const log = logger('dataplane');

export interface PoolSettings {
  pool: UpstreamPool;
  name: string;
  namespace: string;
  service: string;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  drainTimeoutMs: number;
  upstreamTls: boolean;
}

export interface CompiledRoute {
  host: string;
  path: string;
  pathType: Route['pathType'];
  route: Route;
  pool: PoolSettings;
  labels: RouteLabels;
  metrics: RouteMetrics;
  originAllowed: (origin: string) => boolean;
  sourceAllowed: (ip: string) => boolean;
  /** Connections are limited per Ingress (SPEC §6 max-connections): the group all its routes share. */
  limitGroup: string;
  maxConnections?: number;
  maxConnectionsPerClient?: number;
  maxMessageSize?: number;
}

export interface CompiledSnapshot {
  hash: string;
  snapshot: Snapshot;
  router: Router<CompiledRoute>;
  pools: Map<string, PoolSettings>;
  routes: CompiledRoute[];
}

/** One proxied WebSocket connection, from 101 to its end. */
export interface ProxiedConnection {
  relay: Relay;
  poolName: string;
  endpointKey: string;
  drainTimer?: NodeJS.Timeout;
}

function ms(text: string | undefined, fallback: string): number {
  return parseDuration(text ?? fallback) ?? parseDuration(fallback)!;
}

export function compilePools(pools: readonly Pool[], registry: EndpointRegistry): Map<string, PoolSettings> {
  const out = new Map<string, PoolSettings>();
  for (const pool of pools) {
    out.set(pool.name, {
      pool: new UpstreamPool(pool, registry),
      name: pool.name,
      namespace: pool.source?.namespace ?? '',
      service: pool.source?.service ?? pool.name,
      connectTimeoutMs: ms(pool.connectTimeout, POOL_DEFAULTS.connectTimeout),
      handshakeTimeoutMs: ms(pool.handshakeTimeout, POOL_DEFAULTS.handshakeTimeout),
      idleTimeoutMs: ms(pool.idleTimeout, POOL_DEFAULTS.idleTimeout),
      drainTimeoutMs: ms(pool.drainTimeout, POOL_DEFAULTS.drainTimeout),
      upstreamTls: pool.upstreamTls ?? POOL_DEFAULTS.upstreamTls,
    });
  }
  return out;
}

export function compileSnapshot(snapshot: Snapshot, hash: string, registry: EndpointRegistry, metrics: WsgateMetrics): CompiledSnapshot {
  const pools = compilePools(snapshot.pools, registry);
  const routes: CompiledRoute[] = snapshot.routes.map((route) => {
    const pool = pools.get(route.pool);
    // validateSnapshot guarantees the reference; this guards hand-built snapshots in tests.
    if (!pool) throw new Error(`route ${route.host}${route.path} names unknown pool ${route.pool}`);
    const labels: RouteLabels = {
      namespace: route.source?.namespace ?? '',
      ingress: route.source?.ingress ?? '',
      service: pool.service,
    };
    const policy = route.policy ?? {};
    return {
      host: route.host,
      path: route.path,
      pathType: route.pathType,
      route,
      pool,
      labels,
      metrics: metrics.route(labels),
      originAllowed: compileOriginPolicy(policy.allowedOrigins),
      sourceAllowed: compileSourceRanges(policy.allowedSourceRanges),
      limitGroup: route.source ? `${route.source.namespace}/${route.source.ingress}` : `route:${route.host}${route.path}:${route.pathType}`,
      maxConnections: policy.maxConnections,
      maxConnectionsPerClient: policy.maxConnectionsPerClient,
      maxMessageSize: policy.maxMessageSize,
    };
  });
  return { hash, snapshot, router: compileRouter(routes), pools, routes };
}

export class DataPlane {
  readonly registry: EndpointRegistry;
  readonly metrics: WsgateMetrics;
  readonly certificates: CertificateStore;
  readonly connections = new Set<ProxiedConnection>();
  current: CompiledSnapshot | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(options: { metrics: WsgateMetrics; certificates: CertificateStore; registry?: EndpointRegistry }) {
    this.metrics = options.metrics;
    this.certificates = options.certificates;
    this.registry = options.registry ?? new EndpointRegistry();
  }

  /** Swaps in a validated snapshot. Returns false (and changes nothing) when the hash is unchanged. */
  apply(snapshot: Snapshot, hash: string): boolean {
    if (this.current?.hash === hash) return false;
    const next = compileSnapshot(snapshot, hash, this.registry, this.metrics);
    this.certificates.update(snapshot.tls);
    this.current = next;
    this.registry.retainPools(next.pools.keys());
    this.metrics.forgetRoutes(next.routes.map((r) => r.labels));
    this.refreshGauges();
    this.scheduleDrains(next);
    log.info({ hash, routes: next.routes.length, pools: next.pools.size }, 'snapshot applied');
    return true;
  }

  /** wsgate_upstream_endpoints and certificate expiry follow the snapshot and ejections. */
  refreshGauges(): void {
    const current = this.current;
    if (!current) return;
    this.metrics.setUpstreamEndpoints(
      [...current.pools.values()].map((p) => ({ namespace: p.namespace, service: p.service, counts: p.pool.stateCounts() })),
    );
    this.metrics.setCertificateExpiries(
      this.certificates.expiries().map(({ name, notAfter }) => {
        const slash = name.indexOf('/');
        return { namespace: slash < 0 ? '' : name.slice(0, slash), secret: slash < 0 ? name : name.slice(slash + 1), notAfter };
      }),
    );
  }

  track(connection: ProxiedConnection): void {
    this.connections.add(connection);
    const pool = this.current?.pools.get(connection.poolName);
    // The endpoint may have left between the pick and the 101: drain it like any other.
    if (pool) this.considerDrain(connection, pool.pool.stateOf(connection.endpointKey), pool.drainTimeoutMs);
  }

  untrack(connection: ProxiedConnection): void {
    if (connection.drainTimer) clearTimeout(connection.drainTimer);
    this.connections.delete(connection);
    if (this.connections.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /**
   * SPEC §5: an endpoint that is not ready but still listed keeps its connections; one that is
   * terminating or gone gets 1001 once drain-timeout has passed (and is spared if it comes back).
   */
  private scheduleDrains(next: CompiledSnapshot): void {
    for (const connection of this.connections) {
      const pool = next.pools.get(connection.poolName);
      this.considerDrain(connection, pool?.pool.stateOf(connection.endpointKey), pool?.drainTimeoutMs ?? ms(undefined, POOL_DEFAULTS.drainTimeout));
    }
  }

  private considerDrain(connection: ProxiedConnection, state: EndpointState | undefined, drainTimeoutMs: number): void {
    const keep = state === 'ready' || state === 'not-ready';
    if (keep) {
      if (connection.drainTimer) {
        clearTimeout(connection.drainTimer);
        connection.drainTimer = undefined;
        log.info({ endpoint: connection.endpointKey, pool: connection.poolName }, 'endpoint back: drain cancelled');
      }
      return;
    }
    if (connection.drainTimer) return;
    log.info({ endpoint: connection.endpointKey, pool: connection.poolName, state: state ?? 'removed', drainTimeoutMs }, 'draining connection');
    connection.drainTimer = setTimeout(() => connection.relay.close(1001), drainTimeoutMs);
    connection.drainTimer.unref();
  }

  /** Graceful close of every open connection (SIGTERM): 1001 to both sides. */
  closeAll(): void {
    for (const connection of this.connections) connection.relay.close(1001);
  }

  /** Resolves once no connection is open. */
  whenIdle(): Promise<void> {
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

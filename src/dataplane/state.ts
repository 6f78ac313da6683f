// The data plane's state: the snapshot in effect compiled for lookups, the open connections,
// and what a reload does to them (SPEC §5 endpoints, §8 drain). A reload swaps one reference;
// established connections are never touched except to drain those whose endpoint left.
import { POOL_DEFAULTS, type EndpointState, type Snapshot } from '../config/snapshot.ts';
import { parseDuration } from '../grammar/duration.ts';
import { logger } from '../common/log.ts';
import type { RouteMetrics, WsgateMetrics } from '../metrics/metrics.ts';
import { CompiledReuse, compileSnapshot, type CompiledRoute, type CompiledTables } from './compile.ts';
import { EndpointRegistry } from './upstream/registry.ts';
import { endpointConnections } from './upstream/endpoint-counts.ts';
import { spreadOffset, spreadOut } from './spread.ts';
import { Rebalancer } from './upstream/rebalance.ts';
import type { Relay } from './relay/relay.ts';
import type { CertificateStore } from './listen/tls.ts';

const log = logger('dataplane');

/** A connection whose pool left the snapshot drains after its pool's last drain-timeout, else the default. */
const REMOVED_POOL_DRAIN_MS = parseDuration(POOL_DEFAULTS.drainTimeout)!;

/** The snapshot in effect: its compiled tables, with the metrics of each route attached. */
export interface ServedSnapshot extends CompiledTables {
  hash: string;
  snapshot: Snapshot;
  /** By CompiledRoute.index. */
  routeMetrics: RouteMetrics[];
}

/** One proxied WebSocket connection, from 101 to its end. */
export interface ProxiedConnection {
  relay: Relay;
  poolName: string;
  endpointKey: string;
  /** Its pool's drain-timeout when it opened: still the route's once the pool has left the snapshot. */
  drainTimeoutMs?: number;
  drainTimer?: NodeJS.Timeout;
  /** The proxy closes it to rebalance its pool: counts wsgate_rebalance_closes_total. */
  onRebalance?: () => void;
}

/** SPEC §5: ready and not-ready endpoints keep their connections; terminating or gone ones drain. */
function keepsConnections(state: EndpointState | undefined): boolean {
  return state === 'ready' || state === 'not-ready';
}

/** The metrics of a route of the snapshot in effect (or of the one it was matched in). */
export function routeMetricsOf(served: ServedSnapshot, route: CompiledRoute): RouteMetrics {
  return served.routeMetrics[route.index]!;
}

/** Told when the first connection opens and the last one closes: what only a busy proxy needs runs only then. */
export interface ConnectionActivity {
  busy(): void;
  idle(): void;
}

export class DataPlane {
  readonly registry: EndpointRegistry;
  readonly metrics: WsgateMetrics;
  readonly certificates: CertificateStore;
  readonly connections = new Set<ProxiedConnection>();
  current: ServedSnapshot | undefined;
  #idleWaiters: Array<() => void> = [];
  /** The pools of the snapshot in effect, by their JSON text: a reload rebuilds only what changed. */
  #reuse: CompiledReuse | undefined;
  readonly #rebalancer: Rebalancer;

  readonly #activity: ConnectionActivity | undefined;

  constructor(options: { metrics: WsgateMetrics; certificates: CertificateStore; registry?: EndpointRegistry; activity?: ConnectionActivity }) {
    this.#activity = options.activity;
    this.metrics = options.metrics;
    this.certificates = options.certificates;
    this.registry = options.registry ?? new EndpointRegistry();
    this.#rebalancer = new Rebalancer({ registry: this.registry, connections: this.connections, pools: () => this.current?.pools.values() ?? [] });
    this.metrics.setEndpointConnectionsSource(() => (this.current ? endpointConnections(this.current.snapshot.pools, this.registry) : []));
    this.metrics.setUpstreamEndpointsSource(() =>
      [...(this.current?.pools.values() ?? [])].map((p) => ({ namespace: p.namespace, service: p.service, endpoints: p.endpoints.gaugeEndpoints() })),
    );
  }

  /** Swaps in a validated snapshot. Returns false (and changes nothing) when the hash is unchanged. */
  apply(snapshot: Snapshot, hash: string): boolean {
    if (this.current?.hash === hash) return false;
    const reuse = new CompiledReuse(this.#reuse);
    const tables = compileSnapshot(snapshot, this.registry, reuse);
    this.certificates.update(snapshot.tls);
    this.#reuse = reuse;
    // Only now that nothing can refuse the snapshot: a refused one leaves no series behind.
    const next: ServedSnapshot = { ...tables, hash, snapshot, routeMetrics: tables.routes.map((route) => this.metrics.route(route.labels)) };
    this.current = next;
    this.registry.retainPools(next.pools.keys());
    this.metrics.forgetRoutes(next.routes.map((r) => r.labels));
    this.#setCertificateExpiries();
    this.#scheduleDrains(next);
    this.#rebalancer.update([...next.pools.values()].some((pool) => pool.rebalance !== undefined));
    log.info({ hash, routes: next.routes.length, pools: next.pools.size }, 'snapshot applied');
    return true;
  }

  /** Certificate expiry changes only with the snapshot (wsgate_upstream_endpoints is counted at scrape time). */
  #setCertificateExpiries(): void {
    const current = this.current;
    if (!current) return;
    this.metrics.setCertificateExpiries(
      this.certificates.expiries().map(({ name, notAfter }) => {
        const slash = name.indexOf('/');
        return { namespace: slash < 0 ? '' : name.slice(0, slash), secret: slash < 0 ? name : name.slice(slash + 1), notAfter };
      }),
    );
  }

  track(connection: ProxiedConnection): void {
    this.connections.add(connection);
    if (this.connections.size === 1) this.#activity?.busy();
    const pool = this.current?.pools.get(connection.poolName);
    // The endpoint may have left between the pick and the 101: drain it like any other.
    if (pool) this.#considerDrain(connection, pool.endpoints.stateOf(connection.endpointKey), pool.drainTimeoutMs);
  }

  untrack(connection: ProxiedConnection): void {
    if (connection.drainTimer) clearTimeout(connection.drainTimer);
    const wasTracked = this.connections.delete(connection);
    if (this.connections.size === 0) {
      if (wasTracked) this.#activity?.idle();
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /**
   * SPEC §5: an endpoint that is not ready but still listed keeps its connections; one that is
   * terminating or gone gets 1001 once drain-timeout has passed (and is spared if it comes back).
   */
  #scheduleDrains(next: ServedSnapshot): void {
    // drain-spread: the connections a reload starts draining, per pool, get even offsets.
    const starting = new Map<string, number>();
    for (const connection of this.connections) {
      const pool = next.pools.get(connection.poolName);
      if (connection.drainTimer === undefined && !keepsConnections(pool?.endpoints.stateOf(connection.endpointKey))) {
        starting.set(connection.poolName, (starting.get(connection.poolName) ?? 0) + 1);
      }
    }
    const index = new Map<string, number>();
    for (const connection of this.connections) {
      const pool = next.pools.get(connection.poolName);
      const state = pool?.endpoints.stateOf(connection.endpointKey);
      let offset = 0;
      if (connection.drainTimer === undefined && !keepsConnections(state)) {
        const i = index.get(connection.poolName) ?? 0;
        index.set(connection.poolName, i + 1);
        offset = spreadOffset(i, starting.get(connection.poolName)!, pool?.drainSpreadMs ?? 0);
      }
      this.#considerDrain(connection, state, (pool?.drainTimeoutMs ?? connection.drainTimeoutMs ?? REMOVED_POOL_DRAIN_MS) + offset);
    }
  }

  #considerDrain(connection: ProxiedConnection, state: EndpointState | undefined, drainTimeoutMs: number): void {
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

  /**
   * Graceful close of every open connection (SIGTERM): 1001 to both sides, spread evenly over
   * `spreadMs` (--shutdown-spread), oldest first.
   */
  closeAll(spreadMs = 0): void {
    this.#rebalancer.stop();
    spreadOut([...this.connections], spreadMs, (connection) => connection.relay.close(1001));
  }

  /** Resolves once no connection is open. */
  whenIdle(): Promise<void> {
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }
}

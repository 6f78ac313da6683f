// Every wsgate_* metric (SPEC §9) in one place. Names, types and labels are the interface.
//
// The data plane's hot path touches this module once per connection (route(), opened(), closed())
// and never per chunk: byte and message counts are plain fields the relay increments, read into
// the counters when Prometheus scrapes.
//
// Each metric declares how it is aggregated across node:cluster workers (see worker-aggregation.ts): sums for
// everything one worker counts on its own, but `max` for the last-reload timestamp and `min` for
// certificate expiry, where a sum would be meaningless.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from './prom.ts';
import { closeCodeLabel, labelKey } from './labels.ts';
import { FAILURE_REASONS, type CloseSide, type FailureReason, type TrafficCounters } from '../dataplane/vocabulary.ts';

export { closeCodeLabel } from './labels.ts';
// The reason list is the data plane's; re-exported for the README check that reads it here.
export { FAILURE_REASONS } from '../dataplane/vocabulary.ts';

/** The Content-Type of the Prometheus text exposition format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE: string = Registry.PROMETHEUS_CONTENT_TYPE;

export interface RouteLabels {
  namespace: string;
  ingress: string;
  service: string;
}

export interface RouteMetrics {
  readonly traffic: TrafficCounters;
  /** The connection reached 101. */
  opened(): void;
  /**
   * The connection ended. Add the last bytes to `traffic` before calling this: a route that left
   * the snapshot is forgotten as soon as its last connection closes.
   */
  closed(durationSeconds: number, code: number, side: CloseSide): void;
  /** A side did not answer the proxy's ping in time (wsgate_ping_timeouts_total). */
  pingTimedOut(side: 'client' | 'upstream'): void;
  /** The proxy closed a connection to rebalance its pool (wsgate_rebalance_closes_total). */
  rebalanceClosed(): void;
}

/** Counts of the long-lived connection features, read into their counters at scrape time. */
export interface LongLivedCounters {
  pingTimeoutsClient: number;
  pingTimeoutsUpstream: number;
  rebalanceCloses: number;
}

export interface EndpointCounts {
  ready: number;
  not_ready: number;
  terminating: number;
  ejected: number;
}

export type EndpointGaugeState = keyof EndpointCounts;

export interface UpstreamPoolEndpoints {
  namespace: string;
  service: string;
  /** `id` names the endpoint the same way in every pool that lists it (a pod, else address:port). */
  endpoints: ReadonlyArray<{ id: string; state: EndpointGaugeState }>;
}

/** One wsgate_upstream_connections_active series: this worker's open connections to one endpoint. */
export interface UpstreamEndpointConnections {
  namespace: string;
  service: string;
  endpoint: string;
  count: number;
}

export interface CertificateExpiry {
  namespace: string;
  secret: string;
  notAfter: Date;
}

export interface WsgateMetricsOptions {
  /** prom-client's default process_* and nodejs_* metrics; on unless turned off. */
  processMetrics?: boolean;
}

const ENDPOINT_STATES: readonly (keyof EndpointCounts)[] = ['ready', 'not_ready', 'terminating', 'ejected'];

/**
 * An endpoint listed by several pools in different states counts once, in the state that says most
 * about what it can take: ready anywhere is ready (it takes connections), then ejected, not_ready,
 * terminating.
 */
const STATE_RANK: Readonly<Record<EndpointGaugeState, number>> = { ready: 3, ejected: 2, not_ready: 1, terminating: 0 };

// WebSockets live from sub-second (a probe, a refused subprotocol) to many hours (dashboards, chat).
const CONNECTION_DURATION_BUCKETS = [
  0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400,
];
// A connect inside a cluster takes about a millisecond; the default connect-timeout is 5 s.
const UPSTREAM_CONNECT_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

const REDUNDANT_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

const ROUTE_LABELS = ['namespace', 'ingress', 'service'] as const;
type RouteLabelName = (typeof ROUTE_LABELS)[number];

const EMPTY_ROUTE: RouteLabels = Object.freeze({ namespace: '', ingress: '', service: '' });

/** What a route entry needs from its owner, kept narrow so the entry stays a plain object. */
interface RouteSink {
  opened(entry: RouteEntry): void;
  closeCode(entry: RouteEntry, code: number, side: CloseSide): void;
  maybeForget(entry: RouteEntry): void;
}

class RouteEntry implements RouteMetrics {
  readonly traffic: TrafficCounters = { bytesUp: 0, bytesDown: 0, messagesUp: 0, messagesDown: 0 };
  readonly longLived: LongLivedCounters = { pingTimeoutsClient: 0, pingTimeoutsUpstream: 0, rebalanceCloses: 0 };
  readonly labels: Readonly<RouteLabels>;
  readonly key: string;
  /** Open connections in this process; a retired route is forgotten when it reaches 0. */
  active = 0;
  /** No longer in the snapshot (forgetRoutes). */
  retired = false;
  /** Label sets used under this route, so they can be removed when it is forgotten. */
  readonly failureReasons = new Set<FailureReason>();
  readonly closeLabels = new Map<string, { code: string; side: CloseSide }>();
  readonly #activeGauge: { inc(): void; dec(): void };
  readonly #totalCounter: { inc(): void };
  readonly #duration: { observe(value: number): void };
  readonly #sink: RouteSink;

  constructor(
    labels: RouteLabels,
    key: string,
    sink: RouteSink,
    children: {
      active: { inc(): void; dec(): void };
      total: { inc(): void };
      duration: { observe(value: number): void };
    },
  ) {
    this.labels = Object.freeze({ namespace: labels.namespace, ingress: labels.ingress, service: labels.service });
    this.key = key;
    this.#sink = sink;
    this.#activeGauge = children.active;
    this.#totalCounter = children.total;
    this.#duration = children.duration;
  }

  opened(): void {
    this.active++;
    this.#sink.opened(this);
    this.#activeGauge.inc();
    this.#totalCounter.inc();
  }

  closed(durationSeconds: number, code: number, side: CloseSide): void {
    this.active--;
    this.#activeGauge.dec();
    this.#duration.observe(durationSeconds);
    this.#sink.closeCode(this, code, side);
    if (this.retired) this.#sink.maybeForget(this);
  }

  pingTimedOut(side: 'client' | 'upstream'): void {
    if (side === 'client') this.longLived.pingTimeoutsClient++;
    else this.longLived.pingTimeoutsUpstream++;
  }

  rebalanceClosed(): void {
    this.longLived.rebalanceCloses++;
  }
}

export class WsgateMetrics {
  readonly registry: Registry;

  readonly #routes = new Map<string, RouteEntry>();
  /** namespace/service pairs with wsgate_upstream_connect_duration_seconds series. */
  readonly #connectSeries = new Map<string, { namespace: string; service: string }>();

  readonly #connectionsActive: Gauge<RouteLabelName>;
  readonly #connectionsTotal: Counter<RouteLabelName>;
  readonly #handshakeFailures: Counter<RouteLabelName | 'reason'>;
  readonly #closeCodes: Counter<RouteLabelName | 'code' | 'side'>;
  readonly #connectionDuration: Histogram<RouteLabelName>;
  readonly #upstreamConnect: Histogram<'namespace' | 'service'>;
  readonly #configReloads: Counter<'result'>;
  readonly #acceptErrors: Counter<'reason'>;
  readonly #lastReloadSuccess: Gauge;
  readonly #lastReloadSuccessful: Gauge;
  readonly #upstreamEndpoints: Gauge<'namespace' | 'service' | 'state'>;
  #upstreamEndpointsSource: (() => UpstreamPoolEndpoints[]) | undefined;
  readonly #certificateExpiry: Gauge<'namespace' | 'secret'>;
  #endpointConnections: () => readonly UpstreamEndpointConnections[] = () => [];

  constructor(registry?: Registry, options: WsgateMetricsOptions = {}) {
    this.registry = registry ?? new Registry();
    const registers = [this.registry];
    const routes = this.#routes;

    this.#connectionsActive = new Gauge({
      name: 'wsgate_connections_active',
      help: 'WebSocket connections open now (answered 101, not yet closed), per Ingress backend.',
      labelNames: ROUTE_LABELS,
      registers,
    });
    this.#connectionsTotal = new Counter({
      name: 'wsgate_connections_total',
      help: 'WebSocket connections that completed the handshake (101), per Ingress backend.',
      labelNames: ROUTE_LABELS,
      registers,
    });
    this.#handshakeFailures = new Counter({
      name: 'wsgate_handshake_failures_total',
      help:
        `Upgrade requests that did not reach 101, by reason (${FAILURE_REASONS.join(', ')}); ` +
        'namespace, ingress and service are empty when no route was known yet.',
      labelNames: [...ROUTE_LABELS, 'reason'],
      registers,
    });
    this.#closeCodes = new Counter({
      name: 'wsgate_close_codes_total',
      help:
        'Upgraded connections by how they ended: the first close frame seen and its sender (client, upstream, ' +
        'or proxy for its own 1001/1009), or 1006 with the side whose TCP ended first. code is 1000-1015 or ' +
        '4000-4999 as itself, 3xxx for 3000-3999, other for anything else.',
      labelNames: [...ROUTE_LABELS, 'code', 'side'],
      registers,
    });
    this.#connectionDuration = new Histogram({
      name: 'wsgate_connection_duration_seconds',
      help: 'Lifetime of upgraded WebSocket connections, from the 101 answer to the close.',
      labelNames: ROUTE_LABELS,
      buckets: CONNECTION_DURATION_BUCKETS,
      registers,
    });
    this.#upstreamConnect = new Histogram({
      name: 'wsgate_upstream_connect_duration_seconds',
      help: 'Time to open a connection to a backend endpoint (TCP, plus TLS with upstream-tls), per attempt.',
      labelNames: ['namespace', 'service'],
      buckets: UPSTREAM_CONNECT_BUCKETS,
      registers,
    });
    new Counter({
      name: 'wsgate_bytes_total',
      help:
        'Wire bytes relayed after the handshake; direction is upstream (toward the backend) or downstream ' +
        '(toward the client).',
      labelNames: [...ROUTE_LABELS, 'direction'],
      registers,
      collect() {
        this.reset();
        for (const entry of routes.values()) {
          this.inc({ ...entry.labels, direction: 'upstream' }, entry.traffic.bytesUp);
          this.inc({ ...entry.labels, direction: 'downstream' }, entry.traffic.bytesDown);
        }
      },
    });
    new Counter({
      name: 'wsgate_messages_total',
      help:
        'Whole WebSocket data messages relayed (fragments counted once, control frames not); direction is ' +
        'upstream (toward the backend) or downstream (toward the client).',
      labelNames: [...ROUTE_LABELS, 'direction'],
      registers,
      collect() {
        this.reset();
        for (const entry of routes.values()) {
          this.inc({ ...entry.labels, direction: 'upstream' }, entry.traffic.messagesUp);
          this.inc({ ...entry.labels, direction: 'downstream' }, entry.traffic.messagesDown);
        }
      },
    });
    new Counter({
      name: 'wsgate_ping_timeouts_total',
      help: 'Connections cut because a side did not answer the proxy\'s ping within ping-timeout; side is the silent one (client or upstream).',
      labelNames: [...ROUTE_LABELS, 'side'],
      registers,
      collect() {
        this.reset();
        for (const entry of routes.values()) {
          this.inc({ ...entry.labels, side: 'client' }, entry.longLived.pingTimeoutsClient);
          this.inc({ ...entry.labels, side: 'upstream' }, entry.longLived.pingTimeoutsUpstream);
        }
      },
    });
    new Counter({
      name: 'wsgate_rebalance_closes_total',
      help: 'Connections the proxy closed with 1001 to bring an endpoint back under rebalance-threshold x its pool\'s mean.',
      labelNames: ROUTE_LABELS,
      registers,
      collect() {
        this.reset();
        for (const entry of routes.values()) this.inc({ ...entry.labels }, entry.longLived.rebalanceCloses);
      },
    });
    const endpointConnections = (): readonly UpstreamEndpointConnections[] => this.#endpointConnections();
    new Gauge({
      name: 'wsgate_upstream_connections_active',
      help: 'Open connections per backend endpoint (endpoint: the pod name, else address:port), summed over the pod\'s workers.',
      labelNames: ['namespace', 'service', 'endpoint'],
      registers,
      collect() {
        this.reset();
        for (const { namespace, service, endpoint, count } of endpointConnections()) this.set({ namespace, service, endpoint }, count);
      },
    });
    this.#upstreamEndpoints = new Gauge({
      name: 'wsgate_upstream_endpoints',
      help:
        'Backend endpoints by state: ready (takes new connections), not_ready (keeps its open connections), ' +
        'terminating (being drained), ejected (skipped after failed connects).',
      labelNames: ['namespace', 'service', 'state'],
      registers,
      // Every worker sees the same pools, so a sum would multiply them by the number of workers.
      aggregator: 'max',
      // With a source (the data plane's pools), counted when scraped, not at every reload.
      collect: () => {
        const source = this.#upstreamEndpointsSource;
        if (source !== undefined) this.setUpstreamEndpoints(source());
      },
    });
    this.#configReloads = new Counter({
      name: 'wsgate_config_reloads_total',
      help: 'Config snapshot reloads by result; on failure the snapshot was refused and the previous one stays in effect.',
      labelNames: ['result'],
      registers,
    });
    this.#acceptErrors = new Counter({
      name: 'wsgate_accept_errors_total',
      help:
        'Connections the listeners could not take, by reason (errno in lower case; emfile also for those refused ' +
        'at the file-descriptor budget kept below the limit; other for anything unlisted).',
      labelNames: ['reason'],
      registers,
    });
    this.#lastReloadSuccess = new Gauge({
      name: 'wsgate_config_last_reload_success_timestamp_seconds',
      help: 'Unix time of the last config snapshot applied successfully (0 before the first).',
      registers,
      // The newest across workers: a sum of timestamps means nothing.
      aggregator: 'max',
    });
    this.#lastReloadSuccessful = new Gauge({
      name: 'wsgate_config_last_reload_successful',
      help:
        '1 when the last config snapshot offered was applied (or none was refused yet), 0 while the last one ' +
        'offered is refused and the previous one stays in effect.',
      registers,
      // With workers: 0 when any process still refuses what it was last offered; a sum would count processes.
      aggregator: 'min',
    });
    // Nothing refused yet: an alert on == 0 must not fire while the first snapshot is on its way.
    this.#lastReloadSuccessful.set(1);
    this.#certificateExpiry = new Gauge({
      name: 'wsgate_tls_certificate_expiry_timestamp_seconds',
      help: 'Unix time at which the certificate of a TLS Secret expires (its notAfter).',
      labelNames: ['namespace', 'secret'],
      registers,
      // The soonest across workers: an alert must fire for the oldest certificate still served.
      aggregator: 'min',
    });

    // Both results exist from the start, so increase() sees the first failure.
    this.#configReloads.inc({ result: 'success' }, 0);
    this.#configReloads.inc({ result: 'failure' }, 0);
    // The fd limit is the refusal an alert watches for: present at 0 so increase() sees the first.
    this.#acceptErrors.inc({ reason: 'emfile' }, 0);

    if (options.processMetrics ?? true) {
      collectDefaultMetrics(this.registry);
      // Gauges named like counters (Prometheus' linter rejects them); their per-type twins
      // nodejs_active_handles etc. carry the same numbers.
      for (const name of REDUNDANT_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
      // A pod's file descriptor limit is per process; summing the limits across workers misleads.
      const maxFds = this.registry.getSingleMetric('process_max_fds') as { aggregator?: string } | undefined;
      if (maxFds) maxFds.aggregator = 'max';
    }
  }

  /** The metrics of one Ingress backend; the same object for the same labels while it is known. */
  route(labels: RouteLabels): RouteMetrics {
    const entry = this.#entry(labels);
    // Asked for by a new connection, so the route is in use: if it came back, keep it.
    entry.retired = false;
    return entry;
  }

  /**
   * Where wsgate_upstream_endpoints reads its series at scrape time (the data plane's pools): a
   * reload at thousands of endpoints then costs no gauge updates.
   */
  setUpstreamEndpointsSource(source: () => UpstreamPoolEndpoints[]): void {
    this.#upstreamEndpointsSource = source;
  }

  /** Where wsgate_upstream_connections_active reads its series at scrape time (the data plane). */
  setEndpointConnectionsSource(source: () => readonly UpstreamEndpointConnections[]): void {
    this.#endpointConnections = source;
  }

  /** Undefined labels: the failure came before a route was known (SPEC §9, bounded labels). */
  handshakeFailure(labels: RouteLabels | undefined, reason: FailureReason): void {
    if (labels === undefined) {
      this.#handshakeFailures.inc({ ...EMPTY_ROUTE, reason });
      return;
    }
    const entry = this.#entry(labels);
    entry.failureReasons.add(reason);
    this.#handshakeFailures.inc({ ...entry.labels, reason });
  }

  upstreamConnect(namespace: string, service: string, seconds: number): void {
    const key = labelKey(namespace, service);
    if (!this.#connectSeries.has(key)) this.#connectSeries.set(key, { namespace, service });
    this.#upstreamConnect.observe({ namespace, service }, seconds);
  }

  #controllerSyncErrors: Counter<'kind'> | undefined;

  /**
   * SPEC §9 wsgate_controller_sync_errors_total{kind}: registered by the processes that run the
   * controller (a bare proxy has no such series), on first use.
   */
  controllerSyncErrors(): Counter<'kind'> {
    this.#controllerSyncErrors ??= new Counter({
      name: 'wsgate_controller_sync_errors_total',
      help: 'Failed lists and watches of a kind the controller reads (403 Forbidden, 404 for a missing CRD, 5xx, no answer); each is retried.',
      labelNames: ['kind'],
      registers: [this.registry],
    });
    return this.#controllerSyncErrors;
  }

  /** SPEC §9: a connection refused at accept; `reason` is one of the bounded ACCEPT_ERROR_REASONS. */
  acceptError(reason: string): void {
    this.#acceptErrors.inc({ reason });
  }

  /**
   * The snapshot offered is the one already in effect (no reload, nothing counted): after a refusal,
   * putting the good config back clears wsgate_config_last_reload_successful.
   */
  configUnchanged(): void {
    this.#lastReloadSuccessful.set(1);
  }

  configReload(ok: boolean, now: Date = new Date()): void {
    this.#configReloads.inc({ result: ok ? 'success' : 'failure' });
    if (ok) this.#lastReloadSuccess.set(now.getTime() / 1000);
    this.#lastReloadSuccessful.set(ok ? 1 : 0);
  }

  /**
   * Replaces every wsgate_upstream_endpoints series: services absent from `pools` disappear.
   * Every Ingress (and Service port) routing to a Service has a pool of its own; the metric counts
   * each endpoint of a Service once, however many pools list it.
   */
  setUpstreamEndpoints(pools: UpstreamPoolEndpoints[]): void {
    const services = new Map<string, { namespace: string; service: string; states: Map<string, EndpointGaugeState> }>();
    for (const pool of pools) {
      const key = labelKey(pool.namespace, pool.service);
      let entry = services.get(key);
      if (entry === undefined) {
        entry = { namespace: pool.namespace, service: pool.service, states: new Map() };
        services.set(key, entry);
      }
      for (const { id, state } of pool.endpoints) {
        const known = entry.states.get(id);
        if (known === undefined || STATE_RANK[state] > STATE_RANK[known]) entry.states.set(id, state);
      }
    }
    this.#upstreamEndpoints.reset();
    for (const { namespace, service, states } of services.values()) {
      const counts: EndpointCounts = { ready: 0, not_ready: 0, terminating: 0, ejected: 0 };
      for (const state of states.values()) counts[state] += 1;
      for (const state of ENDPOINT_STATES) {
        this.#upstreamEndpoints.set({ namespace, service, state }, counts[state]);
      }
    }
  }

  /** Replaces every certificate expiry series: Secrets absent from `certs` disappear. */
  setCertificateExpiries(certs: CertificateExpiry[]): void {
    const soonest = new Map<string, { namespace: string; secret: string; seconds: number }>();
    for (const { namespace, secret, notAfter } of certs) {
      const seconds = notAfter.getTime() / 1000;
      if (!Number.isFinite(seconds)) continue;
      const key = labelKey(namespace, secret);
      const known = soonest.get(key);
      if (known === undefined || seconds < known.seconds) soonest.set(key, { namespace, secret, seconds });
    }
    this.#certificateExpiry.reset();
    for (const { namespace, secret, seconds } of soonest.values()) {
      this.#certificateExpiry.set({ namespace, secret }, seconds);
    }
  }

  /**
   * Routes not in `keep` (Ingress backends gone from the snapshot) lose their series once they have
   * no open connection here; until then they keep counting. Connect-duration series of services
   * no kept route uses disappear at once.
   */
  forgetRoutes(keep: RouteLabels[]): void {
    const keptRoutes = new Set<string>();
    const keptServices = new Set<string>();
    for (const labels of keep) {
      keptRoutes.add(labelKey(labels.namespace, labels.ingress, labels.service));
      keptServices.add(labelKey(labels.namespace, labels.service));
    }
    for (const entry of [...this.#routes.values()]) {
      entry.retired = !keptRoutes.has(entry.key);
      if (entry.retired) this.#maybeForget(entry);
    }
    for (const [key, labels] of [...this.#connectSeries]) {
      if (keptServices.has(key)) continue;
      this.#upstreamConnect.remove(labels);
      this.#connectSeries.delete(key);
    }
  }

  #entry(labels: RouteLabels): RouteEntry {
    const key = labelKey(labels.namespace, labels.ingress, labels.service);
    const known = this.#routes.get(key);
    if (known !== undefined) return known;
    const plain = { namespace: labels.namespace, ingress: labels.ingress, service: labels.service };
    const entry = new RouteEntry(plain, key, this.#sink, {
      active: this.#connectionsActive.labels(plain),
      total: this.#connectionsTotal.labels(plain),
      duration: this.#connectionDuration.labels(plain),
    });
    // The series exist from the first sight of the route, so rate() starts from a known zero.
    this.#connectionsActive.inc(plain, 0);
    this.#connectionsTotal.inc(plain, 0);
    this.#routes.set(key, entry);
    return entry;
  }

  readonly #sink: RouteSink = {
    // A handshake in flight while its route left the snapshot can reach 101 after the entry was
    // forgotten: take it back so its series are counted and removed again once it closes.
    opened: (entry) => {
      if (this.#routes.has(entry.key)) return;
      entry.retired = true;
      this.#routes.set(entry.key, entry);
    },
    closeCode: (entry, code, side) => {
      const codeLabel = closeCodeLabel(code);
      const seriesKey = labelKey(codeLabel, side);
      if (!entry.closeLabels.has(seriesKey)) entry.closeLabels.set(seriesKey, { code: codeLabel, side });
      this.#closeCodes.inc({ ...entry.labels, code: codeLabel, side });
    },
    maybeForget: (entry) => this.#maybeForget(entry),
  };

  #maybeForget(entry: RouteEntry): void {
    if (entry.active > 0 || this.#routes.get(entry.key) !== entry) return;
    this.#routes.delete(entry.key);
    const labels = entry.labels;
    this.#connectionsActive.remove(labels);
    this.#connectionsTotal.remove(labels);
    this.#connectionDuration.remove(labels);
    for (const reason of entry.failureReasons) this.#handshakeFailures.remove({ ...labels, reason });
    for (const { code, side } of entry.closeLabels.values()) this.#closeCodes.remove({ ...labels, code, side });
    // wsgate_bytes_total and wsgate_messages_total are rebuilt from #routes at every scrape.
  }
}

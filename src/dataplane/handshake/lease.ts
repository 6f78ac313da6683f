// What one connection holds while it is open, and gives back exactly once whichever way it ends
// (a refusal after admission, a failed connect or exchange, a client gone mid-handshake, or the
// relay's end): its admission slot, its endpoint's open count, its route's open-connection
// metrics and its place in the data plane's connection set.
import type { RouteMetrics } from '../../metrics/metrics.ts';
import type { CloseSide } from '../vocabulary.ts';
import type { DataPlane, ProxiedConnection } from '../state.ts';
import type { EndpointRegistry } from '../upstream/registry.ts';
import type { Admission } from '../admission/admission.ts';

/** How a relayed connection ended, for the route's metrics. */
export interface ConnectionEnd {
  durationSeconds: number;
  code: number;
  side: CloseSide;
}

export class ConnectionLease {
  #admission: { admission: Admission; group: string; clientIp: string } | undefined;
  #endpoint: { registry: EndpointRegistry; key: string } | undefined;
  #opened: RouteMetrics | undefined;
  #tracked: { dataplane: DataPlane; connection: ProxiedConnection } | undefined;

  /** An admission slot granted by `admission.acquire`. */
  holdAdmission(admission: Admission, group: string, clientIp: string): void {
    this.#admission = { admission, group, clientIp };
  }

  /** An open count that connectWithRetries took on `key`. */
  holdEndpoint(registry: EndpointRegistry, key: string): void {
    this.#endpoint = { registry, key };
  }

  /** The connection reached 101: it counts as open on its route until end(). */
  opened(metrics: RouteMetrics): void {
    metrics.opened();
    this.#opened = metrics;
  }

  /** The connection is in the data plane's set (drain, shutdown) until it ends. */
  track(dataplane: DataPlane, connection: ProxiedConnection): void {
    dataplane.track(connection);
    this.#tracked = { dataplane, connection };
  }

  /** The connection ended before or without a relay: everything held is given back. */
  release(): void {
    this.end(undefined);
  }

  /** The relay ended (or, with undefined, nothing was relayed); each duty runs at most once. */
  end(relayed: ConnectionEnd | undefined): void {
    const endpoint = this.#endpoint;
    this.#endpoint = undefined;
    endpoint?.registry.connectionClosed(endpoint.key);
    const admission = this.#admission;
    this.#admission = undefined;
    admission?.admission.release(admission.group, admission.clientIp);
    const opened = this.#opened;
    this.#opened = undefined;
    // A route's open count only rises at 101, and a relay always ends with a result.
    if (opened && relayed) opened.closed(relayed.durationSeconds, relayed.code, relayed.side);
    const tracked = this.#tracked;
    this.#tracked = undefined;
    tracked?.dataplane.untrack(tracked.connection);
  }
}

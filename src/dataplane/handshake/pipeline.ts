// The handshake of SPEC §7, step by step in the table's order: the client's checks, the route,
// the route's policy, admission, connect, the upstream exchange, then the relay and, when the
// connection ends, its access line. The first step that refuses answers; whatever the connection
// holds by then is in its ConnectionLease, given back once.
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { logger } from '../../common/log.ts';
import type { RouteMetrics } from '../../metrics/metrics.ts';
import type { FailureReason } from '../vocabulary.ts';
import type { Admission } from '../admission/admission.ts';
import type { CompiledPool, CompiledRoute } from '../compile.ts';
import { routeMetricsOf, type DataPlane, type ProxiedConnection, type ServedSnapshot } from '../state.ts';
import { Relay, type RelayOptions, type RelayResult } from '../relay/relay.ts';
import { longLivedRelayOptions } from '../relay/long-lived-options.ts';
import { connectWithRetries, describeConnectError } from '../upstream/connect.ts';
import { upstreamHandshake, type UpstreamOutcome } from '../upstream/exchange.ts';
import type { EndpointRef } from '../upstream/types.ts';
import { headWithSetCookie } from '../upstream/affinity.ts';
import { checkHandshake, resolveRequestTarget, type ResolvedTarget } from './checks.ts';
import { ConnectionLease } from './lease.ts';
import { relayRejection, sendRejection, type Answer, type Rejection } from './rejection.ts';
import { normalizeHost, type RouteRequest } from './router.ts';
import { gatewayRedirect, modifyHeaderList, modifyPath, modifyResponseHead, pickWeighted } from './gateway-filters.ts';

const accessLog = logger('access');

/**
 * What the steps read of a request head: node:http's IncomingMessage has these fields, and so
 * has the TLS listener's own parse of a clean upgrade (listen/upgrade-head.ts).
 */
export interface RequestHead {
  method?: string | undefined;
  url?: string | undefined;
  httpVersion: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
}

/** One request on its way through the steps; `hostKey` is the Host normalised, once. */
export interface HandshakeRequest {
  req: RequestHead;
  socket: Socket;
  /** Bytes the client sent after its head. */
  head: Buffer;
  proto: 'http' | 'https';
  started: number;
  clientIp: string;
  host: string;
  hostKey: string;
  path: string;
  /** The normalised origin-form target the upstream receives. */
  url: string;
  hostOverride?: string;
}

type Upgraded = Extract<UpstreamOutcome, { kind: 'upgraded' }>;

/** Step 2 (and the plain HTTP path): the route for the request's host and path, or 404. */
export function matchRoute(current: ServedSnapshot | undefined, hostKey: string, host: string, path: string, request?: RouteRequest): CompiledRoute | Rejection {
  const route = current?.router.match(hostKey, path, request);
  if (route === undefined) return { status: 404, reason: 'no_route', message: `no route for ${host}${path}` };
  // Gateway API weights: each new connection draws its backend.
  return route.split === undefined ? route : pickWeighted(route.split);
}

/** Gateway API RequestRedirect (after ssl-redirect): the route's own redirect, or undefined. */
export function routeRedirect(route: CompiledRoute, proto: 'http' | 'https', hostKey: string, url: string): Answer | Rejection | undefined {
  const redirect = route.route.redirect;
  if (redirect === undefined) return undefined;
  return gatewayRedirect(route.route, redirect, proto, hostKey, url) ?? { status: 400, reason: 'bad_request', message: `the Host ${JSON.stringify(hostKey)} cannot be redirected` };
}

/** Step 3: allowed-source-ranges, then allowed-origins (a request without Origin passes). */
export function checkRoutePolicy(route: CompiledRoute, clientIp: string, origin: string | undefined): Rejection | undefined {
  if (!route.sourceAllowed(clientIp)) return { status: 403, reason: 'source_forbidden', message: `${clientIp} is not in allowed-source-ranges` };
  if (origin !== undefined && !route.originAllowed(origin)) return { status: 403, reason: 'origin_forbidden', message: `origin ${origin} is not allowed` };
  return undefined;
}

// A host fit to put in a Location: a name or an IPv6 literal, as normalizeHost left it. A
// catch-all route matches any Host, so anything else (`a@b`, `a/b`, `a\b`) would let a client
// shape where the redirect points.
const REDIRECT_HOST = /^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])$/;

/**
 * Step 2b (SPEC §6 ssl-redirect): a plain-HTTP request on a route with httpsRedirect gets 308 to
 * https://HOST + the normalised path and query. No port: the HTTPS listener (8443) is reached
 * by clients on 443 through the Service, as with ingress-nginx. Undefined when not redirected.
 */
export function httpsRedirect(route: CompiledRoute, proto: 'http' | 'https', hostKey: string, url: string): Answer | Rejection | undefined {
  if (proto !== 'http' || !route.httpsRedirect) return undefined;
  if (!REDIRECT_HOST.test(hostKey)) return { status: 400, reason: 'bad_request', message: `the Host ${JSON.stringify(hostKey)} cannot be redirected to https` };
  const location = `https://${hostKey}${url}`;
  return { status: 308, message: `redirecting to ${location}`, headers: { Location: location } };
}

export function routeName(route: CompiledRoute | undefined): string | undefined {
  if (!route) return undefined;
  const { namespace, ingress } = route.labels;
  return ingress ? `${namespace}/${ingress}` : `${route.host || '*'}${route.path}`;
}

/** A Gateway API backendRef that does not resolve: 500 (HTTPRoute spec), counted as `no_endpoints`. */
export function invalidBackendRejection(pool: CompiledPool): Rejection {
  return { status: 500, reason: 'no_endpoints', message: `backend ${pool.service} of this route is invalid (see the HTTPRoute's status)` };
}

export function isRejection<T extends object>(value: T | Rejection): value is Rejection {
  return 'reason' in value;
}

export class HandshakePipeline {
  readonly #dataplane: DataPlane;
  readonly #admission: Admission;
  readonly #clientAddress: (socket: Socket) => string;

  constructor(dataplane: DataPlane, admission: Admission, clientAddress: (socket: Socket) => string) {
    this.#dataplane = dataplane;
    this.#admission = admission;
    this.#clientAddress = clientAddress;
  }

  /** A handshake arriving on the `upgrade` event (or on `request` without Connection: upgrade). */
  async handle(req: RequestHead, socket: Socket, head: Buffer, proto: 'http' | 'https'): Promise<void> {
    socket.on('error', ignore);
    const target = resolveRequestTarget(req.url, req.rawHeaders);
    const request = this.#begin(req, socket, head, proto, target);
    const invalid = isRejection(target) ? target : checkHandshake(req.method, req.httpVersion, req.headers);
    if (invalid) return this.#refuse(request, undefined, invalid);
    // The snapshot the route came from: its metrics are the ones this connection counts in.
    const served = this.#dataplane.current;
    const route = matchRoute(served, request.hostKey, request.host, request.path, { headers: req.headers, target: request.url, proto });
    if (isRejection(route)) return this.#refuse(request, undefined, route);
    // Before the policy checks, as ingress-nginx does: every plain-HTTP request on such a route is
    // sent to HTTPS, where the same source and origin checks then run; on plain HTTP the proxy
    // neither says more about the policy nor lets a byte through to the backend.
    const redirect = httpsRedirect(route, proto, request.hostKey, request.url) ?? routeRedirect(route, proto, request.hostKey, request.url);
    if (redirect !== undefined) return isRejection(redirect) ? this.#refuse(request, route, redirect) : this.#redirect(request, route, redirect);
    const forbidden = checkRoutePolicy(route, request.clientIp, req.headers.origin);
    if (forbidden) return this.#refuse(request, route, forbidden);

    const lease = new ConnectionLease();
    const refusedAdmission = await this.#admit(request, route, lease);
    if (refusedAdmission) return this.#refuse(request, route, refusedAdmission);
    const upstream = await this.#connect(request, route, lease);
    if (upstream === undefined) return lease.release();
    if (isRejection(upstream)) {
      lease.release();
      return this.#refuse(request, route, upstream);
    }
    const outcome = await this.#exchange(request, route, upstream.socket, upstream.endpoint);
    if (outcome.kind === 'failed') {
      lease.release();
      return this.#refuse(request, route, outcome);
    }
    if (outcome.kind === 'rejected') {
      lease.release();
      return this.#relayUpstreamRefusal(request, route, outcome);
    }
    if (socket.destroyed) {
      outcome.socket.destroy();
      return lease.release();
    }
    // A route was matched, so there was a snapshot to match it in.
    this.#startRelay(request, route, routeMetricsOf(served!, route), lease, outcome);
  }

  /** What every step and the access line share; the Host is normalised here and only here. */
  #begin(req: RequestHead, socket: Socket, head: Buffer, proto: 'http' | 'https', target: ResolvedTarget | Rejection): HandshakeRequest {
    // A refused target still gets an access line: it shows what the client sent.
    const resolved = isRejection(target) ? { host: req.headers.host ?? '', path: req.url ?? '', url: req.url ?? '' } : target;
    const request: HandshakeRequest = {
      req, socket, head, proto,
      started: performance.now(),
      clientIp: this.#clientAddress(socket),
      host: resolved.host,
      hostKey: normalizeHost(resolved.host),
      path: resolved.path,
      url: resolved.url,
    };
    if ('hostOverride' in resolved && resolved.hostOverride !== undefined) request.hostOverride = resolved.hostOverride;
    return request;
  }

  /**
   * Step 4: a slot under max-connections / max-connections-per-client. Every connection is
   * counted, limited or not, so a reload that adds a limit sees those open.
   */
  async #admit(request: HandshakeRequest, route: CompiledRoute, lease: ConnectionLease): Promise<Rejection | undefined> {
    const verdict = await this.#admission.acquire(route.limitGroup, route.maxConnections, request.clientIp, route.maxConnectionsPerClient);
    if (verdict !== 'ok') return { status: verdict === 'max-connections' ? 503 : 429, reason: 'limit', message: `${verdict} reached` };
    lease.holdAdmission(this.#admission, route.limitGroup, request.clientIp);
    return undefined;
  }

  /**
   * Step 5: a ready endpoint, connected within connect-timeout, retried on others. Undefined when
   * the client left meanwhile (nothing to answer).
   */
  async #connect(request: HandshakeRequest, route: CompiledRoute, lease: ConnectionLease): Promise<{ socket: Socket; endpoint: EndpointRef } | Rejection | undefined> {
    const pool = route.pool;
    // Gateway API (HTTPBackendRef): a backendRef that does not resolve answers 500; the reason stays SPEC §7's.
    if (pool.invalidBackend) return invalidBackendRejection(pool);
    const noEndpoints: Rejection = { status: 503, reason: 'no_endpoints', message: `no ready endpoint in ${pool.service}` };
    if (!pool.endpoints.hasReadyEndpoint()) return noEndpoints;
    if (pool.endpoints.allReadyFull()) return { status: 503, reason: 'limit', message: `every ready endpoint of ${pool.service} holds max-connections-per-endpoint` };
    const registry = this.#dataplane.registry;
    const target = {
      pool: pool.endpoints,
      registry,
      connectTimeoutMs: pool.connectTimeoutMs,
      upstreamTls: pool.upstreamTls,
      ...(pool.upstreamVerify === undefined ? {} : { upstreamVerify: pool.upstreamVerify }),
      onConnected: (seconds: number) => this.#dataplane.metrics.upstreamConnect(pool.namespace, pool.service, seconds),
    };
    const ctx = { clientIp: request.clientIp, headers: request.req.headers, url: request.url };
    const connected = await connectWithRetries(target, ctx, () => request.socket.destroyed);
    if (!connected.socket || !connected.endpoint) {
      if (connected.attempts === 0) return noEndpoints;
      const error = describeConnectError(connected.lastError, pool.upstreamVerify);
      return { status: 502, reason: 'upstream_connect', message: `could not connect to ${pool.service} (${connected.attempts} attempts): ${error}` };
    }
    lease.holdEndpoint(registry, connected.endpoint.key);
    if (request.socket.destroyed) {
      connected.socket.destroy();
      return undefined;
    }
    return { socket: connected.socket, endpoint: connected.endpoint };
  }

  /** Step 6: the client's handshake to the endpoint, and its answer within handshake-timeout. */
  #exchange(request: HandshakeRequest, route: CompiledRoute, socket: Socket, endpoint: EndpointRef): Promise<UpstreamOutcome> {
    const { req, clientIp, proto } = request;
    // Gateway API RequestHeaderModifier and URLRewrite change what the upstream is sent.
    const { requestHeaders, rewrite } = route.route;
    const rawHeaders = requestHeaders === undefined ? req.rawHeaders : modifyHeaderList(req.rawHeaders, requestHeaders);
    const url = rewrite?.path === undefined ? request.url : modifyPath(request.url, rewrite.path, route.route);
    const hostOverride = rewrite?.hostname ?? request.hostOverride;
    const client = { method: req.method ?? 'GET', url, rawHeaders, clientIp, proto, hostOverride };
    return upstreamHandshake(socket, endpoint, client, route.pool.handshakeTimeoutMs);
  }

  /** Step 6, refused: the backend's own answer goes to the client. */
  #relayUpstreamRefusal(request: HandshakeRequest, route: CompiledRoute, outcome: Extract<UpstreamOutcome, { kind: 'rejected' }>): void {
    this.#dataplane.metrics.handshakeFailure(route.labels, 'upstream_rejected');
    relayRejection(outcome.responseHead, outcome.afterHead, outcome.socket, request.socket, route.pool.handshakeTimeoutMs);
    this.#logFailure(request, route, outcome.status, 'upstream_rejected', undefined, outcome.endpoint.key);
  }

  /** Step 7: 101 to the client; from here on the bytes are the relay's. */
  #startRelay(request: HandshakeRequest, route: CompiledRoute, metrics: RouteMetrics, lease: ConnectionLease, outcome: Upgraded): void {
    const { socket } = request;
    const responseHeaders = route.route.responseHeaders;
    const setCookie = route.pool.endpoints.affinity?.setCookieFor(outcome.endpoint, request.req.headers);
    const head = setCookie === undefined ? outcome.responseHead : headWithSetCookie(outcome.responseHead, setCookie);
    socket.write(responseHeaders === undefined ? head : modifyResponseHead(head, responseHeaders));
    lease.opened(metrics);
    const options = { maxMessageSize: route.maxMessageSize, idleTimeoutMs: route.pool.idleTimeoutMs, traffic: metrics.traffic, ...longLivedRelayOptions(route.longLived, metrics) };
    // What the access line needs, copied out: the closures below must not hold the request (its
    // IncomingMessage, headers and head buffer), the route or the upstream's response head for
    // the connection's lifetime (issue 9: memory per idle connection).
    const line: ConnectionLine = { client: request.clientIp, host: request.host, path: request.path, route: routeName(route), upstream: outcome.endpoint.key, started: request.started };
    const relay = relayFor(socket, outcome.socket, options, lease, line);
    const connection: ProxiedConnection = { relay, poolName: route.pool.name, endpointKey: outcome.endpoint.key, drainTimeoutMs: route.pool.drainTimeoutMs, onRebalance: () => metrics.rebalanceClosed() };
    lease.track(this.#dataplane, connection);
    relay.start(request.head, outcome.afterHead);
  }

  #refuse(request: HandshakeRequest, route: CompiledRoute | undefined, rejection: Rejection): void {
    this.#dataplane.metrics.handshakeFailure(route?.labels, rejection.reason);
    sendRejection(request.socket, rejection);
    this.#logFailure(request, route, rejection.status, rejection.reason, rejection.message);
  }

  /** A redirect is an answer, not a handshake failure: no failure counted, the access line says 308. */
  #redirect(request: HandshakeRequest, route: CompiledRoute, answer: Answer): void {
    sendRejection(request.socket, answer);
    const entry = { client: request.clientIp, host: request.host, path: request.path, route: routeName(route), status: answer.status, location: answer.headers?.Location };
    accessLog.info({ ...entry, durationMs: Math.round(performance.now() - request.started) }, 'redirected to https');
  }

  #logFailure(request: HandshakeRequest, route: CompiledRoute | undefined, status: number, reason: FailureReason, message?: string, upstream?: string): void {
    const entry = { client: request.clientIp, host: request.host, path: request.path, route: routeName(route), upstream, status, reason, message };
    accessLog.info({ ...entry, durationMs: Math.round(performance.now() - request.started) }, 'handshake failed');
  }
}

function ignore(): void {}

/** The fields of a connection's access line known at the 101. */
interface ConnectionLine {
  client: string;
  host: string;
  path: string;
  route: string | undefined;
  upstream: string;
  started: number;
}

/** The relay of one connection; its end closure holds only the lease and the line. */
function relayFor(client: Socket, upstream: Socket, options: RelayOptions, lease: ConnectionLease, line: ConnectionLine): Relay {
  return new Relay(client, upstream, options, (result: RelayResult) => {
    lease.end({ durationSeconds: result.durationMs / 1000, code: result.code, side: result.side });
    logConnection(line, result);
  });
}

/** Step 8: one access line per connection end (SPEC §10). */
function logConnection(line: ConnectionLine, result: RelayResult): void {
  accessLog.info({
    client: line.client,
    host: line.host,
    path: line.path,
    route: line.route,
    upstream: line.upstream,
    status: 101,
    durationMs: Math.round(performance.now() - line.started),
    bytesUp: result.bytesUp,
    bytesDown: result.bytesDown,
    messagesUp: result.messagesUp,
    messagesDown: result.messagesDown,
    closeCode: result.code,
    closeSide: result.side,
  }, 'connection closed');
}

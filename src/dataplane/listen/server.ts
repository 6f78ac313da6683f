// The listeners and the handshake pipeline: every check of SPEC §7 in order, then the upstream
// handshake, then the relay. Plain HTTP requests go to httpproxy.ts on the same routes.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { logger } from '../../common/log.ts';
import type { RouteLabels } from '../../metrics/metrics.ts';
import type { FailureReason } from '../vocabulary.ts';
import type { CompiledRoute, DataPlane, ProxiedConnection } from '../state.ts';
import { checkHandshake, isWebSocketRequest, rejectionResponse, requestPath, type Rejection } from '../handshake/checks.ts';
import { isHopByHop } from '../handshake/headers.ts';
import { proxyHttpRequest } from '../handshake/http-proxy.ts';
import { clientAddressOf, requireProxyProtocol, type ProxyRejectKind } from './proxyprotocol.ts';
import { Relay, type RelayResult } from '../relay/relay.ts';
import { normalizeHost } from '../handshake/router.ts';
import { connectWithRetries, upstreamHandshake, type UpstreamOutcome } from '../upstream/connect.ts';

const accessLog = logger('access');
const log = logger('listener');

/** SPEC §7: a request head over 16 KiB gets 431. */
export const MAX_REQUEST_HEAD_BYTES = 16 * 1024;

export type AdmissionResult = 'ok' | 'max-connections' | 'max-connections-per-client';

/** Connection limits, local in one process or held by the cluster primary for several workers. */
export interface Admission {
  acquire(group: string, maxConnections: number | undefined, clientIp: string, maxPerClient: number | undefined): AdmissionResult | Promise<AdmissionResult>;
  release(group: string, clientIp: string): void;
}

export interface ListenerOptions {
  httpPort: number;
  httpsPort: number;
  bindAddress: string;
  headerTimeoutMs: number;
  admission: Admission;
  /** The client address of a socket: the TCP peer, or the PROXY protocol source. */
  clientAddress?: (socket: Socket) => string;
  /** SPEC §3 --proxy-protocol: every connection must open with a PROXY header. */
  proxyProtocol?: { trustedCidrs: string[] };
}

export interface Listeners {
  http: http.Server;
  https: https.Server;
  httpPort: number;
  httpsPort: number;
  /** Stops accepting; open connections are left to the caller. */
  close(): Promise<void>;
}

export function peerAddress(socket: Socket): string {
  const address = socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

interface HandshakeLog {
  client: string;
  host: string;
  path: string;
  route?: string;
  upstream?: string;
  status: number;
  reason?: FailureReason;
  durationMs: number;
  message?: string;
}

export class HandshakePipeline {
  private readonly dataplane: DataPlane;
  private readonly admission: Admission;
  private readonly clientAddress: (socket: Socket) => string;

  constructor(dataplane: DataPlane, admission: Admission, clientAddress: (socket: Socket) => string = peerAddress) {
    this.dataplane = dataplane;
    this.admission = admission;
    this.clientAddress = clientAddress;
  }

  /** A handshake arriving on the `upgrade` event (or on `request` without Connection: upgrade). */
  async handle(req: IncomingMessage, socket: Socket, head: Buffer, proto: 'http' | 'https'): Promise<void> {
    const started = performance.now();
    socket.on('error', ignore);
    const clientIp = this.clientAddress(socket);
    const host = req.headers.host ?? '';
    const path = requestPath(req.url);
    const base = { client: clientIp, host, path };
    const reject = (route: CompiledRoute | undefined, rejection: Rejection): void => {
      this.dataplane.metrics.handshakeFailure(route?.labels, rejection.reason);
      if (!socket.destroyed) socket.end(rejectionResponse(rejection));
      this.logHandshake({ ...base, route: routeName(route), status: rejection.status, reason: rejection.reason, message: rejection.message, durationMs: performance.now() - started });
    };

    const invalid = checkHandshake(req.method, req.httpVersion, req.headers);
    if (invalid) return reject(undefined, invalid);

    const current = this.dataplane.current;
    const route = current?.router.match(normalizeHost(host), path);
    if (!route) return reject(undefined, { status: 404, reason: 'no_route', message: `no route for ${host}${path}` });
    if (!route.sourceAllowed(clientIp)) {
      return reject(route, { status: 403, reason: 'source_forbidden', message: `${clientIp} is not in allowed-source-ranges` });
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !route.originAllowed(origin)) {
      return reject(route, { status: 403, reason: 'origin_forbidden', message: `origin ${origin} is not allowed` });
    }

    // Every connection is counted, limited or not, so a reload that adds a limit sees those open.
    const verdict = await this.admission.acquire(route.limitGroup, route.maxConnections, clientIp, route.maxConnectionsPerClient);
    if (verdict !== 'ok') {
      const status = verdict === 'max-connections' ? 503 : 429;
      return reject(route, { status, reason: 'limit', message: `${verdict} reached` });
    }
    let admitted = true;
    const releaseAdmission = (): void => {
      if (admitted) this.admission.release(route.limitGroup, clientIp);
      admitted = false;
    };

    const settings = route.pool;
    if (!settings.pool.hasReadyEndpoint()) {
      releaseAdmission();
      return reject(route, { status: 503, reason: 'no_endpoints', message: `no ready endpoint in ${settings.service}` });
    }

    const ctx = { clientIp, headers: req.headers, url: req.url ?? '/' };
    const target = {
      pool: settings.pool,
      registry: this.dataplane.registry,
      connectTimeoutMs: settings.connectTimeoutMs,
      handshakeTimeoutMs: settings.handshakeTimeoutMs,
      upstreamTls: settings.upstreamTls,
      onConnected: (seconds: number) => this.dataplane.metrics.upstreamConnect(settings.namespace, settings.service, seconds),
    };
    const connected = await connectWithRetries(target, ctx, () => socket.destroyed);
    if (!connected.socket || !connected.endpoint) {
      releaseAdmission();
      if (connected.attempts === 0) return reject(route, { status: 503, reason: 'no_endpoints', message: `no ready endpoint in ${settings.service}` });
      return reject(route, { status: 502, reason: 'upstream_connect', message: `could not connect to ${settings.service} (${connected.attempts} attempts): ${connected.lastError?.message ?? 'unknown error'}` });
    }
    const registry = this.dataplane.registry;
    const endpointKey = connected.endpoint.key;
    registry.connectionOpened(endpointKey);
    const abandon = (): void => {
      registry.connectionClosed(endpointKey);
      releaseAdmission();
    };
    if (socket.destroyed) {
      connected.socket.destroy();
      abandon();
      return;
    }

    const outcome: UpstreamOutcome = await upstreamHandshake(
      connected.socket,
      connected.endpoint,
      { method: req.method ?? 'GET', url: req.url ?? '/', rawHeaders: req.rawHeaders, clientIp, proto },
      settings.handshakeTimeoutMs,
    );
    if (outcome.kind === 'failed') {
      abandon();
      return reject(route, { status: outcome.status, reason: outcome.reason, message: outcome.message });
    }
    if (outcome.kind === 'rejected') {
      abandon();
      this.dataplane.metrics.handshakeFailure(route.labels, 'upstream_rejected');
      relayRejection(outcome.responseHead, outcome.head, outcome.socket, socket, settings.handshakeTimeoutMs);
      this.logHandshake({ ...base, route: routeName(route), upstream: outcome.endpoint.key, status: outcome.status, reason: 'upstream_rejected', durationMs: performance.now() - started });
      return;
    }
    if (socket.destroyed) {
      outcome.socket.destroy();
      abandon();
      return;
    }

    // 101: from here on the bytes are the relay's.
    const upstream = outcome.socket;
    const endpoint = outcome.endpoint;
    socket.write(outcome.responseHead);
    route.metrics.opened();
    const relay = new Relay(
      socket,
      upstream,
      { maxMessageSize: route.maxMessageSize, idleTimeoutMs: settings.idleTimeoutMs, traffic: route.metrics.traffic },
      (result: RelayResult) => {
        abandon();
        route.metrics.closed(result.durationMs / 1000, result.code, result.side);
        this.dataplane.untrack(connection);
        accessLog.info({
          client: clientIp,
          host,
          path,
          route: routeName(route),
          upstream: endpoint.key,
          status: 101,
          durationMs: Math.round(performance.now() - started),
          bytesUp: result.bytesUp,
          bytesDown: result.bytesDown,
          messagesUp: result.messagesUp,
          messagesDown: result.messagesDown,
          closeCode: result.code,
          closeSide: result.side,
        }, 'connection closed');
      },
    );
    // onEnd runs only after start(), by which time `connection` exists.
    const connection: ProxiedConnection = { relay, poolName: settings.name, endpointKey: endpoint.key };
    this.dataplane.track(connection);
    relay.start(head, outcome.head);
  }

  private logHandshake(entry: HandshakeLog): void {
    accessLog.info({ ...entry, durationMs: Math.round(entry.durationMs) }, 'handshake failed');
  }
}

function ignore(): void {}

function routeName(route: CompiledRoute | undefined): string | undefined {
  if (!route) return undefined;
  const { namespace, ingress } = route.labels;
  return ingress ? `${namespace}/${ingress}` : `${route.host || '*'}${route.path}`;
}

// The backend refused the upgrade: its answer goes to the client as it came (SPEC §7), body
// bytes verbatim whatever their framing, and then the connection closes (Connection: close). A
// Content-Length body ends the exchange when complete; any other ends when the backend closes or
// has been quiet for the handshake timeout (a chunked body's end is the client's to parse).
// The body passes verbatim, so the fields that describe its framing pass with it.
const BODY_FRAMING = new Set(['transfer-encoding', 'trailer']);

function relayRejection(responseHead: Buffer, rest: Buffer, upstream: Socket, client: Socket, quietMs: number): void {
  const lines = responseHead.toString('latin1').split('\r\n');
  let head = `${lines[0]}\r\n`;
  let remaining = -1;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const name = line.slice(0, line.indexOf(':')).trim().toLowerCase();
    if (isHopByHop(name) && !BODY_FRAMING.has(name)) continue;
    if (name === 'content-length') remaining = Number(line.slice(line.indexOf(':') + 1).trim());
    head += `${line}\r\n`;
  }
  const finish = (): void => {
    upstream.destroy();
    if (!client.destroyed) client.end();
  };
  const forward = (chunk: Buffer): void => {
    const part = remaining >= 0 ? chunk.subarray(0, remaining) : chunk;
    if (part.length > 0 && !client.write(part)) upstream.pause();
    if (remaining >= 0) {
      remaining -= part.length;
      if (remaining === 0) finish();
    }
  };
  client.write(Buffer.from(`${head}Connection: close\r\n\r\n`, 'latin1'));
  client.on('drain', () => upstream.resume());
  client.on('close', () => upstream.destroy());
  upstream.on('error', finish);
  upstream.on('end', finish);
  upstream.on('close', finish);
  upstream.setTimeout(quietMs, finish);
  upstream.on('data', forward);
  if (remaining === 0) return finish();
  if (rest.length > 0) forward(rest);
  upstream.resume();
}

/** What the HTTP parser refused before a handler saw the request (SPEC §7 first rows). */
function onClientError(dataplane: DataPlane, error: NodeJS.ErrnoException, socket: Socket, clientAddress: (socket: Socket) => string): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const code = error.code ?? '';
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    socket.destroy();
    return;
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT') {
    dataplane.metrics.handshakeFailure(undefined, 'timeout');
    accessLog.info({ client: clientAddress(socket), status: 0, reason: 'timeout' }, 'request head not complete in time: connection closed');
    socket.destroy();
    return;
  }
  const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  dataplane.metrics.handshakeFailure(undefined, 'bad_request');
  accessLog.info({ client: clientAddress(socket), status, reason: 'bad_request', error: code }, 'malformed request');
  socket.end(rejectionResponse({ status, message: status === 431 ? 'request head too large' : 'malformed request' }));
}

export async function startListeners(dataplane: DataPlane, options: ListenerOptions): Promise<Listeners> {
  const clientAddress = options.clientAddress ?? (options.proxyProtocol ? clientAddressOf : peerAddress);
  const pipeline = new HandshakePipeline(dataplane, options.admission, clientAddress);
  const serverOptions: http.ServerOptions = {
    maxHeaderSize: MAX_REQUEST_HEAD_BYTES,
    headersTimeout: options.headerTimeoutMs,
    // Bodies of plain requests are streamed for as long as they take; only the head is timed.
    requestTimeout: 0,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(options.headerTimeoutMs / 4))),
    // Only a WebSocket upgrade is taken over; any other Upgrade (h2c) is ordinary HTTP/1.1 (SPEC §7).
    shouldUpgradeCallback: (req: IncomingMessage) => isWebSocketRequest(req.headers),
    // A handshake without Host gets our 400 and its metric, not Node's silent one.
    requireHostHeader: false,
  };

  const onRequest = (proto: 'http' | 'https') => (req: IncomingMessage, res: ServerResponse) => {
    if (isWebSocketRequest(req.headers)) {
      // Upgrade: websocket without Connection: upgrade: still a handshake, and a bad one.
      res.detachSocket(req.socket);
      void pipeline.handle(req, req.socket, Buffer.alloc(0), proto).catch((error) => onPipelineError(error, req.socket));
      return;
    }
    proxyHttpRequest(dataplane, req, res, proto, clientAddress(req.socket));
  };
  const onUpgrade = (proto: 'http' | 'https') => (req: IncomingMessage, socket: Socket, head: Buffer) => {
    void pipeline.handle(req, socket, head, proto).catch((error) => onPipelineError(error, socket));
  };

  const plain = http.createServer(serverOptions);
  plain.on('request', onRequest('http'));
  plain.on('upgrade', onUpgrade('http'));
  plain.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => onClientError(dataplane, error, socket, clientAddress));

  const secure = https.createServer({ ...serverOptions, ...dataplane.certificates.serverOptions(), handshakeTimeout: options.headerTimeoutMs });
  // A snapshot's default certificate must reach clients without SNI too, which no SNI callback sees.
  dataplane.certificates.attach(secure);
  secure.on('request', onRequest('https'));
  secure.on('upgrade', onUpgrade('https'));
  secure.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => onClientError(dataplane, error, socket, clientAddress));
  secure.on('tlsClientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET') return;
    dataplane.metrics.handshakeFailure(undefined, 'tls');
    accessLog.info({ client: clientAddress(socket), status: 0, reason: 'tls', error: error.code ?? error.message }, 'TLS handshake failed');
  });

  if (options.proxyProtocol) {
    if (options.proxyProtocol.trustedCidrs.length === 0) {
      log.warn('--proxy-protocol without --proxy-protocol-trusted-cidrs: headers are required but no source address is believed');
    }
    const proxyOptions = { trustedCidrs: options.proxyProtocol.trustedCidrs, headerTimeoutMs: options.headerTimeoutMs };
    const onProxyReject = (socket: Socket, reason: string, kind: ProxyRejectKind): void => {
      const failure = kind === 'timeout' ? 'timeout' : 'bad_request';
      dataplane.metrics.handshakeFailure(undefined, failure);
      accessLog.info({ client: peerAddress(socket), status: 0, reason: failure, error: reason }, 'PROXY protocol header refused: connection closed');
    };
    // After every other 'connection' listener: the header is read before they see the socket.
    requireProxyProtocol(plain, proxyOptions, onProxyReject);
    requireProxyProtocol(secure, proxyOptions, onProxyReject);
  }

  await Promise.all([listen(plain, options.httpPort, options.bindAddress), listen(secure, options.httpsPort, options.bindAddress)]);
  const httpPort = (plain.address() as AddressInfo).port;
  const httpsPort = (secure.address() as AddressInfo).port;
  log.info({ httpPort, httpsPort, address: options.bindAddress }, 'listening');
  return {
    http: plain,
    https: secure,
    httpPort,
    httpsPort,
    close: async () => {
      await Promise.all([closeServer(plain), closeServer(secure)]);
    },
  };
}

function onPipelineError(error: unknown, socket: Socket): void {
  log.error({ err: error }, 'handshake pipeline failed');
  if (!socket.destroyed) socket.end(rejectionResponse({ status: 500, message: 'internal error' }));
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}

/**
 * Stops accepting at once; idle keep-alive connections of plain HTTP are closed. Upgraded
 * connections stay: the shutdown sequence closes them with 1001 itself.
 */
async function closeServer(server: http.Server): Promise<void> {
  if (!server.listening) return;
  server.close();
  server.closeIdleConnections();
}

export type { RouteLabels };

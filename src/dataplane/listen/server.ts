// The listeners (SPEC §3 ports, §7 header timeout and head size): plain and TLS HTTP/1.1 servers
// that hand WebSocket handshakes to the pipeline (handshake/pipeline.ts), other requests to
// handshake/http-proxy.ts, and answer what Node's parser refused.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { logger } from '../../common/log.ts';
import type { Admission } from '../admission/admission.ts';
import type { DataPlane } from '../state.ts';
import { isWebSocketRequest } from '../handshake/checks.ts';
import { proxyHttpRequest } from '../handshake/http-proxy.ts';
import { HandshakePipeline, type RequestHead } from '../handshake/pipeline.ts';
import { parserErrorAnswer, sendRejection } from '../handshake/rejection.ts';
import { watchAcceptErrors } from './accept-errors.ts';
import { serveFastHandshakes } from './fast-handshake.ts';
import { armHeadDeadlines, headArrived } from './head-deadline.ts';
import { clientAddressOf, requireProxyProtocol, type ProxyRejectKind } from './proxyprotocol.ts';

const accessLog = logger('access');
const log = logger('listener');

/** SPEC §7: a request head over 16 KiB gets 431. */
export const MAX_REQUEST_HEAD_BYTES = 16 * 1024;

// Where runtime/ finds the admission interface it implements over IPC.
export type { Admission, AdmissionResult } from '../admission/admission.ts';

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

/** What the HTTP parser refused before a handler saw the request (SPEC §7 first rows). */
function onClientError(dataplane: DataPlane, error: NodeJS.ErrnoException, socket: Socket, clientAddress: (socket: Socket) => string): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const code = error.code ?? '';
  const answer = parserErrorAnswer(code);
  if (answer.kind === 'drop') {
    socket.destroy();
    return;
  }
  if (answer.kind === 'timeout') {
    dataplane.metrics.handshakeFailure(undefined, 'timeout');
    accessLog.info({ client: clientAddress(socket), status: 0, reason: 'timeout' }, 'request head not complete in time: connection closed');
    socket.destroy();
    return;
  }
  const { rejection } = answer;
  dataplane.metrics.handshakeFailure(undefined, rejection.reason);
  accessLog.info({ client: clientAddress(socket), status: rejection.status, reason: rejection.reason, error: code }, 'malformed request');
  sendRejection(socket, rejection);
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

  const plain = http.createServer(serverOptions);
  wireServer(plain, 'http', dataplane, pipeline, clientAddress);
  const secure = https.createServer({ ...serverOptions, ...dataplane.certificates.serverOptions(), handshakeTimeout: options.headerTimeoutMs });
  // A snapshot's default certificate must reach clients without SNI too, which no SNI callback sees.
  dataplane.certificates.attach(secure);
  wireServer(secure, 'https', dataplane, pipeline, clientAddress);
  serveFastHandshakes(secure, (head, socket, early) => startHandshake(pipeline, head, socket, early, 'https'));
  secure.on('tlsClientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET') return;
    dataplane.metrics.handshakeFailure(undefined, 'tls');
    accessLog.info({ client: clientAddress(socket), status: 0, reason: 'tls', error: error.code ?? error.message }, 'TLS handshake failed');
  });
  const headLate = (socket: Socket): void => {
    dataplane.metrics.handshakeFailure(undefined, 'timeout');
    accessLog.info({ client: clientAddress(socket), status: 0, reason: 'timeout' }, 'request head not complete in time: connection closed');
    socket.destroy();
  };
  for (const server of [plain, secure]) armHeadDeadlines(server, options.headerTimeoutMs, headLate);
  if (options.proxyProtocol) wireProxyProtocol([plain, secure], dataplane, options.proxyProtocol.trustedCidrs, options.headerTimeoutMs);
  // After the PROXY protocol wrapper: its later 'connection' listeners run at accept, as Node counts.
  watchAcceptErrors([plain, secure], (reason) => dataplane.metrics.acceptError(reason));

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

/** Handshakes to the pipeline, other requests to the HTTP proxy, parser refusals answered. */
function wireServer(server: http.Server, proto: 'http' | 'https', dataplane: DataPlane, pipeline: HandshakePipeline, clientAddress: (socket: Socket) => string): void {
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    headArrived(req.socket);
    if (isWebSocketRequest(req.headers)) {
      // Upgrade: websocket without Connection: upgrade: still a handshake, and a bad one.
      res.detachSocket(req.socket);
      void pipeline.handle(req, req.socket, Buffer.alloc(0), proto).catch((error) => onPipelineError(error, req.socket));
      return;
    }
    proxyHttpRequest(dataplane, req, res, proto, clientAddress(req.socket));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => startHandshake(pipeline, req, socket, head, proto));
  // SPEC §7: CONNECT is answered (400), never just closed; wsgate is no forward proxy.
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    headArrived(socket);
    socket.on('error', () => socket.destroy());
    dataplane.metrics.handshakeFailure(undefined, 'bad_request');
    accessLog.info({ client: clientAddress(socket), host: req.headers.host, path: req.url, status: 400, reason: 'bad_request' }, 'CONNECT refused');
    sendRejection(socket, { status: 400, message: 'CONNECT is not served: wsgate is not a forward proxy' });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => onClientError(dataplane, error, socket, clientAddress));
}

function wireProxyProtocol(servers: http.Server[], dataplane: DataPlane, trustedCidrs: string[], headerTimeoutMs: number): void {
  if (trustedCidrs.length === 0) {
    log.warn('--proxy-protocol without --proxy-protocol-trusted-cidrs: headers are required but no source address is believed');
  }
  const onProxyReject = (socket: Socket, reason: string, kind: ProxyRejectKind): void => {
    const failure = kind === 'timeout' ? 'timeout' : 'bad_request';
    dataplane.metrics.handshakeFailure(undefined, failure);
    accessLog.info({ client: peerAddress(socket), status: 0, reason: failure, error: reason }, 'PROXY protocol header refused: connection closed');
  };
  // After every other 'connection' listener: the header is read before they see the socket.
  for (const server of servers) requireProxyProtocol(server, { trustedCidrs, headerTimeoutMs }, onProxyReject);
}

/** A handshake's head is in, from node:http or the TLS listener's own read: the pipeline takes it. */
function startHandshake(pipeline: HandshakePipeline, head: RequestHead, socket: Socket, early: Buffer, proto: 'http' | 'https'): void {
  headArrived(socket);
  void pipeline.handle(head, socket, early, proto).catch((error) => onPipelineError(error, socket));
}

function onPipelineError(error: unknown, socket: Socket): void {
  log.error({ err: error }, 'handshake pipeline failed');
  sendRejection(socket, { status: 500, message: 'internal error' });
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


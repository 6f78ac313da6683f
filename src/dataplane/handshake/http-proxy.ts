// Ordinary HTTP/1.1 requests on the same routes as the handshakes (SPEC §7): streamed both ways,
// forwarded headers added, hop-by-hop fields dropped (RFC 9110 §7.6.1).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { logger } from '../../common/log.ts';
import type { CompiledPool } from '../compile.ts';
import type { DataPlane } from '../state.ts';
import { describeConnectError, upstreamServerName } from '../upstream/connect.ts';
import type { EndpointRef } from '../upstream/types.ts';
import { isHopByHop } from './headers.ts';
import { normalizeHost } from './router.ts';
import { forwardedHeaders } from '../upstream/exchange.ts';
import { resolveRequestTarget, type ResolvedTarget } from './checks.ts';
import { checkRoutePolicy, httpsRedirect, invalidBackendRejection, isRejection, matchRoute, routeRedirect } from './pipeline.ts';
import { modifyHeaderList, modifyPath } from './gateway-filters.ts';
import type { Route } from '../../config/snapshot.ts';
import { sendRejection, type Answer } from './rejection.ts';
import { UpstreamTimeoutError } from '../../common/errors.ts';

const accessLog = logger('access');

// Kept-alive connections to the backends, shared by every pool. Every request passes its pool's
// CA, name and rejectUnauthorized: the agent keys its sockets by them, so a socket opened for a
// pool that does not verify is never reused by one that does. None of them may be set on the
// agent itself: the agent's options override a request's.
const plainAgent = new http.Agent({ keepAlive: true, maxFreeSockets: 64 });
const tlsAgent = new https.Agent({ keepAlive: true, maxFreeSockets: 64 });

type Done = (status: number, upstream?: string, error?: string) => void;

export function proxyHttpRequest(dataplane: DataPlane, req: IncomingMessage, res: ServerResponse, proto: 'http' | 'https', clientIp: string): void {
  const started = performance.now();
  const target = resolveRequestTarget(req.url, req.rawHeaders);
  const { host, path } = isRejection(target) ? { host: req.headers.host ?? '', path: req.url ?? '' } : target;
  const done: Done = (status, upstream, error) => {
    accessLog.info({ client: clientIp, host, path, method: req.method, upstream, status, ...(error === undefined ? {} : { message: error }), durationMs: Math.round(performance.now() - started) }, 'http request');
  };
  const refuse = (answer: Answer, upstream?: string): void => {
    sendRejection(res, answer);
    // The proxy's own failures (502, 504) say why in the line; a refusal's status already does.
    done(answer.status, upstream, answer.status >= 500 ? answer.message : undefined);
  };
  if (isRejection(target)) return refuse(target);
  const route = matchRoute(dataplane.current, normalizeHost(host), host, path, { headers: req.headers, target: target.url, proto });
  if (isRejection(route)) return refuse(route);
  // Before the source ranges, as for handshakes (pipeline.ts says why).
  const redirect = httpsRedirect(route, proto, normalizeHost(host), target.url) ?? routeRedirect(route, proto, normalizeHost(host), target.url);
  if (redirect !== undefined) return refuse(redirect);
  // allowed-origins is a browser's WebSocket check (SPEC §6): plain requests answer to the source ranges only.
  const forbidden = checkRoutePolicy(route, clientIp, undefined);
  if (forbidden) return refuse(forbidden);
  if (route.pool.invalidBackend) return refuse(invalidBackendRejection(route.pool));
  const endpoint = route.pool.endpoints.pick({ clientIp, headers: req.headers, url: target.url }, new Set());
  if (!endpoint) return refuse({ status: 503, message: `no ready endpoint in ${route.pool.service}` });
  forward(req, res, { pool: route.pool, endpoint, clientIp, proto, target, route: route.route }, refuse, done);
}

interface Forwarding {
  pool: CompiledPool;
  endpoint: EndpointRef;
  clientIp: string;
  proto: 'http' | 'https';
  target: ResolvedTarget;
  /** For the Gateway API filters it may carry. */
  route: Route;
}

/** SPEC §6 upstream-tls-verify for a plain request: the same checks as connect.ts's. */
function tlsOptions(pool: CompiledPool, endpoint: EndpointRef): https.RequestOptions {
  const verify = pool.upstreamVerify;
  const servername = upstreamServerName(endpoint, verify);
  const name = servername === undefined ? {} : { servername };
  // SPEC §6: without upstream-tls-verify the backend's certificate is not verified.
  if (verify === undefined) return { rejectUnauthorized: false, ...name };
  // The agent keys its kept-alive sockets by TLS options, which do not include
  // checkServerIdentity: a socket verified for one pool's names must not serve another's.
  if (verify.checkServerIdentity !== undefined) return { rejectUnauthorized: true, ca: verify.ca, ...name, checkServerIdentity: verify.checkServerIdentity, agent: false };
  return { rejectUnauthorized: true, ca: verify.ca, ...name };
}

/** The request to the endpoint and its response back, both streamed. */
function forward(req: IncomingMessage, res: ServerResponse, to: Forwarding, refuse: (answer: Answer, upstream?: string) => void, done: Done): void {
  const { pool, endpoint } = to;
  const { requestHeaders, responseHeaders, rewrite } = to.route;
  const rawHeaders = requestHeaders === undefined ? req.rawHeaders : modifyHeaderList(req.rawHeaders, requestHeaders);
  const upstreamReq = (pool.upstreamTls ? https : http).request({
    host: endpoint.address,
    port: endpoint.port,
    method: req.method,
    path: rewrite?.path === undefined ? to.target.url : modifyPath(to.target.url, rewrite.path, to.route),
    headers: forwardedHeaders(rawHeaders, to.clientIp, to.proto, false, rewrite?.hostname ?? to.target.hostOverride),
    setHost: false,
    agent: pool.upstreamTls ? tlsAgent : plainAgent,
    timeout: pool.connectTimeoutMs,
    ...(pool.upstreamTls ? tlsOptions(pool, endpoint) : {}),
  });
  let answered = false;
  const responseTimer = setTimeout(() => {
    if (answered) return;
    answered = true;
    upstreamReq.destroy();
    refuse({ status: 504, message: `no answer from ${endpoint.key} within ${pool.handshakeTimeoutMs}ms` }, endpoint.key);
  }, pool.handshakeTimeoutMs);
  upstreamReq.on('socket', (socket) => {
    // The agent's timeout is an idle timeout; once connected, the response timer governs.
    socket.once('connect', () => upstreamReq.setTimeout(0));
  });
  upstreamReq.on('timeout', () => upstreamReq.destroy(new UpstreamTimeoutError(endpoint.key, `connect to ${endpoint.key} timed out`)));
  upstreamReq.on('response', (upstreamRes) => {
    clearTimeout(responseTimer);
    if (answered) return upstreamRes.destroy();
    answered = true;
    const headers: string[] = [];
    const raw = upstreamRes.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) if (!isHopByHop(raw[i]!.toLowerCase())) headers.push(raw[i]!, raw[i + 1]!);
    const setCookie = pool.endpoints.affinity?.setCookieFor(endpoint, req.headers);
    if (setCookie !== undefined) headers.push('Set-Cookie', setCookie);
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, responseHeaders === undefined ? headers : modifyHeaderList(headers, responseHeaders));
    upstreamRes.pipe(res);
    upstreamRes.on('error', () => res.destroy());
    res.on('close', () => {
      if (!upstreamRes.complete) upstreamRes.destroy();
      done(upstreamRes.statusCode ?? 502, endpoint.key);
    });
  });
  upstreamReq.on('error', (error) => {
    clearTimeout(responseTimer);
    if (answered) {
      res.destroy();
      return;
    }
    answered = true;
    refuse({ status: 502, message: `upstream ${endpoint.key} failed: ${describeConnectError(error, pool.upstreamVerify)}` }, endpoint.key);
  });
  req.pipe(upstreamReq);
  req.on('aborted', () => upstreamReq.destroy());
}

// Ordinary HTTP/1.1 requests on the same routes as the handshakes (SPEC §7): streamed both ways,
// forwarded headers added, hop-by-hop fields dropped (RFC 9110 §7.6.1).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { logger } from '../../common/log.ts';
import type { DataPlane } from '../state.ts';
import { isHopByHop } from './headers.ts';
import { normalizeHost } from './router.ts';
import { forwardedHeaders } from '../upstream/exchange.ts';
import { requestPath } from './checks.ts';
import { checkRoutePolicy, isRejection, matchRoute } from './pipeline.ts';
import { sendRejection, type Answer } from './rejection.ts';

const accessLog = logger('access');

// Kept-alive connections to the backends, shared by every pool.
const plainAgent = new http.Agent({ keepAlive: true, maxFreeSockets: 64 });
const tlsAgent = new https.Agent({ keepAlive: true, maxFreeSockets: 64, rejectUnauthorized: false });

function answer(res: ServerResponse, status: number, message: string): void {
  sendRejection(res, { status, message });
}

export function proxyHttpRequest(dataplane: DataPlane, req: IncomingMessage, res: ServerResponse, proto: 'http' | 'https', clientIp: string): void {
  const started = performance.now();
  const host = req.headers.host ?? '';
  const path = requestPath(req.url);
  const done = (status: number, upstream?: string): void => {
    accessLog.info({ client: clientIp, host, path, method: req.method, upstream, status, durationMs: Math.round(performance.now() - started) }, 'http request');
  };
  const refuse = (answer: Answer): void => {
    sendRejection(res, answer);
    done(answer.status);
  };
  const route = matchRoute(dataplane.current, normalizeHost(host), host, path);
  if (isRejection(route)) return refuse(route);
  // allowed-origins is a browser's WebSocket check (SPEC §6): plain requests answer to the source ranges only.
  const forbidden = checkRoutePolicy(route, clientIp, undefined);
  if (forbidden) return refuse(forbidden);
  const settings = route.pool;
  const endpoint = settings.endpoints.pick({ clientIp, headers: req.headers, url: req.url ?? '/' }, new Set());
  if (!endpoint) {
    answer(res, 503, `no ready endpoint in ${settings.service}`);
    return done(503);
  }
  const upstreamReq = (settings.upstreamTls ? https : http).request({
    host: endpoint.address,
    port: endpoint.port,
    method: req.method,
    path: req.url,
    headers: forwardedHeaders(req.rawHeaders, clientIp, proto, false),
    setHost: false,
    agent: settings.upstreamTls ? tlsAgent : plainAgent,
    timeout: settings.connectTimeoutMs,
  });
  let answered = false;
  const responseTimer = setTimeout(() => {
    if (answered) return;
    answered = true;
    upstreamReq.destroy();
    answer(res, 504, `no answer from ${endpoint.key} within ${settings.handshakeTimeoutMs}ms`);
    done(504, endpoint.key);
  }, settings.handshakeTimeoutMs);
  upstreamReq.on('socket', (socket) => {
    // The agent's timeout is an idle timeout; once connected, the response timer governs.
    socket.once('connect', () => upstreamReq.setTimeout(0));
  });
  upstreamReq.on('timeout', () => upstreamReq.destroy(new Error(`connect to ${endpoint.key} timed out`)));
  upstreamReq.on('response', (upstreamRes) => {
    clearTimeout(responseTimer);
    if (answered) return upstreamRes.destroy();
    answered = true;
    const headers: string[] = [];
    const raw = upstreamRes.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) if (!isHopByHop(raw[i]!.toLowerCase())) headers.push(raw[i]!, raw[i + 1]!);
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, headers);
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
    answer(res, 502, `upstream ${endpoint.key} failed: ${error.message}`);
    done(502, endpoint.key);
  });
  req.pipe(upstreamReq);
  req.on('aborted', () => upstreamReq.destroy());
}

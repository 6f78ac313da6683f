// Ordinary HTTP/1.1 requests on the same routes as the handshakes (SPEC §7): streamed both ways,
// forwarded headers added, hop-by-hop fields dropped (RFC 9110 §7.6.1).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { logger } from '../../common/log.ts';
import type { DataPlane } from '../state.ts';
import { isHopByHop } from './headers.ts';
import { normalizeHost } from './router.ts';
import { forwardedHeaders } from '../upstream/connect.ts';
import { requestPath } from './checks.ts';

const accessLog = logger('access');

// Kept-alive connections to the backends, shared by every pool.
const plainAgent = new http.Agent({ keepAlive: true, maxFreeSockets: 64 });
const tlsAgent = new https.Agent({ keepAlive: true, maxFreeSockets: 64, rejectUnauthorized: false });

function answer(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(message) + 1 });
  res.end(`${message}\n`);
}

export function proxyHttpRequest(dataplane: DataPlane, req: IncomingMessage, res: ServerResponse, proto: 'http' | 'https', clientIp: string): void {
  const started = performance.now();
  const host = req.headers.host ?? '';
  const path = requestPath(req.url);
  const done = (status: number, upstream?: string): void => {
    accessLog.info({ client: clientIp, host, path, method: req.method, upstream, status, durationMs: Math.round(performance.now() - started) }, 'http request');
  };
  const route = dataplane.current?.router.match(normalizeHost(host), path);
  if (!route) {
    answer(res, 404, `no route for ${host}${path}`);
    return done(404);
  }
  if (!route.sourceAllowed(clientIp)) {
    answer(res, 403, `${clientIp} is not in allowed-source-ranges`);
    return done(403);
  }
  const settings = route.pool;
  const endpoint = settings.pool.pick({ clientIp, headers: req.headers, url: req.url ?? '/' }, new Set());
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

// The client-side checks of an opening handshake (RFC 6455 §4.2.1), in SPEC §7's order. Pure:
// the pipeline asks these before any routing, and answers with what they return.
import type { IncomingHttpHeaders } from 'node:http';
import { normaliseRequestTarget } from '../../grammar/request-path.ts';
import type { Rejection } from './rejection.ts';

/** True when a comma-separated header value lists `token` (case-insensitive, RFC 9110 §5.6.1). */
export function headerListHas(value: string | string[] | undefined, token: string): boolean {
  if (value === undefined) return false;
  const text = Array.isArray(value) ? value.join(',') : value;
  const wanted = token.toLowerCase();
  for (const part of text.split(',')) {
    if (part.trim().toLowerCase() === wanted) return true;
  }
  return false;
}

/** A request whose Upgrade header lists `websocket` is a handshake (SPEC §7). */
export function isWebSocketRequest(headers: IncomingHttpHeaders): boolean {
  return headerListHas(headers.upgrade, 'websocket');
}

// RFC 6455 §4.1: the key is the base64 encoding of 16 random bytes: 22 characters and `==`.
const KEY = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

export function checkHandshake(method: string | undefined, httpVersion: string, headers: IncomingHttpHeaders): Rejection | undefined {
  if (method !== 'GET') return bad(`a WebSocket handshake must be GET, not ${method}`);
  if (httpVersion !== '1.1') return bad(`a WebSocket handshake must be HTTP/1.1, not HTTP/${httpVersion}`);
  if (!headers.host) return bad('the Host header is missing');
  if (!headerListHas(headers.connection, 'upgrade')) return bad('the Connection header does not list "upgrade"');
  const key = headers['sec-websocket-key'];
  if (typeof key !== 'string' || !KEY.test(key.trim())) return bad('Sec-WebSocket-Key is not the base64 of 16 bytes');
  const version = headers['sec-websocket-version'];
  if (version === undefined) return bad('Sec-WebSocket-Version is missing');
  if (String(version).trim() !== '13') {
    return { status: 426, reason: 'bad_version', message: 'only WebSocket version 13 is supported', headers: { 'Sec-WebSocket-Version': '13' } };
  }
  return undefined;
}

function bad(message: string): Rejection {
  return { status: 400, reason: 'bad_request', message };
}

/** Where a request goes: the host it names and its target, normalised once for routing and upstream. */
export interface ResolvedTarget {
  /** The Host header, or the authority of an absolute-form target, which replaces it (RFC 9112 §3.2.2). */
  host: string;
  /** Set when the upstream must see another Host than the client sent (absolute-form). */
  hostOverride?: string;
  /** The normalised path (SPEC §5): what routes and policies match. */
  path: string;
  /** Origin-form target sent upstream: the normalised path and the query as the client sent it. */
  url: string;
}

/**
 * SPEC §5 and §7: one Host at most (RFC 9112 §3.2), and a target that normalises; else 400.
 * Runs before routing for handshakes and plain requests alike, so no request is matched on a
 * path other than the one the backend receives.
 */
export function resolveRequestTarget(url: string | undefined, rawHeaders: readonly string[]): ResolvedTarget | Rejection {
  let host: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length !== 4 || rawHeaders[i]!.toLowerCase() !== 'host') continue;
    if (host !== undefined) return bad('the request has two Host headers');
    host = rawHeaders[i + 1]!;
  }
  const target = normaliseRequestTarget(url ?? '/');
  if (!target.ok) return bad(`the request target cannot be normalised: ${target.reason}`);
  const { path, query, authority } = target.value;
  const resolved: ResolvedTarget = { host: authority ?? host ?? '', path, url: path + query };
  if (authority !== undefined && authority !== host) resolved.hostOverride = authority;
  return resolved;
}

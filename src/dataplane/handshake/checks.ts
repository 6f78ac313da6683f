// The client-side checks of an opening handshake (RFC 6455 §4.2.1), in SPEC §7's order. Pure:
// the pipeline asks these before any routing, and answers with what they return.
import type { IncomingHttpHeaders } from 'node:http';
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

/** The path of a request target, without the query (origin-form, or absolute-form per RFC 9112 §3.2.2). */
export function requestPath(url: string | undefined): string {
  if (!url) return '/';
  let path = url;
  if (!url.startsWith('/')) {
    try {
      path = new URL(url).pathname;
    } catch {
      return '/';
    }
  }
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

// The client-side checks of an opening handshake (RFC 6455 §4.2.1), in SPEC §7's order. Pure:
// the pipeline asks these before any routing, and answers with what they return.
import type { IncomingHttpHeaders } from 'node:http';
import type { FailureReason } from '../vocabulary.ts';

export interface Rejection {
  status: number;
  reason: FailureReason;
  message: string;
  headers?: Record<string, string>;
}

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

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

/** The full HTTP/1.1 answer for a rejection; the connection is closed after it. */
export function rejectionResponse(rejection: Pick<Rejection, 'status' | 'message' | 'headers'>): string {
  const body = `${rejection.message}\n`;
  let head = `HTTP/1.1 ${rejection.status} ${statusText(rejection.status)}\r\n`;
  for (const [name, value] of Object.entries(rejection.headers ?? {})) head += `${name}: ${value}\r\n`;
  head += `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  return head + body;
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

// How the proxy says no (SPEC §7): its own refusals, written by one writer for the WebSocket
// path and for plain HTTP alike; an upstream's own non-101 answer, relayed as it came; and what
// Node's HTTP parser refused before a handler saw the request.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FailureReason } from '../vocabulary.ts';
import { isHopByHop } from './headers.ts';

export interface Rejection {
  status: number;
  reason: FailureReason;
  message: string;
  headers?: Record<string, string>;
}

/** What an answer needs; a refusal that is no handshake failure (a 500) has no reason. */
export type Answer = Pick<Rejection, 'status' | 'message' | 'headers'>;

const STATUS_TEXT: Record<number, string> = {
  308: 'Permanent Redirect',
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

/** The full HTTP/1.1 answer for a refusal on a raw socket; the connection is closed after it. */
export function rejectionResponse(answer: Answer): string {
  const body = `${answer.message}\n`;
  let head = `HTTP/1.1 ${answer.status} ${statusText(answer.status)}\r\n`;
  for (const [name, value] of Object.entries(answer.headers ?? {})) head += `${name}: ${value}\r\n`;
  head += `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  return head + body;
}

/**
 * The one refusal writer: a handshake's socket gets the whole answer and is closed; a plain
 * request's response gets the same status, fields and body and stays on its keep-alive
 * connection. A response already under way can only be cut.
 */
export function sendRejection(to: Socket | ServerResponse, answer: Answer): void {
  if (!('writeHead' in to)) {
    if (!to.destroyed) to.end(rejectionResponse(answer));
    return;
  }
  if (to.headersSent) {
    to.destroy();
    return;
  }
  const body = `${answer.message}\n`;
  to.writeHead(answer.status, { ...answer.headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  to.end(body);
}

/** What to do with a request Node's parser refused (SPEC §7's first rows). */
export type ParserErrorAnswer = { kind: 'drop' } | { kind: 'timeout' } | { kind: 'answer'; rejection: Rejection };

export function parserErrorAnswer(code: string): ParserErrorAnswer {
  if (code === 'ECONNRESET' || code === 'EPIPE') return { kind: 'drop' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT') return { kind: 'timeout' };
  if (code === 'HPE_HEADER_OVERFLOW') return { kind: 'answer', rejection: { status: 431, reason: 'bad_request', message: 'request head too large' } };
  return { kind: 'answer', rejection: { status: 400, reason: 'bad_request', message: 'malformed request' } };
}

// The backend refused the upgrade: its answer goes to the client as it came (SPEC §7), body
// bytes verbatim whatever their framing, and then the connection closes (Connection: close). A
// Content-Length body ends the exchange when complete; any other ends when the backend closes or
// has been quiet for the handshake timeout (a chunked body's end is the client's to parse).
// The body passes verbatim, so the fields that describe its framing pass with it.
const BODY_FRAMING = new Set(['transfer-encoding', 'trailer']);

export function relayRejection(responseHead: Buffer, afterHead: Buffer, upstream: Socket, client: Socket, quietMs: number): void {
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
  if (afterHead.length > 0) forward(afterHead);
  upstream.resume();
}

// The upstream half of a handshake (SPEC §7) on a connected socket: send the client's handshake
// with the forwarded headers, and wait for the answer (handshake-timeout, not retried).
import type { Socket } from 'node:net';
import type { FailureReason } from '../vocabulary.ts';
import { isHopByHop } from '../handshake/headers.ts';
import type { EndpointRef } from './types.ts';

export interface ClientRequestInfo {
  method: string;
  url: string;
  rawHeaders: string[];
  clientIp: string;
  /** `https` for wss, `http` for ws. */
  proto: 'http' | 'https';
  /** Replaces the client's Host (an absolute-form target names the host itself). */
  hostOverride?: string;
}

/** What an exchange can fail with; a refusal that is an HTTP answer is `rejected` instead. */
export type ExchangeFailureReason = Extract<FailureReason, 'upstream_connect' | 'upstream_timeout' | 'upstream_rejected'>;

/**
 * `responseHead` is the backend's answer head as received (status line to the blank line);
 * `afterHead` is what the backend sent after it in the same reads (frames, or a refusal's body).
 */
export type UpstreamOutcome =
  | { kind: 'upgraded'; endpoint: EndpointRef; socket: Socket; responseHead: Buffer; afterHead: Buffer }
  /** Any answer but 101, for relaying to the client. */
  | { kind: 'rejected'; endpoint: EndpointRef; socket: Socket; status: number; responseHead: Buffer; afterHead: Buffer }
  | { kind: 'failed'; status: 502 | 504; reason: ExchangeFailureReason; message: string; endpoint: EndpointRef };

const REPLACED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip']);

/**
 * The header list sent upstream: the client's own headers in their order and case, Host
 * preserved, Sec-WebSocket-* untouched, hop-by-hop fields dropped, forwarded headers set.
 * `upgrade` is true for handshakes (Connection: Upgrade is kept).
 */
export function forwardedHeaders(rawHeaders: readonly string[], clientIp: string, proto: 'http' | 'https', upgrade: boolean, hostOverride?: string): string[] {
  const out: string[] = [];
  const connectionTokens = new Set<string>();
  let forwardedFor: string | undefined;
  let host = hostOverride;
  if (hostOverride !== undefined) out.push('Host', hostOverride);
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const lower = rawHeaders[i]!.toLowerCase();
    if (lower === 'connection') for (const t of rawHeaders[i + 1]!.split(',')) connectionTokens.add(t.trim().toLowerCase());
  }
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    const lower = name.toLowerCase();
    if (lower === 'x-forwarded-for') {
      forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
      continue;
    }
    if (lower === 'host') {
      if (hostOverride !== undefined) continue;
      host = value;
    }
    if (REPLACED.has(lower)) continue;
    // A handshake keeps `Upgrade`: it is what the backend must agree to (`Connection` is
    // rewritten below to carry just that); every other hop-by-hop field stays here.
    if (isHopByHop(lower) && !(upgrade && lower === 'upgrade')) continue;
    if (connectionTokens.has(lower) && lower !== 'upgrade') continue;
    out.push(name, value);
  }
  if (upgrade) out.push('Connection', 'Upgrade');
  out.push('X-Forwarded-For', forwardedFor === undefined ? clientIp : `${forwardedFor}, ${clientIp}`);
  out.push('X-Forwarded-Proto', proto);
  if (host !== undefined) out.push('X-Forwarded-Host', host);
  out.push('X-Real-IP', clientIp);
  return out;
}

/** The largest response head accepted from a backend, as for requests (SPEC §7). */
export const MAX_RESPONSE_HEAD_BYTES = 16 * 1024;

const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: ([^\r\n]*))?\r\n/;

/** The request head sent upstream: the client's request line and fields, forwarded headers added. */
export function upstreamRequestHead(request: ClientRequestInfo): Buffer {
  const fields = forwardedHeaders(request.rawHeaders, request.clientIp, request.proto, true, request.hostOverride);
  let head = `${request.method} ${request.url} HTTP/1.1\r\n`;
  for (let i = 0; i < fields.length; i += 2) head += `${fields[i]}: ${fields[i + 1]}\r\n`;
  // Node's parser decoded the client's field bytes as latin1: encoding them back the same way
  // sends the backend exactly what the client sent.
  return Buffer.from(`${head}\r\n`, 'latin1');
}

/**
 * Sends the handshake on a connected socket and reads the backend's answer head. A raw exchange
 * rather than node:http's client: the 101 head reaches the client byte for byte, and a handshake
 * costs one write and one small parse.
 */
export function upstreamHandshake(
  socket: Socket,
  endpoint: EndpointRef,
  request: ClientRequestInfo,
  handshakeTimeoutMs: number,
): Promise<UpstreamOutcome> {
  return new Promise((resolve) => {
    let received: Buffer | undefined;
    let settled = false;
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
    };
    const fail = (outcome: UpstreamOutcome): void => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      resolve(outcome);
    };
    const onData = (chunk: Buffer): void => {
      received = received === undefined ? chunk : Buffer.concat([received, chunk]);
      const end = received.indexOf(HEAD_END);
      if (end < 0) {
        if (received.length > MAX_RESPONSE_HEAD_BYTES) {
          fail({ kind: 'failed', status: 502, reason: 'upstream_rejected', message: `${endpoint.key} answered with a head over ${MAX_RESPONSE_HEAD_BYTES} bytes`, endpoint });
        }
        return;
      }
      const headBytes = received.subarray(0, end + HEAD_END.length);
      const rest = received.subarray(end + HEAD_END.length);
      const status = STATUS_LINE.exec(headBytes.toString('latin1', 0, Math.min(headBytes.length, 256)));
      if (!status) {
        fail({ kind: 'failed', status: 502, reason: 'upstream_rejected', message: `${endpoint.key} answered with something that is not HTTP/1.1`, endpoint });
        return;
      }
      settled = true;
      cleanup();
      socket.pause();
      const code = Number(status[1]);
      if (code === 101) resolve({ kind: 'upgraded', endpoint, socket, responseHead: headBytes, afterHead: rest });
      else resolve({ kind: 'rejected', endpoint, socket, status: code, responseHead: headBytes, afterHead: rest });
    };
    const onError = (error: Error): void =>
      fail({ kind: 'failed', status: 502, reason: 'upstream_connect', message: `${endpoint.key} failed during the handshake: ${error.message}`, endpoint });
    const onClose = (): void =>
      fail({ kind: 'failed', status: 502, reason: 'upstream_connect', message: `${endpoint.key} closed the connection before answering`, endpoint });
    const timer = setTimeout(
      () => fail({ kind: 'failed', status: 504, reason: 'upstream_timeout', message: `no answer from ${endpoint.key} within ${handshakeTimeoutMs}ms`, endpoint }),
      handshakeTimeoutMs,
    );
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write(upstreamRequestHead(request));
  });
}

// The upstream half of a handshake (SPEC §7): pick an endpoint, connect (connect-timeout per
// attempt, at most 3 attempts on distinct endpoints), send the client's handshake with the
// forwarded headers, and wait for the answer (handshake-timeout, not retried).
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { isHopByHop } from '../handshake/headers.ts';
import type { EndpointRef, EndpointRegistry, PickContext, UpstreamPool } from './pool.ts';

export const MAX_CONNECT_ATTEMPTS = 3;

export interface UpstreamTarget {
  pool: UpstreamPool;
  registry: EndpointRegistry;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  upstreamTls: boolean;
  /** Called after every successful connect, for wsgate_upstream_connect_duration_seconds. */
  onConnected?: (seconds: number) => void;
}

export interface ClientRequestInfo {
  method: string;
  url: string;
  rawHeaders: string[];
  clientIp: string;
  /** `https` for wss, `http` for ws. */
  proto: 'http' | 'https';
}

export type UpstreamOutcome =
  | { kind: 'upgraded'; endpoint: EndpointRef; socket: Socket; responseHead: Buffer; head: Buffer }
  /** Any answer but 101: its head as received and what followed it, for relaying to the client. */
  | { kind: 'rejected'; endpoint: EndpointRef; socket: Socket; status: number; responseHead: Buffer; head: Buffer }
  | { kind: 'failed'; status: 502 | 503 | 504; reason: 'no_endpoints' | 'upstream_connect' | 'upstream_timeout' | 'upstream_rejected'; message: string; endpoint?: EndpointRef };

const REPLACED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip']);

/**
 * The header list sent upstream: the client's own headers in their order and case, Host
 * preserved, Sec-WebSocket-* untouched, hop-by-hop fields dropped, forwarded headers set.
 * `upgrade` is true for handshakes (Connection: Upgrade is kept).
 */
export function forwardedHeaders(rawHeaders: readonly string[], clientIp: string, proto: 'http' | 'https', upgrade: boolean): string[] {
  const out: string[] = [];
  const connectionTokens = new Set<string>();
  let forwardedFor: string | undefined;
  let host: string | undefined;
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
    if (lower === 'host') host = value;
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

/** Opens a TCP (or TLS) connection within timeoutMs; rejects on refusal, error or timeout. */
export function connectEndpoint(endpoint: EndpointRef, timeoutMs: number, useTls: boolean): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket: Socket = useTls
      ? tls.connect({
          host: endpoint.address,
          port: endpoint.port,
          // SPEC §6 upstream-tls: the backend's certificate is not verified.
          rejectUnauthorized: false,
          servername: net.isIP(endpoint.address) ? undefined : endpoint.address,
          ALPNProtocols: ['http/1.1'],
        })
      : net.connect({ host: endpoint.address, port: endpoint.port });
    const readyEvent = useTls ? 'secureConnect' : 'connect';
    const timer = setTimeout(() => fail(new Error(`connect to ${endpoint.key} timed out after ${timeoutMs}ms`)), timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.removeListener(readyEvent, ok);
      socket.destroy();
      reject(error);
    };
    const ok = (): void => {
      clearTimeout(timer);
      socket.removeListener('error', fail);
      socket.setNoDelay(true);
      resolve(socket);
    };
    socket.once(readyEvent, ok);
    socket.once('error', fail);
  });
}

export interface ConnectAttemptsResult {
  socket?: Socket;
  endpoint?: EndpointRef;
  attempts: number;
  lastError?: Error;
}

/** Tries up to MAX_CONNECT_ATTEMPTS distinct endpoints; ejection bookkeeping on the registry. */
export async function connectWithRetries(target: UpstreamTarget, ctx: PickContext, isCancelled: () => boolean): Promise<ConnectAttemptsResult> {
  const tried = new Set<string>();
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < MAX_CONNECT_ATTEMPTS; attempt++) {
    const endpoint = target.pool.pick(ctx, tried);
    if (!endpoint) break;
    tried.add(endpoint.key);
    const started = process.hrtime.bigint();
    try {
      const socket = await connectEndpoint(endpoint, target.connectTimeoutMs, target.upstreamTls);
      target.registry.connectSucceeded(endpoint.key);
      target.onConnected?.(Number(process.hrtime.bigint() - started) / 1e9);
      if (isCancelled()) {
        socket.destroy();
        return { attempts: tried.size, lastError: new Error('client went away') };
      }
      return { socket, endpoint, attempts: tried.size };
    } catch (error) {
      lastError = error as Error;
      target.registry.connectFailed(endpoint.key);
      if (isCancelled()) break;
    }
  }
  return { attempts: tried.size, lastError };
}

/** The largest response head accepted from a backend, as for requests (SPEC §7). */
export const MAX_RESPONSE_HEAD_BYTES = 16 * 1024;

const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: ([^\r\n]*))?\r\n/;

/** The request head sent upstream: the client's request line and fields, forwarded headers added. */
export function upstreamRequestHead(request: ClientRequestInfo): Buffer {
  const fields = forwardedHeaders(request.rawHeaders, request.clientIp, request.proto, true);
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
      if (code === 101) resolve({ kind: 'upgraded', endpoint, socket, responseHead: headBytes, head: rest });
      else resolve({ kind: 'rejected', endpoint, socket, status: code, responseHead: headBytes, head: rest });
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

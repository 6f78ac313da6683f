// Connecting to a pool's endpoints (SPEC §7): pick an endpoint, connect (connect-timeout per
// attempt, at most 3 attempts on distinct endpoints where the pool has them). The endpoint
// accounting of a connect lives here: success and failure (passive ejection) and the open count
// of the connection that results; the connection's lease gives that count back.
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import type { UpstreamPool } from './pool.ts';
import type { EndpointRegistry } from './registry.ts';
import type { EndpointRef, PickContext } from './types.ts';
import { ClientGoneError, UpstreamConnectTimeoutError } from '../../common/errors.ts';

export const MAX_CONNECT_ATTEMPTS = 3;

export interface UpstreamTarget {
  pool: UpstreamPool;
  registry: EndpointRegistry;
  connectTimeoutMs: number;
  upstreamTls: boolean;
  /** With upstreamTls: verify the backend's certificate (SPEC §6 upstream-tls-verify). */
  upstreamVerify?: UpstreamVerify;
  /** Called after every successful connect, for wsgate_upstream_connect_duration_seconds. */
  onConnected?: (seconds: number) => void;
}

/**
 * How a pool verifies its backends, compiled once per snapshot (compile.ts). `ca` is the trusted
 * set and nothing else: empty (verify asked, no usable CA) trusts nothing, so every connect fails
 * rather than falling back to the system roots (fail-closed).
 */
export interface UpstreamVerify {
  ca: string[];
  secureContext: tls.SecureContext;
  /** The name the certificate must carry and the SNI sent; else the endpoint's host name. */
  serverName?: string;
}

/** The name to send as SNI and verify: the configured one, else a host-name endpoint's own. */
export function upstreamServerName(endpoint: EndpointRef, verify: UpstreamVerify | undefined): string | undefined {
  return verify?.serverName ?? (net.isIP(endpoint.address) ? undefined : endpoint.address);
}

/**
 * A failed connect in the access line's words: the message plus the error's code, which for a
 * certificate that failed verification is the one an operator searches for
 * (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `ERR_TLS_CERT_ALTNAME_INVALID`).
 */
export function describeConnectError(error: Error | undefined, verify: UpstreamVerify | undefined): string {
  if (error === undefined) return 'unknown error';
  const code = (error as { code?: unknown }).code;
  const text = typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  return verify !== undefined && verify.ca.length === 0 ? `${text}; upstream-tls-verify has no usable CA, so nothing is trusted` : text;
}

const certificateRejections = new WeakSet<Error>();

/**
 * The endpoint answered and its certificate was refused: a matter of the pool's trust (CA, name),
 * not of the endpoint's health, so it does not eject the endpoint, which other pools may share.
 */
export function isCertificateRejection(error: Error): boolean {
  return certificateRejections.has(error);
}

/** Opens a TCP (or TLS) connection within timeoutMs; rejects on refusal, error or timeout. */
export function connectEndpoint(endpoint: EndpointRef, timeoutMs: number, useTls: boolean, verify?: UpstreamVerify): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket: Socket = useTls
      ? tls.connect({
          host: endpoint.address,
          port: endpoint.port,
          // SPEC §6: without upstream-tls-verify the backend's certificate is not verified; with
          // it, the chain must reach the pool's CA and the name (checkServerIdentity, the default)
          // must match.
          rejectUnauthorized: verify !== undefined,
          ...(verify === undefined ? {} : { secureContext: verify.secureContext }),
          servername: upstreamServerName(endpoint, verify),
          ALPNProtocols: ['http/1.1'],
        })
      : net.connect({ host: endpoint.address, port: endpoint.port });
    const readyEvent = useTls ? 'secureConnect' : 'connect';
    const timer = setTimeout(() => fail(new UpstreamConnectTimeoutError(endpoint.key, timeoutMs)), timeoutMs);
    const fail = (error: Error): void => {
      // tls sets authorizationError before it destroys a socket whose certificate it refused.
      if (useTls && (socket as tls.TLSSocket).authorizationError !== undefined) certificateRejections.add(error);
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

/**
 * Tries up to MAX_CONNECT_ATTEMPTS distinct endpoints, with ejection bookkeeping on the registry.
 * A returned socket has been counted open on its endpoint.
 */
export async function connectWithRetries(target: UpstreamTarget, ctx: PickContext, isCancelled: () => boolean): Promise<ConnectAttemptsResult> {
  const tried = new Set<string>();
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < MAX_CONNECT_ATTEMPTS; attempt++) {
    const endpoint = target.pool.pick(ctx, tried);
    if (!endpoint) break;
    tried.add(endpoint.key);
    const started = process.hrtime.bigint();
    try {
      const socket = await connectEndpoint(endpoint, target.connectTimeoutMs, target.upstreamTls, target.upstreamVerify);
      target.registry.connectSucceeded(endpoint.key);
      target.onConnected?.(Number(process.hrtime.bigint() - started) / 1e9);
      if (isCancelled()) {
        socket.destroy();
        return { attempts: tried.size, lastError: new ClientGoneError() };
      }
      // Counted from here, for least-conn: the caller owes one connectionClosed() for it.
      target.registry.connectionOpened(endpoint.key);
      return { socket, endpoint, attempts: tried.size };
    } catch (error) {
      lastError = error as Error;
      if (!isCertificateRejection(lastError)) target.registry.connectFailed(endpoint.key);
      if (isCancelled()) break;
    }
  }
  return { attempts: tried.size, lastError };
}


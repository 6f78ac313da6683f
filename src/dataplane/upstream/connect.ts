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
  /** Called after every successful connect, for wsgate_upstream_connect_duration_seconds. */
  onConnected?: (seconds: number) => void;
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
    const timer = setTimeout(() => fail(new UpstreamConnectTimeoutError(endpoint.key, timeoutMs)), timeoutMs);
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
      const socket = await connectEndpoint(endpoint, target.connectTimeoutMs, target.upstreamTls);
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
      target.registry.connectFailed(endpoint.key);
      if (isCancelled()) break;
    }
  }
  return { attempts: tried.size, lastError };
}


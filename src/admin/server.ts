// The admin port (SPEC §3): GET /metrics, /healthz, /readyz, /config. Kept apart from the traffic
// listeners so that probes and scrapes work while the data plane is busy or draining.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListenError } from '../common/errors.ts';
import { logger } from '../common/log.ts';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics/metrics.ts';

export interface AdminSources {
  /** Prometheus exposition text (one aggregated view when there are workers). */
  metricsText(): Promise<string>;
  /** True once the first snapshot is applied, false again from SIGTERM on. */
  isReady(): boolean;
  /** The snapshot in effect, already redacted; undefined before the first one. */
  config(): unknown;
  /** `/readyz?verbose`: one line per condition behind readiness (the controller's kinds), if any. */
  conditions?(): string[];
}

export interface AdminServerOptions {
  port: number;
  host?: string;
  sources: AdminSources;
  /**
   * --expose-config: /config (every host and endpoint) to any client. Without it only loopback
   * clients get it (kubectl port-forward and exec arrive on loopback) and others get 403, since
   * the admin port is often reachable by everything that can scrape /metrics.
   */
  exposeConfig?: boolean;
}

export interface AdminServer {
  port: number;
  close(): Promise<void>;
  /** The node:http server, for tests that hand it a connection as another host would make it. */
  http?: Server;
}

type Handler = (sources: AdminSources, res: ServerResponse, req: IncomingMessage) => Promise<void> | void;

const log = logger('admin');

const ROUTES: Record<string, Handler> = {
  '/healthz': (_sources, res) => send(res, 200, 'text/plain; charset=utf-8', 'ok\n'),
  '/readyz': (sources, res, req) => {
    const ready = sources.isReady();
    // ?verbose (as the Kubernetes API server's): the answer, then what stands behind it.
    const verbose = new URL(req.url ?? '/', 'http://admin').searchParams.has('verbose');
    const details = verbose ? (sources.conditions?.() ?? []).map((line) => `${line}\n`).join('') : '';
    send(res, ready ? 200 : 503, 'text/plain; charset=utf-8', `${ready ? 'ready' : 'not ready'}\n${details}`);
  },
  '/metrics': async (sources, res) => send(res, 200, PROMETHEUS_CONTENT_TYPE, await sources.metricsText()),
  '/config': (sources, res) => {
    const config = sources.config();
    if (config === undefined) {
      sendJson(res, 503, { error: 'no config snapshot applied yet' });
      return;
    }
    sendJson(res, 200, config);
  },
};

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { sources } = options;
  const exposeConfig = options.exposeConfig ?? false;
  const server = createServer((req, res) => {
    handle(sources, req, res, exposeConfig).catch((error: unknown) => {
      log.error({ err: error, path: req.url }, 'admin request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const refused = (error: Error): void => reject(new ListenError('admin', options.host, options.port, error));
    server.once('error', refused);
    server.listen(options.port, options.host, () => {
      server.off('error', refused);
      resolve();
    });
  });
  return {
    http: server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Prometheus and kubelet keep connections alive; they must not hold shutdown up.
        server.closeAllConnections();
      }),
  };
}

async function handle(sources: AdminSources, req: IncomingMessage, res: ServerResponse, exposeConfig: boolean): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
  const handler = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
  if (handler === undefined) {
    send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    return;
  }
  // RFC 9110 §9.1: a server that supports GET supports HEAD too; node:http drops HEAD bodies.
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    return;
  }
  if (path === '/config' && !exposeConfig && !isLoopback(req.socket.remoteAddress)) {
    send(res, 403, 'text/plain; charset=utf-8', '/config answers loopback clients only (start wsgate with --expose-config to serve it to all)\n');
    return;
  }
  await handler(sources, res, req);
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (a dual-stack listener reports those). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value, null, 2)}\n`);
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

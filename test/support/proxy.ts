// Builders for data-plane tests: a proxy on port 0 serving a given snapshot, ws upstreams, raw
// HTTP exchanges for exact status/header checks, and a /metrics reader.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Endpoint, Pool, Route, Snapshot } from '../../src/config/snapshot.ts';
import { setLogLevel } from '../../src/common/log.ts';
import { startProxyProcess, type ProxyProcess } from '../../src/runtime/single-process.ts';
import { issueLines } from '../../src/runtime/serving.ts';

setLogLevel((process.env.WSGATE_TEST_LOG_LEVEL as 'silent') ?? 'silent');

export interface TestProxy {
  proxy: ProxyProcess;
  wsUrl(path?: string): string;
  wssUrl(path?: string): string;
  httpPort: number;
  httpsPort: number;
  adminPort: number;
  close(): Promise<void>;
}

export async function startTestProxy(snapshot: Snapshot, overrides: { headerTimeoutMs?: number; proxyProtocol?: { trustedCidrs: string[] } } = {}): Promise<TestProxy> {
  const proxy = await startProxyProcess({
    httpPort: 0,
    httpsPort: 0,
    adminPort: 0,
    bindAddress: '127.0.0.1',
    headerTimeoutMs: overrides.headerTimeoutMs ?? 10_000,
    shutdownDelayMs: 0,
    shutdownTimeoutMs: 5000,
    proxyProtocol: overrides.proxyProtocol,
  });
  const result = proxy.offer(snapshot);
  if (!result.ok) throw new Error(`test snapshot invalid: ${issueLines(result.errors).join('; ')}`);
  const { httpPort, httpsPort } = proxy.listeners;
  return {
    proxy,
    httpPort,
    httpsPort,
    adminPort: proxy.adminPort,
    wsUrl: (path = '/') => `ws://127.0.0.1:${httpPort}${path}`,
    wssUrl: (path = '/') => `wss://127.0.0.1:${httpsPort}${path}`,
    close: () => proxy.close(),
  };
}

export interface TestUpstream {
  name: string;
  port: number;
  /** Request heads of every handshake it received. */
  handshakes: http.IncomingMessage[];
  sockets: Set<WebSocket>;
  close(): Promise<void>;
}

/** A ws echo server that remembers its handshakes; `onConnection` may replace the echo. */
export async function startUpstream(name: string, onConnection?: (ws: WebSocket, req: http.IncomingMessage) => void): Promise<TestUpstream> {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Upstream': name, 'X-Saw-Upgrade': req.headers.upgrade ?? 'none', 'X-Saw-Forwarded-For': String(req.headers['x-forwarded-for']) });
    req.pipe(res);
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: true });
  const handshakes: http.IncomingMessage[] = [];
  const sockets = new Set<WebSocket>();
  wss.on('connection', (ws, req) => {
    handshakes.push(req);
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('error', () => {});
    if (onConnection) onConnection(ws, req);
    else ws.on('message', (data: RawData, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    handshakes,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function endpoint(port: number, state: Endpoint['state'] = 'ready', address = '127.0.0.1'): Endpoint {
  return { address, port, state };
}

export function pool(name: string, endpoints: Endpoint[], extra: Partial<Pool> = {}): Pool {
  return { name, source: { namespace: 'ns', service: name }, endpoints, ...extra };
}

export function route(path: string, poolName: string, extra: Partial<Route> = {}): Route {
  return { host: '', path, pathType: 'Prefix', pool: poolName, source: { namespace: 'ns', ingress: `ing-${poolName}` }, ...extra };
}

export function snapshot(routes: Route[], pools: Pool[]): Snapshot {
  return { version: 1, routes, pools };
}

/** Opens a ws client and resolves once open (rejects with the HTTP status on refusal). */
export function connect(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { rejectUnauthorized: false, ...options });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`status ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

export function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data: RawData) => resolve(String(data))));
}

export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: 1006, reason: '' });
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: String(reason) })));
}

/**
 * Sends raw bytes, collects everything until the server closes (or `until` matches). With `tls`
 * the bytes go over TLS; an array of parts is written one part per TLS record (or TCP write).
 */
export function rawExchange(port: number, request: string | Buffer | Array<string | Buffer>, until?: RegExp, options: { tls?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts = Array.isArray(request) ? request : [request];
    // Parts written in one tick would be coalesced (one writev, one TLS record): each waits for
    // the previous to be flushed and a moment more, so the server reads them apart.
    const send = (index = 0): void => {
      if (index < parts.length && !socket.destroyed) socket.write(parts[index]!, () => setTimeout(() => send(index + 1), index + 1 < parts.length ? 30 : 0));
    };
    const socket = options.tls
      ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => send())
      : net.connect(port, '127.0.0.1', () => send());
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (until?.test(text)) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

export const VALID_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

export function handshakeRequest(path = '/', headers: Record<string, string> = {}, requestLine?: string): string {
  const base: Record<string, string> = {
    Host: 'example.test',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': VALID_KEY,
    'Sec-WebSocket-Version': '13',
    ...headers,
  };
  let head = `${requestLine ?? `GET ${path} HTTP/1.1`}\r\n`;
  for (const [k, v] of Object.entries(base)) if (v !== '') head += `${k}: ${v}\r\n`;
  return `${head}\r\n`;
}

export async function scrape(adminPort: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
  return res.text();
}

/** The value of one series, matching every given label; 0 when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** A port nobody listens on (bound then released). */
export async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` until it holds; for waiting on asynchronous effects, never for timing. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

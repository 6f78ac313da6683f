// The pieces the black-box hardening tests share: upstreams that say who they are and what path
// they received, Debian's nginx with the same routes as a wsgate snapshot, and raw exchanges.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, listenFlags, spawnWsgate, waitUntilReady, type ListenPorts, type RunningWsgate } from '../support/cli.ts';
import { deadPort, eventually } from '../support/proxy.ts';

export interface NamedUpstream {
  name: string;
  port: number;
  /** Every request target it received, in order. */
  seen: string[];
  close(): Promise<void>;
}

/** Answers GETs with 200 and upgrades with 101, both carrying X-Upstream and X-Saw-Path. */
export async function startNamedUpstream(name: string): Promise<NamedUpstream> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'X-Upstream': name, 'X-Saw-Path': encodeURI(req.url ?? ''), 'X-Saw-Host': String(req.headers.host), 'Content-Length': '0' });
      res.end();
    });
  });
  server.on('upgrade', (req, socket: net.Socket) => {
    seen.push(req.url ?? '');
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.on('error', () => {});
    socket.end(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n` +
        `X-Upstream: ${name}\r\nX-Saw-Path: ${encodeURI(req.url ?? '')}\r\nX-Saw-Host: ${String(req.headers.host)}\r\n\r\n`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Verdict {
  status: number;
  /** The upstream that answered, or `refused` for a 4xx, or `closed` without an answer. */
  upstream: string;
  path?: string;
  host?: string;
}

/** Sends one raw request head (over TLS with `tls`) and reads the answer's head. */
export function exchangeHead(port: number, head: string, limitMs = 5000, options: { tls?: boolean } = {}): Promise<Verdict> {
  return new Promise((resolve) => {
    const send = (): void => void socket.write(head, 'latin1');
    const socket = options.tls ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, send) : net.connect(port, '127.0.0.1', send);
    let text = '';
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(verdictOf(text));
    };
    const timer = setTimeout(finish, limitMs);
    socket.on('data', (data) => {
      text += data.toString('latin1');
      if (text.includes('\r\n\r\n')) finish();
    });
    socket.on('close', finish);
    socket.on('error', () => {});
  });
}

function verdictOf(text: string): Verdict {
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (!status) return { status: 0, upstream: 'closed' };
  const code = Number(status[1]);
  const upstream = /\r\nX-Upstream: ([^\r]*)/i.exec(text)?.[1];
  const path = /\r\nX-Saw-Path: ([^\r]*)/i.exec(text)?.[1];
  if (upstream === undefined) return { status: code, upstream: code >= 400 && code < 500 ? 'refused' : `status ${code}` };
  const host = /\r\nX-Saw-Host: ([^\r]*)/i.exec(text)?.[1];
  return { status: code, upstream, path: path === undefined ? undefined : decodeURI(path), host };
}

export function upgradeHead(target: string, host = 'localhost'): string {
  return (
    `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
  );
}

export function getHead(target: string, host = 'localhost'): string {
  return `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
}

export interface RunningNginx {
  port: number;
  stop(): Promise<void>;
}

/** Debian's nginx: /public -> a, /private -> b behind `deny all`, everything else -> c. */
export async function startNginx(a: number, b: number, c: number): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-nginx-'));
  mkdirSync(join(dir, 'tmp'));
  const port = await deadPort();
  const proxy = (upstreamPort: number): string =>
    `proxy_pass http://127.0.0.1:${upstreamPort}; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; ` +
    'proxy_set_header Connection $connection_upgrade; proxy_set_header Host $host;';
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${port};
    server_name _;
    location /public { ${proxy(a)} }
    location /private { deny all; ${proxy(b)} }
    location / { ${proxy(c)} }
  }
}
`,
  );
  const child: ChildProcess = spawn('/usr/sbin/nginx', ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await eventually(() => accepts(port), 'nginx listening');
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

export interface WsgateUnderTest {
  ports: ListenPorts;
  configPath: string;
  pid: number;
  exited(): boolean;
  stop(): Promise<void>;
}

/** `wsgate proxy --config FILE` with the given snapshot, on 127.0.0.1 and free ports. */
export async function startWsgateProxy(snapshot: unknown, extraFlags: string[] = []): Promise<WsgateUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-hardening-'));
  const configPath = join(dir, 'wsgate.json');
  writeFileSync(configPath, JSON.stringify(snapshot, null, 2));
  const ports = await freePorts();
  const running: RunningWsgate = spawnWsgate(['proxy', '--config', configPath, ...listenFlags(ports), ...extraFlags], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitUntilReady(ports.admin);
  } catch (error) {
    running.child.kill('SIGKILL');
    throw error;
  }
  return {
    ports,
    configPath,
    pid: running.child.pid!,
    exited: () => running.child.exitCode !== null || running.child.signalCode !== null,
    stop: async () => {
      if (running.child.exitCode === null) running.child.kill('SIGTERM');
      await running.exit;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The snapshot equivalent to the nginx config above. */
export function differentialSnapshot(a: number, b: number, c: number): unknown {
  const source = (name: string): { namespace: string; ingress: string } => ({ namespace: 'hardening', ingress: name });
  return {
    version: 1,
    routes: [
      { host: '', path: '/public', pathType: 'Prefix', pool: 'a', source: source('public') },
      { host: '', path: '/private', pathType: 'Prefix', pool: 'b', source: source('private'), policy: { allowedSourceRanges: ['10.0.0.0/8'] } },
      { host: '', path: '/', pathType: 'Prefix', pool: 'c', source: source('default') },
    ],
    pools: [
      { name: 'a', source: { namespace: 'hardening', service: 'a' }, endpoints: [{ address: '127.0.0.1', port: a, state: 'ready' }] },
      { name: 'b', source: { namespace: 'hardening', service: 'b' }, endpoints: [{ address: '127.0.0.1', port: b, state: 'ready' }] },
      { name: 'c', source: { namespace: 'hardening', service: 'c' }, endpoints: [{ address: '127.0.0.1', port: c, state: 'ready' }] },
    ],
  };
}

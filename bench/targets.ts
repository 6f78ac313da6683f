// What the load goes through: wsgate, nginx (Debian's, one worker) or nothing at all. Each proxy
// starts fresh for each phase, pinned to its own core, with its own files in the run's temp dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchCertificate } from './certs.ts';
import type { Endpoint } from './client.ts';
import { processTree } from './procfs.ts';

export type TargetName = 'wsgate' | 'nginx' | 'direct';

export interface TargetOptions {
  workDir: string;
  upstreamPort: number;
  certificate: BenchCertificate;
  proxyCore: number;
  /** wsgate only: write V8 CPU profiles here (the run is then not a measurement). */
  cpuProfileDir?: string;
}

export interface RunningTarget {
  endpoint: Endpoint;
  /** The proxy's processes right now; empty for the direct path. */
  pids(): number[];
  stop(): Promise<void>;
}

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const NGINX_BINARY = '/usr/sbin/nginx';

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (typeof address !== 'object' || !address) throw new Error('no free port');
  return address.port;
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}

async function waitUntil(ready: () => Promise<boolean>, child: ChildProcess, logPath: string, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail(logPath)}`);
    }
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} not ready after 20s:\n${tail(logPath)}`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function running(child: ChildProcess, endpoint: Endpoint, signal: NodeJS.Signals, graceMs: number): RunningTarget {
  return {
    endpoint,
    pids: () => (child.exitCode === null && child.pid !== undefined ? processTree(child.pid) : []),
    stop: () => stopChild(child, signal, graceMs),
  };
}

async function startWsgate(options: TargetOptions): Promise<RunningTarget> {
  const dir = join(options.workDir, 'wsgate');
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'snapshot.json');
  writeFileSync(configPath, JSON.stringify({
    version: 1,
    routes: [{ host: '', path: '/', pathType: 'Prefix', pool: 'bench' }],
    pools: [{ name: 'bench', endpoints: [{ address: '127.0.0.1', port: options.upstreamPort, state: 'ready' }] }],
    tls: { defaultCertificate: { name: 'bench/cert', cert: options.certificate.cert, key: options.certificate.key } },
  }, null, 2));
  const [httpPort, httpsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const logPath = join(dir, 'wsgate.log');
  const log = openSync(logPath, 'a');
  const profile = options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : [];
  const child = spawn('taskset', [
    '-c', String(options.proxyCore), process.execPath, ...profile, 'src/cli.ts', 'proxy',
    '--config', configPath, '--workers', '1', '--http-port', String(httpPort), '--https-port', String(httpsPort),
    '--admin-port', String(adminPort), '--bind-address', '127.0.0.1', '--log-level', 'warn',
    '--shutdown-delay', '0s', '--shutdown-timeout', '2s',
  ], { cwd: repoRoot, stdio: ['ignore', log, log] });
  const readyz = async (): Promise<boolean> => {
    try {
      return (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status === 200;
    } catch {
      return false;
    }
  };
  await waitUntil(async () => (await readyz()) && (await accepts(httpsPort)), child, logPath, 'wsgate');
  // A profile is only written on a clean exit, so give SIGTERM time to finish.
  return running(child, { tls: true, port: httpsPort }, 'SIGTERM', 8_000);
}

export function nginxConfig(dir: string, httpsPort: number, options: TargetOptions): string {
  return `# wsgate bench: Debian's nginx as a wss -> ws proxy, one worker.
daemon off;
master_process on;
worker_processes 1;
user root;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_rlimit_nofile 40000;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream bench { server 127.0.0.1:${options.upstreamPort}; }
  server {
    listen 127.0.0.1:${httpsPort} ssl;
    server_name _;
    ssl_certificate ${options.certificate.certPath};
    ssl_certificate_key ${options.certificate.keyPath};
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass http://bench;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
    }
  }
}
`;
}

async function startNginx(options: TargetOptions): Promise<RunningTarget> {
  const dir = join(options.workDir, 'nginx');
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const httpsPort = await freePort();
  const configPath = join(dir, 'nginx.conf');
  writeFileSync(configPath, nginxConfig(dir, httpsPort, options));
  const logPath = join(dir, 'stderr.log');
  const log = openSync(logPath, 'a');
  const child = spawn('taskset', ['-c', String(options.proxyCore), NGINX_BINARY, '-p', dir, '-e', join(dir, 'error.log'), '-c', configPath], {
    stdio: ['ignore', log, log],
  });
  await waitUntil(async () => (await accepts(httpsPort)) && processTree(child.pid!).length >= 2, child, join(dir, 'error.log'), 'nginx');
  return running(child, { tls: true, port: httpsPort }, 'SIGTERM', 5_000);
}

export async function startTarget(name: TargetName, options: TargetOptions): Promise<RunningTarget> {
  if (name === 'wsgate') return startWsgate(options);
  if (name === 'nginx') return startNginx(options);
  return { endpoint: { tls: false, port: options.upstreamPort }, pids: () => [], stop: async () => {} };
}

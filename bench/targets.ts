// What the load goes through: wsgate (`proxy`, the sidecar's proxy container, or `run`, controller
// and data plane in one process), Debian's nginx (default buffers or 16k proxy + ssl buffers),
// Debian's HAProxy (one thread) or nothing at all. Each proxy starts fresh, pinned to its own core,
// with its own files in the run's temp dir; the access log is on or off for all of them alike.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchCertificate } from './certs.ts';
import type { Endpoint } from './client.ts';
import type { CpuQuota } from './cgroup.ts';
import { processTree } from './procfs.ts';
import { kubeconfigYaml } from '../test/support/kubeconfig.ts';

export const TARGETS = ['wsgate-proxy', 'wsgate-run', 'nginx', 'nginx-16k', 'haproxy', 'direct'] as const;
export type TargetName = (typeof TARGETS)[number];
/** The C proxies wsgate is measured against; "best" is the lowest of them on each row. */
export const ANCHORS: readonly TargetName[] = ['nginx', 'nginx-16k', 'haproxy'];
export const WSGATE_TARGETS: readonly TargetName[] = ['wsgate-proxy', 'wsgate-run'];

export interface TargetOptions {
  workDir: string;
  upstreamPort: number;
  certificate: BenchCertificate;
  /** The cores the proxy may run on (taskset -c). */
  proxyCores: string;
  /** The core helper processes (the test API server) run on. */
  loadCore: number;
  accessLog: boolean;
  /** wsgate only: the entry point, relative to the repo (imageScript() as the image runs it, or src/cli.ts). */
  cli: string;
  /** wsgate only: --workers (default 1). */
  workers?: number;
  /** wsgate only: write V8 CPU profiles here (the run is then not a measurement). */
  cpuProfileDir?: string;
  /** wsgate only: node --trace-gc, its lines in the target's log (read with gcPauses()). */
  traceGc?: boolean;
  /** wsgate only: cap the proxy's processes together at this many cores' worth of CPU (bench/cgroup.ts). */
  cpuQuota?: CpuQuota;
}

export interface RunningTarget {
  name: TargetName;
  endpoint: Endpoint;
  /** The proxy's processes right now; empty for the direct path. */
  pids(): number[];
  /** The longest and the count of GC pauses the proxy logged since `sinceByte` (wsgate with traceGc). */
  gcPauses?(sinceByte: number): GcPauses;
  /** Bytes in the target's log so far, to read what a phase added. */
  logSize?(): number;
  /** The target's log from `sinceByte` (wsgate): its --trace-gc lines, for instance. */
  logFrom?(sinceByte: number): string;
  stop(): Promise<void>;
}

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const NGINX_BINARY = '/usr/sbin/nginx';
export const HAPROXY_BINARY = '/usr/sbin/haproxy';

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
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail(logPath)}`);
    }
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} not ready after 30s:\n${tail(logPath)}`);
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

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * node --trace-gc lines: "[pid:0x..]  1234 ms: Scavenge 4.5 (5.2) -> 3.9 (6.2) MB, pooled: 0 MB,
 * 1.23 / 0.00 ms  (average mu ...". The first number after the sizes is the main thread's pause.
 */
export function parseGcPauses(text: string): GcPauses {
  let maxMs = 0;
  let count = 0;
  let longestKind = '';
  for (const match of text.matchAll(/ms: (Scavenge|Mark-Compact|Minor Mark-Compact|Mark-Sweep|Minor Mark-Sweep)[^\n]*? MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms(?:[^)\n]*\) ([^;\n]*))?/g)) {
    count++;
    const ms = Number(match[2]);
    if (ms > maxMs) {
      maxMs = ms;
      longestKind = match[3] ? `${match[1]!}, ${match[3].trim()}` : match[1]!;
    }
  }
  return { maxMs, count, longestKind };
}

export interface GcPauses {
  maxMs: number;
  count: number;
  /** The collector of the longest pause and V8's reason, as --trace-gc names them ("Mark-Compact, finalize incremental marking via task"). */
  longestKind: string;
}

function readFrom(path: string, sinceByte: number): string {
  try {
    return readFileSync(path).subarray(sinceByte).toString('utf8');
  } catch {
    return '';
  }
}

function imageEntryPoint(): string[] {
  const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
  return entry ? (JSON.parse(entry[1]!) as string[]) : [];
}

/**
 * The node flags wsgate runs with: those of the image's entry point (Dockerfile ENTRYPOINT), or
 * WSGATE_BENCH_NODE_FLAGS when set (empty for none), to measure a flag before the image takes it.
 */
export function wsgateNodeFlags(): string[] {
  const override = process.env.WSGATE_BENCH_NODE_FLAGS;
  if (override !== undefined) return override.split(' ').filter(Boolean);
  return imageEntryPoint().slice(1).filter((arg) => arg.startsWith('--'));
}

/** Builds wsgate as the image has it (`npm run build`) and returns imageScript(). */
export function buildImageScript(): string {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  return imageScript();
}

/** The script the image's entry point runs (/app/dist/bundle/wsgate.cjs), relative to the repo: what `npm run build` makes. */
export function imageScript(): string {
  const script = imageEntryPoint().at(-1);
  if (!script?.startsWith('/app/')) throw new Error(`Dockerfile ENTRYPOINT does not end with a script under /app/: ${script}`);
  return script.slice('/app/'.length);
}

async function adminReady(adminPort: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

/** The test API server in a child process on the load core, seeded for `wsgate run`. */
async function startCluster(options: TargetOptions): Promise<{ kubeconfig: string; stop(): Promise<void> }> {
  const script = fileURLToPath(new URL('./apiserver-child.ts', import.meta.url));
  const child = spawn('taskset', ['-c', String(options.loadCore), process.execPath, script], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, WSGATE_BENCH_CLUSTER: JSON.stringify({ upstreamPort: options.upstreamPort, cert: options.certificate.cert, key: options.certificate.key }) },
  });
  const [server] = (await once(child, 'message')) as [{ url: string; token: string }];
  const kubeconfig = join(options.workDir, 'wsgate-run', 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml(server), { mode: 0o600 });
  return { kubeconfig, stop: () => stopChild(child, 'SIGTERM', 3000) };
}

async function startWsgate(name: 'wsgate-proxy' | 'wsgate-run', options: TargetOptions): Promise<RunningTarget> {
  const dir = join(options.workDir, name);
  mkdirSync(dir, { recursive: true });
  const [httpPort, httpsPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  let source: string[];
  let cluster: Awaited<ReturnType<typeof startCluster>> | undefined;
  if (name === 'wsgate-proxy') {
    const configPath = join(dir, 'snapshot.json');
    writeFileSync(configPath, JSON.stringify({
      version: 1,
      routes: [{ host: '', path: '/', pathType: 'Prefix', pool: 'bench' }],
      pools: [{ name: 'bench', endpoints: [{ address: '127.0.0.1', port: options.upstreamPort, state: 'ready' }] }],
      tls: { defaultCertificate: { name: 'bench/cert', cert: options.certificate.cert, key: options.certificate.key } },
    }, null, 2));
    source = ['proxy', '--config', configPath];
  } else {
    cluster = await startCluster(options);
    source = ['run', '--kubeconfig', cluster.kubeconfig, '--default-cert-secret', 'default/bench-tls', '--election-namespace', 'default'];
  }
  const logPath = join(dir, `wsgate-${Date.now()}.log`);
  const log = openSync(logPath, 'a');
  const nodeFlags = [
    ...wsgateNodeFlags(),
    ...(options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : []),
    ...(options.traceGc ? ['--trace-gc'] : []),
  ];
  const argv = [
    'taskset', '-c', options.proxyCores, process.execPath, ...nodeFlags, options.cli, ...source,
    '--workers', String(options.workers ?? 1), '--http-port', String(httpPort), '--https-port', String(httpsPort),
    '--admin-port', String(adminPort), '--bind-address', '127.0.0.1', '--log-level', options.accessLog ? 'info' : 'warn',
    '--shutdown-delay', '0s', '--shutdown-timeout', '2s',
  ];
  const [command, ...args] = options.cpuQuota ? options.cpuQuota.wrap(argv) : argv;
  const child = spawn(command!, args, { cwd: repoRoot, stdio: ['ignore', log, log] });
  closeSync(log);
  try {
    await waitUntil(async () => (await adminReady(adminPort)) && (await accepts(httpsPort)), child, logPath, name);
  } catch (error) {
    await stopChild(child, 'SIGKILL', 1000);
    await cluster?.stop();
    throw error;
  }
  return {
    name,
    endpoint: { tls: true, port: httpsPort },
    pids: () => (child.exitCode === null && child.pid !== undefined ? processTree(child.pid) : []),
    gcPauses: (sinceByte) => parseGcPauses(readFrom(logPath, sinceByte)),
    logSize: () => fileSize(logPath),
    logFrom: (sinceByte) => readFrom(logPath, sinceByte),
    async stop() {
      // A profile is only written on a clean exit, so give SIGTERM time to finish.
      await stopChild(child, 'SIGTERM', 8_000);
      await cluster?.stop();
    },
  };
}

export function nginxConfig(dir: string, httpsPort: number, options: TargetOptions, bigBuffers: boolean): string {
  return `# wsgate bench: Debian's nginx as a wss -> ws proxy, one worker${bigBuffers ? ', 16k proxy and ssl buffers' : ''}.
daemon off;
master_process on;
worker_processes 1;
user root;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_rlimit_nofile 40000;
events { worker_connections 20000; }
http {
  ${options.accessLog ? `access_log ${dir}/access.log;` : 'access_log off;'}
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
    ssl_protocols TLSv1.2 TLSv1.3;${bigBuffers ? '\n    ssl_buffer_size 16k;\n    proxy_buffer_size 16k;\n    proxy_buffers 4 16k;\n    proxy_busy_buffers_size 16k;' : ''}
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

async function startNginx(name: 'nginx' | 'nginx-16k', options: TargetOptions): Promise<RunningTarget> {
  const dir = join(options.workDir, name);
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const httpsPort = await freePort();
  const configPath = join(dir, 'nginx.conf');
  writeFileSync(configPath, nginxConfig(dir, httpsPort, options, name === 'nginx-16k'));
  const logPath = join(dir, 'stderr.log');
  const log = openSync(logPath, 'a');
  const child = spawn('taskset', ['-c', options.proxyCores, NGINX_BINARY, '-p', dir, '-e', join(dir, 'error.log'), '-c', configPath], {
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  await waitUntil(async () => (await accepts(httpsPort)) && processTree(child.pid!).length >= 2, child, join(dir, 'error.log'), name);
  return {
    name,
    endpoint: { tls: true, port: httpsPort },
    // taskset execs nginx: the child is the master, its worker the child's child.
    pids: () => (child.exitCode === null && child.pid !== undefined ? processTree(child.pid) : []),
    stop: () => stopChild(child, 'SIGTERM', 5_000),
  };
}

export function haproxyConfig(dir: string, httpsPort: number, options: TargetOptions): string {
  return `# wsgate bench: Debian's HAProxy as a wss -> ws proxy, one thread.
global
  nbthread 1
  # Two descriptors a connection: 9000 holds the 5000 idle ones within the bench's ulimit -n.
  maxconn 9000
  ${options.accessLog ? 'log stdout format raw local0' : ''}
defaults
  mode http
  ${options.accessLog ? 'log global\n  option httplog' : ''}
  option forwardfor
  timeout connect 5s
  timeout client 1h
  timeout server 1h
  timeout tunnel 1h
frontend bench
  bind 127.0.0.1:${httpsPort} ssl crt ${dir}/cert.pem ssl-min-ver TLSv1.2
  default_backend bench
backend bench
  server upstream 127.0.0.1:${options.upstreamPort}
`;
}

async function startHaproxy(options: TargetOptions): Promise<RunningTarget> {
  const dir = join(options.workDir, 'haproxy');
  mkdirSync(dir, { recursive: true });
  // HAProxy wants the certificate and its key in one file.
  writeFileSync(join(dir, 'cert.pem'), options.certificate.cert + options.certificate.key, { mode: 0o600 });
  const httpsPort = await freePort();
  const configPath = join(dir, 'haproxy.cfg');
  writeFileSync(configPath, haproxyConfig(dir, httpsPort, options));
  const logPath = join(dir, `haproxy-${Date.now()}.log`);
  const log = openSync(logPath, 'a');
  const child = spawn('taskset', ['-c', options.proxyCores, HAPROXY_BINARY, '-db', '-f', configPath], { stdio: ['ignore', log, log] });
  closeSync(log);
  await waitUntil(() => accepts(httpsPort), child, logPath, 'haproxy');
  return {
    name: 'haproxy',
    endpoint: { tls: true, port: httpsPort },
    pids: () => (child.exitCode === null && child.pid !== undefined ? processTree(child.pid) : []),
    stop: () => stopChild(child, 'SIGTERM', 5_000),
  };
}

export async function startTarget(name: TargetName, options: TargetOptions): Promise<RunningTarget> {
  switch (name) {
    case 'wsgate-proxy':
    case 'wsgate-run':
      return startWsgate(name, options);
    case 'nginx':
    case 'nginx-16k':
      return startNginx(name, options);
    case 'haproxy':
      return startHaproxy(options);
    case 'direct':
      return { name, endpoint: { tls: false, port: options.upstreamPort }, pids: () => [], stop: async () => {} };
  }
}

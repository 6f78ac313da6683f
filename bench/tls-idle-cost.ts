// What bare Node (no wsgate code) holds per idle TLS, or plain TCP, server connection: RSS and JS
// heap of a server before and after N clients (in a child process, so only the server is
// measured) connect and write 5 bytes. The floor under wsgate's idle row. Not in `npm test`.
//
//   node --expose-gc bench/tls-idle-cost.ts tls|tcp [connections]
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import net, { type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { makeCertificate } from './certs.ts';

const mode = process.argv[2] === 'tcp' ? 'tcp' : 'tls';
const rssKiB = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => {});

async function client(port: number, count: number): Promise<void> {
  const open = (): Promise<Socket> => new Promise((resolve) => {
    const socket: Socket = mode === 'tls'
      ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => { socket.write('hello'); resolve(socket); })
      : net.connect(port, '127.0.0.1', () => { socket.write('hello'); resolve(socket); });
  });
  const held: Socket[] = [];
  for (let i = 0; i < 200; i++) held.push(await open());
  for (const s of held.splice(0)) s.destroy();
  process.send!('warm');
  await once(process, 'message');
  for (let i = 0; i < count; i++) held.push(await open());
  process.send!('held');
}

async function server(count: number): Promise<void> {
  const held: Socket[] = [];
  const onSocket = (s: Socket): void => {
    held.push(s);
    s.on('data', () => {});
    s.on('error', () => {});
  };
  const cert = makeCertificate(mkdtempSync(join(tmpdir(), 'wsgate-tls-cost-')), 'bench.local');
  const srv = mode === 'tls' ? tls.createServer({ key: cert.key, cert: cert.cert }, onSocket) : net.createServer(onSocket);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const child = fork(fileURLToPath(import.meta.url), [mode, String(count), 'client', String((srv.address() as AddressInfo).port)]);
  await once(child, 'message');
  for (const s of held.splice(0)) s.destroy();
  gc();
  await sleep(1000);
  const rssBefore = rssKiB();
  const heapBefore = process.memoryUsage().heapUsed;
  child.send('go');
  await once(child, 'message');
  while (held.length < count) await sleep(100);
  await sleep(1500);
  gc();
  const rss = (rssKiB() - rssBefore) / count;
  const heap = (process.memoryUsage().heapUsed - heapBefore) / 1024 / count;
  process.stdout.write(`${mode}: ${count} idle server connections, RSS ${rss.toFixed(1)} KiB and JS heap ${heap.toFixed(1)} KiB per connection\n`);
  child.kill();
  process.exit(0);
}

const count = Number(process.argv[3] ?? 1000);
if (process.argv[4] === 'client') await client(Number(process.argv[5]), count);
else await server(count);

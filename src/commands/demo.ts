// `wsgate demo`: the data plane on its embedded default. Two echo upstreams behind one pool,
// TLS with a self-signed certificate made at start, the admin port for metrics.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { acceptSnapshot } from '../config/accept.ts';
import type { Snapshot } from '../config/snapshot.ts';
import type { Options } from './options.ts';
import { startServing } from './serve.ts';

/** Keeps running: returns -1. */
export async function demoCommand(options: Options): Promise<number> {
  const upstreams = await Promise.all([startEchoUpstream('echo-1'), startEchoUpstream('echo-2')]);
  const serving = await startServing(options);
  const accepted = acceptSnapshot(demoSnapshot(upstreams));
  if (accepted.ok) await serving.accept(accepted.snapshot, accepted.hash);
  else serving.refuse(accepted.issues);
  process.stdout.write(demoBanner(serving.ports));
  return -1;
}

export interface EchoUpstream {
  name: string;
  port: number;
  close(): Promise<void>;
}

/** A WebSocket echo server (ws) that also answers plain GETs with its name. */
export async function startEchoUpstream(name: string, host = '127.0.0.1'): Promise<EchoUpstream> {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`${name}: ${req.method} ${req.url}\n`);
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: true });
  wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    socket.on('error', () => socket.terminate());
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function demoSnapshot(upstreams: EchoUpstream[]): Snapshot {
  return {
    version: 1,
    routes: [{ host: '', path: '/', pathType: 'Prefix', pool: 'demo/echo', source: { namespace: 'demo', ingress: 'echo' } }],
    pools: [
      {
        name: 'demo/echo',
        source: { namespace: 'demo', service: 'echo' },
        balance: 'least-conn',
        endpoints: upstreams.map((u) => ({ address: '127.0.0.1', port: u.port, state: 'ready' as const, name: u.name })),
      },
    ],
  };
}

export function demoBanner(ports: { httpsPort: number; httpPort: number; adminPort: number }): string {
  const url = `wss://localhost:${ports.httpsPort}/echo`;
  return [
    '',
    'wsgate demo is running: wss and ws routed to two echo upstreams (self-signed certificate).',
    '',
    'Try a WebSocket round trip (from this folder, which has the ws package):',
    `  node -e "const W=require('ws');const s=new W('${url}',{rejectUnauthorized:false});s.on('open',()=>s.send('hello'));s.on('message',m=>{console.log('echo:',String(m));s.close()})"`,
    'Plain HTTP on the same routes:',
    `  curl -k https://localhost:${ports.httpsPort}/hello`,
    'Metrics, readiness and the snapshot in effect:',
    `  curl http://localhost:${ports.adminPort}/metrics | grep wsgate_`,
    `  curl http://localhost:${ports.adminPort}/config`,
    '',
    'Ctrl-C drains: every open WebSocket gets close 1001.',
    '',
  ].join('\n');
}

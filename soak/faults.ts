// Upstream faults: an upstream process SIGKILLed under live connections (clients get 1014), one
// that accepts and stays silent (504), one that answers garbage (502), one that resets (502);
// meanwhile a healthy route keeps serving.
import { spawn } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { exchangeHead, upgradeHead, startWsgateProxy } from '../test/hardening/differential-support.ts';
import { startRecordingUpstream } from '../fuzz/targets.ts';
import { deadPort, eventually } from '../test/support/proxy.ts';

export interface FaultReport {
  rounds: number;
  faults: number;
  answers: Record<string, number>;
  unexpected: string[];
  healthyEchoes: number;
}

const ECHO_CHILD = `
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[1]) }, () => process.stdout.write('ready\\n'));
wss.on('connection', (ws) => ws.on('message', (m, b) => ws.send(m, { binary: b })));
`;

async function tcpServer(onSocket: (socket: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export async function soakFaults(rounds: number, connectionsPerKill = 5): Promise<FaultReport> {
  const report: FaultReport = { rounds: 0, faults: 0, answers: {}, unexpected: [], healthyEchoes: 0 };
  const healthy = await startRecordingUpstream();
  const silent = await tcpServer(() => {});
  const garbage = await tcpServer((socket) => socket.once('data', () => socket.end('\x00\xffNOT HTTP AT ALL\r\n\r\n')));
  const reset = await tcpServer((socket) => socket.resetAndDestroy());
  const killPort = await deadPort();
  const pool = (name: string, port: number, extra: object = {}): unknown => ({
    name,
    source: { namespace: 'soak', service: name },
    endpoints: [{ address: '127.0.0.1', port, state: 'ready' }],
    handshakeTimeout: '1s',
    connectTimeout: '1s',
    ...extra,
  });
  const route = (path: string, name: string): unknown => ({ host: '', path, pathType: 'Prefix', pool: name, source: { namespace: 'soak', ingress: name } });
  const wsgate = await startWsgateProxy({
    version: 1,
    routes: [route('/healthy', 'healthy'), route('/silent', 'silent'), route('/garbage', 'garbage'), route('/reset', 'reset'), route('/killed', 'killed')],
    pools: [pool('healthy', healthy.port), pool('silent', silent.port), pool('garbage', garbage.port), pool('reset', reset.port), pool('killed', killPort)],
  });
  const control = new WebSocket(`ws://127.0.0.1:${wsgate.ports.http}/healthy`);
  await new Promise<void>((resolve, reject) => {
    control.once('open', () => resolve());
    control.once('error', reject);
  });
  control.on('message', () => report.healthyEchoes++);
  const count = (what: string, got: string, expected: string): void => {
    report.faults++;
    report.answers[`${what} ${got}`] = (report.answers[`${what} ${got}`] ?? 0) + 1;
    if (got !== expected) report.unexpected.push(`${what}: ${got}, expected ${expected}`);
  };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [path, expected] of [['/silent', '504'], ['/garbage', '502'], ['/reset', '502']] as const) {
        const verdict = await exchangeHead(wsgate.ports.http, upgradeHead(path), 5000);
        count(path, String(verdict.status), expected);
      }
      const child = spawn(process.execPath, ['-e', ECHO_CHILD, String(killPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
        const clients = await Promise.all(
          Array.from({ length: connectionsPerKill }, () => {
            const ws = new WebSocket(`ws://127.0.0.1:${wsgate.ports.http}/killed`);
            const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
            ws.on('error', () => {});
            // Wrapped: resolving with the promise itself would wait for the close.
            return new Promise<{ closed: Promise<number> }>((resolve, reject) => {
              ws.once('open', () => resolve({ closed }));
              ws.once('unexpected-response', () => reject(new Error('killed route refused before the kill')));
            });
          }),
        );
        child.kill('SIGKILL');
        for (const code of await Promise.all(clients.map((c) => c.closed))) count('SIGKILL', String(code), '1014');
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
      const before = report.healthyEchoes;
      control.send(`round ${round}`);
      await eventually(() => report.healthyEchoes > before, 'the healthy route echoing');
      report.rounds++;
    }
  } finally {
    control.terminate();
    await wsgate.stop();
    await Promise.all([healthy.close(), silent.close(), garbage.close(), reset.close()]);
  }
  return report;
}

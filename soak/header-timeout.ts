// Slowloris at scale: many connections at once that hold a request head back (silent; silent for
// 90% of --header-timeout and then one byte a second; over TLS, silent before the handshake or
// dripping after it). SPEC §7: each is cut at the timeout counted from accept, with at most 10%
// slack, and the proxy keeps serving the connections that behave.
import net from 'node:net';
import tls from 'node:tls';
import { WebSocket } from 'ws';
import { startWsgateProxy } from '../test/hardening/differential-support.ts';
import { startRecordingUpstream } from '../fuzz/targets.ts';

export interface HeaderTimeoutReport {
  timeoutMs: number;
  connections: number;
  /** Cut no later than the timeout + 10%. */
  withinSlack: number;
  /** Cut more than 5% before the timeout, as this process saw it (its own event-loop lag can shorten what it measures). */
  early: number;
  /** Still open at 3x the timeout. */
  neverCut: number;
  p50Ms: number;
  maxMs: number;
  servingDuring: boolean;
}

type Kind = 'silent' | 'drip' | 'tls-silent' | 'tls-drip';
const KINDS: Kind[] = ['silent', 'drip', 'tls-silent', 'tls-drip'];
const HEAD = 'GET / HTTP/1.1\r\nHost: localhost\r\nX-Drip: ' + 'a'.repeat(200);

/** Resolves with the ms from connect until the proxy closed the connection (or limitMs: never cut). */
function hold(kind: Kind, ports: { http: number; https: number }, timeoutMs: number, limitMs: number): Promise<number> {
  return new Promise((resolve) => {
    let started = performance.now();
    const socket: net.Socket =
      kind === 'silent' || kind === 'drip'
        ? net.connect(ports.http, '127.0.0.1')
        : kind === 'tls-silent'
          ? net.connect(ports.https, '127.0.0.1')
          : tls.connect({ port: ports.https, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false });
    let sent = 0;
    let drip: NodeJS.Timeout | undefined;
    const begin =
      kind === 'drip' || kind === 'tls-drip'
        ? setTimeout(() => {
            drip = setInterval(() => {
              if (!socket.destroyed) socket.write(HEAD[sent++ % HEAD.length]!);
            }, 1000);
          }, timeoutMs * 0.9)
        : undefined;
    const limit = setTimeout(() => socket.destroy(), limitMs);
    // From the TCP connect: what the proxy can count from (its accept), not this process's own lag.
    socket.once('connect', () => (started = performance.now()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(begin);
      clearTimeout(limit);
      clearInterval(drip);
      resolve(performance.now() - started);
    });
  });
}

async function echoes(port: number): Promise<boolean> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/live`);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const reply = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    ws.send('still serving');
    return (await reply) === 'still serving';
  } catch {
    return false;
  } finally {
    ws.terminate();
  }
}

export async function soakHeaderTimeout(perKind: number, timeoutMs = 4000): Promise<HeaderTimeoutReport> {
  const upstream = await startRecordingUpstream();
  const snapshot = {
    version: 1,
    routes: [{ host: '', path: '/', pathType: 'Prefix', pool: 'live', source: { namespace: 'soak', ingress: 'live' } }],
    pools: [{ name: 'live', source: { namespace: 'soak', service: 'live' }, endpoints: [{ address: '127.0.0.1', port: upstream.port, state: 'ready' }] }],
  };
  const wsgate = await startWsgateProxy(snapshot, ['--header-timeout', `${timeoutMs}ms`]);
  try {
    const held: Promise<number>[] = [];
    // Opened in batches over half the timeout, as an attack ramps up: thousands of TLS handshakes
    // in one instant would measure this load generator's backlog, not the proxy's deadline.
    const batches = 20;
    for (let batch = 0; batch < batches; batch++) {
      for (const kind of KINDS) for (let i = batch; i < perKind; i += batches) held.push(hold(kind, wsgate.ports, timeoutMs, timeoutMs * 3));
      await new Promise((resolve) => setTimeout(resolve, timeoutMs / 2 / batches));
    }
    // With every one of them held, a well-behaved client is still served.
    const servingDuring = await echoes(wsgate.ports.http);
    const cut = (await Promise.all(held)).sort((a, b) => a - b);
    return {
      timeoutMs,
      connections: cut.length,
      withinSlack: cut.filter((ms) => ms <= timeoutMs * 1.1).length,
      early: cut.filter((ms) => ms < timeoutMs * 0.95).length,
      neverCut: cut.filter((ms) => ms >= timeoutMs * 3 - 10).length,
      p50Ms: Math.round(cut[Math.floor(cut.length / 2)] ?? 0),
      maxMs: Math.round(cut.at(-1) ?? 0),
      servingDuring,
    };
  } finally {
    await wsgate.stop();
    await upstream.close();
  }
}

// What both long-lived benches (longlived.ts, longlived-paired.ts) relay through: an echo
// upstream and a snapshot with a plain route and one with the long-lived features on.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';

/** Pings every 30 s and a message-rate limit both ways that the load (at `rate` msgs/s) never reaches. */
export function longLivedPolicy(rate: number): Record<string, unknown> {
  return { pingInterval: '30s', pingTimeout: '10s', maxMessagesPerSecond: rate * 10, messageRateDirection: 'both' };
}

export interface LongLivedBench {
  /** The snapshot file: routes /plain and /longlived to the echo upstream. */
  config: string;
  close(): void;
}

export async function startLongLivedBench(name: string, policy: unknown): Promise<LongLivedBench> {
  const upstream = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  upstream.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise((resolve) => upstream.once('listening', resolve));
  const upstreamPort = (upstream.address() as { port: number }).port;
  const dir = mkdtempSync(join(tmpdir(), `wsgate-bench-${name}-`));
  const config = join(dir, 'snapshot.json');
  writeFileSync(config, JSON.stringify({
    version: 1,
    routes: [
      { host: '', path: '/plain', pathType: 'Prefix', pool: 'echo' },
      { host: '', path: '/longlived', pathType: 'Prefix', pool: 'echo', policy },
    ],
    pools: [{ name: 'echo', endpoints: [{ address: '127.0.0.1', port: upstreamPort, state: 'ready' }] }],
  }));
  return {
    config,
    close: () => {
      upstream.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

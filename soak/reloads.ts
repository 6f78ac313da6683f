// Snapshot reloads under live load: the --config file is rewritten (atomic rename and in place,
// alternating routes and pools) while connections exchange messages; none may be lost.
import { renameSync, writeFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { startWsgateProxy } from '../test/hardening/differential-support.ts';
import { startRecordingUpstream } from '../fuzz/targets.ts';

export interface ReloadReport {
  reloads: number;
  connections: number;
  sent: number;
  echoed: number;
  lost: number;
  dropped: number;
  servingAfterReloads: boolean;
}

function snapshotFor(n: number, port: number): unknown {
  const endpoints = [{ address: '127.0.0.1', port, state: 'ready' }];
  const routes: unknown[] = [{ host: '', path: '/', pathType: 'Prefix', pool: 'live', source: { namespace: 'soak', ingress: 'live' } }];
  const pools: unknown[] = [{ name: 'live', source: { namespace: 'soak', service: 'live' }, endpoints }];
  if (n % 2 === 1) {
    routes.unshift({ host: '', path: `/extra-${n}`, pathType: 'Prefix', pool: 'extra', source: { namespace: 'soak', ingress: 'extra' } });
    pools.push({ name: 'extra', source: { namespace: 'soak', service: 'extra' }, endpoints, balance: 'round-robin' });
  }
  return { version: 1, routes, pools };
}

export async function soakReloads(reloads: number, connections: number, intervalMs = 10): Promise<ReloadReport> {
  const upstream = await startRecordingUpstream();
  const wsgate = await startWsgateProxy(snapshotFor(0, upstream.port));
  const report: ReloadReport = { reloads: 0, connections, sent: 0, echoed: 0, lost: 0, dropped: 0, servingAfterReloads: false };
  const sockets: WebSocket[] = [];
  let stopping = false;
  try {
    for (let i = 0; i < connections; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${wsgate.ports.http}/live/${i}`);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      ws.on('message', () => report.echoed++);
      ws.on('close', () => {
        if (!stopping) report.dropped++;
      });
      sockets.push(ws);
    }
    const traffic = setInterval(() => {
      for (const ws of sockets) {
        if (ws.readyState !== WebSocket.OPEN) continue;
        ws.send(`m${report.sent}`);
        report.sent++;
      }
    }, 20);
    for (let n = 1; n <= reloads; n++) {
      const text = JSON.stringify(snapshotFor(n, upstream.port));
      if (n % 2 === 0) writeFileSync(wsgate.configPath, text);
      else {
        writeFileSync(`${wsgate.configPath}.tmp`, text);
        renameSync(`${wsgate.configPath}.tmp`, wsgate.configPath);
      }
      report.reloads++;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    clearInterval(traffic);
    const deadline = Date.now() + 10_000;
    while (report.echoed < report.sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    report.lost = report.sent - report.echoed;
    report.servingAfterReloads = await routeServes(wsgate.ports.http, reloads % 2 === 1 ? `/extra-${reloads}` : '/live');
  } finally {
    stopping = true;
    for (const ws of sockets) ws.terminate();
    await wsgate.stop();
    await upstream.close();
  }
  return report;
}

async function routeServes(port: number, path: string): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
      ws.once('open', () => {
        ws.terminate();
        resolve(true);
      });
      ws.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

// SPEC §6 upstream-tls-ca-secret through the Kubernetes path (`wsgate run` + the test API server):
// the CA named by ingress-nginx's proxy-ssl-secret is most often an Opaque Secret (`ca.crt`
// beside a client pair). wsgate must see it, verify the backend against it, and follow its changes:
// a CA the backend does not chain to turns new connections into 502, open ones stay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer, type ClientOptions } from 'ws';
import { startApiServer, type ApiServer, type KubeObject } from '../../support/apiserver.ts';
import { writeKubeconfig } from '../../support/kubeconfig.ts';
import { endpointSlice, ingress, ingressClass, service } from '../../support/k8s.ts';
import { makeCa, makeCert, type TestCertificate } from '../../support/certs.ts';
import { connect, deadPort, eventually, nextMessage } from '../../support/proxy.ts';
import { CLI_SCRIPT } from '../../support/cli.ts';

const HOST = 'chat.example.test';
const BACKEND_NAME = 'chat.default.svc';

function opaqueCaSecret(ca: TestCertificate, client: TestCertificate): KubeObject {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'backend-ca', namespace: 'default' },
    type: 'Opaque',
    data: { 'ca.crt': b64(ca.cert), 'tls.crt': b64(client.cert), 'tls.key': b64(client.key) },
  };
}

describe('upstream-tls-verify with an Opaque CA Secret, through wsgate run', () => {
  let api: ApiServer;
  let dir: string;
  let wsgate: ChildProcess;
  let output = '';
  let httpPort: number;
  let adminPort: number;
  let backend: https.Server;
  let ca: TestCertificate;
  let otherCa: TestCertificate;
  let clientPair: TestCertificate;
  const open: WebSocket[] = [];

  /** The handshake's HTTP status: 101 when the backend was verified and answered. */
  function handshakeStatus(): Promise<number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/ws`, { headers: { Host: HOST } } as ClientOptions);
      ws.once('open', () => {
        ws.terminate();
        resolve(101);
      });
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('error', (error) => reject(error));
    });
  }

  before(async () => {
    ca = await makeCa({ commonName: 'backend CA' });
    otherCa = await makeCa({ commonName: 'some other CA' });
    clientPair = await makeCert({ hosts: ['client.example.test'], ca });
    const cert = await makeCert({ hosts: [BACKEND_NAME], ca });
    backend = https.createServer({ cert: cert.cert, key: cert.key });
    const wss = new WebSocketServer({ server: backend });
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const backendPort = (backend.address() as AddressInfo).port;

    api = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'wsgate-e2e-ca-'));
    const kubeconfig = await writeKubeconfig(dir, api);
    api.apply(ingressClass() as unknown as KubeObject);
    api.apply(service('chat') as unknown as KubeObject);
    api.apply(endpointSlice('chat', { ports: [{ name: 'http', port: backendPort }], endpoints: [{ address: '127.0.0.1' }] }) as unknown as KubeObject);
    api.apply(opaqueCaSecret(ca, clientPair));
    // The ingress-nginx spelling, as a migrated Ingress carries it; no TLS on the host, so plain
    // ws:// reaches the route without a redirect.
    api.apply(
      ingress('chat', {
        host: HOST,
        paths: [{ path: '/ws', service: 'chat', port: 80 }],
        annotations: {
          'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS',
          'nginx.ingress.kubernetes.io/proxy-ssl-verify': 'on',
          'nginx.ingress.kubernetes.io/proxy-ssl-secret': 'default/backend-ca',
        },
      }) as unknown as KubeObject,
    );

    httpPort = await deadPort();
    adminPort = await deadPort();
    wsgate = spawn(
      process.execPath,
      [CLI_SCRIPT, 'run', '--kubeconfig', kubeconfig, '--workers', '1', '--http-port', String(httpPort), '--https-port', String(await deadPort()),
        '--admin-port', String(adminPort), '--bind-address', '127.0.0.1', '--shutdown-delay', '0s', '--shutdown-timeout', '2s'],
      { cwd: join(import.meta.dirname, '..', '..', '..'), env: { ...process.env, WSGATE_LOG_LEVEL: 'warn', POD_NAME: 'wsgate-ca-0' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    wsgate.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    wsgate.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => undefined))?.status === 200, 'wsgate ready', 20_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${output}`);
    });
  });

  after(async () => {
    for (const ws of open) ws.terminate();
    if (wsgate.exitCode === null) {
      const exited = new Promise((resolve) => wsgate.once('exit', resolve));
      wsgate.kill('SIGTERM');
      await exited;
    }
    backend.closeAllConnections();
    await new Promise((resolve) => backend.close(resolve));
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('verifies the backend against the Opaque Secret ca.crt and relays', async () => {
    const ws = await connect(`ws://127.0.0.1:${httpPort}/ws`, { headers: { Host: HOST } } as ClientOptions);
    open.push(ws);
    const reply = nextMessage(ws);
    ws.send('through a verified backend');
    assert.equal(await reply, 'through a verified backend');
    // The CA travels in the snapshot; the client pair beside it in the Secret does not.
    const config = (await (await fetch(`http://127.0.0.1:${adminPort}/config`)).json()) as { pools: { upstreamTlsVerify?: boolean; upstreamTlsCa?: string }[] };
    const pool = config.pools.find((p) => p.upstreamTlsVerify === true);
    assert.equal(pool?.upstreamTlsCa, ca.cert);
    assert.ok(!JSON.stringify(config).includes(clientPair.cert.split('\n')[1]!), 'the client certificate is not in the snapshot');
  });

  it('follows a change of the Secret: a CA the backend does not chain to gives 502; open connections stay', async () => {
    api.apply(opaqueCaSecret(otherCa, clientPair));
    await eventually(async () => (await handshakeStatus()) === 502, 'new handshakes refused with 502 under the foreign CA', 15_000);
    const [held] = open;
    assert.equal(held!.readyState, WebSocket.OPEN);
    const reply = nextMessage(held!);
    held!.send('still here');
    assert.equal(await reply, 'still here');
    api.apply(opaqueCaSecret(ca, clientPair));
    await eventually(async () => (await handshakeStatus()) === 101, 'verified again once the right CA is back', 15_000);
  });
});

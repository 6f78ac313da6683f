// SPEC §6 upstream-tls: wss to the backend, whose (self-signed) certificate is not verified.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { makeCert } from '../../support/certs.ts';
import { connect, endpoint, nextMessage, pool, route, snapshot, startTestProxy, type TestProxy } from '../../support/proxy.ts';

let backend: https.Server;
let proxy: TestProxy;
const seen: Array<{ encrypted: boolean; proto: string | undefined }> = [];

before(async () => {
  const cert = await makeCert({ hosts: ['backend.internal'] });
  backend = https.createServer({ cert: cert.cert, key: cert.key });
  const wss = new WebSocketServer({ server: backend });
  wss.on('connection', (ws, req) => {
    seen.push({ encrypted: 'encrypted' in req.socket, proto: req.headers['x-forwarded-proto'] as string | undefined });
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const port = (backend.address() as AddressInfo).port;
  proxy = await startTestProxy(
    snapshot([route('/secure', 'tls-backend'), route('/plain', 'plain-to-tls')], [
      pool('tls-backend', [endpoint(port)], { upstreamTls: true }),
      pool('plain-to-tls', [endpoint(port)], { connectTimeout: '1s', handshakeTimeout: '1s' }),
    ]),
  );
});

after(async () => {
  await proxy.close();
  backend.closeAllConnections();
  backend.close();
});

test('with upstream-tls the proxy speaks wss to the backend', async () => {
  const ws = await connect(proxy.wsUrl('/secure'));
  ws.send('over tls');
  assert.equal(await nextMessage(ws), 'over tls');
  assert.deepEqual(seen.at(-1), { encrypted: true, proto: 'http' });
  ws.close();
});

test('without it, a TLS-only backend cannot answer the handshake', async () => {
  await assert.rejects(connect(proxy.wsUrl('/plain')), (error: { status?: number }) => error.status === 502 || error.status === 504);
});

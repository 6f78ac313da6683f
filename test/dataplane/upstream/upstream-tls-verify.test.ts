// SPEC §6 upstream-tls-verify: wss (and https for plain requests) to a backend whose certificate
// must chain to the pool's CA and carry the pool's server name; anything else is 502
// upstream_connect with the verification error in the access line. Verify without a CA trusts
// nothing (fail-closed). Real TLS backends, the real `wsgate proxy` (for its access lines).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WebSocketServer } from 'ws';
import type { Pool } from '../../../src/config/snapshot.ts';
import { makeCa, makeCert, type TestCertificate } from '../../support/certs.ts';
import { freePorts, listenFlags, spawnWsgate, waitUntilReady } from '../../support/cli.ts';
import { connect, endpoint, eventually, nextMessage, pool, route, snapshot } from '../../support/proxy.ts';

const NAME = 'echo.prod.svc';
let ca: TestCertificate;
const backends: https.Server[] = [];
let child: ChildProcess;
let httpPort: number;
const lines: Array<Record<string, unknown>> = [];

/** An https server that echoes WebSocket messages and answers GET with "plain ok". */
async function tlsBackend(cert: TestCertificate): Promise<number> {
  const server = https.createServer({ cert: cert.cert, key: cert.key }, (_req, res) => res.end('plain ok'));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  backends.push(server);
  return (server.address() as AddressInfo).port;
}

before(async () => {
  ca = await makeCa({ commonName: 'wsgate test CA' });
  const otherCa = await makeCa({ commonName: 'another CA' });
  const trusted = await tlsBackend(await makeCert({ hosts: [NAME], ca }));
  const foreign = await tlsBackend(await makeCert({ hosts: [NAME], ca: otherCa }));
  const tlsPool = (name: string, port: number, extra: Partial<Pool>): Pool => pool(name, [endpoint(port)], { upstreamTls: true, connectTimeout: '2s', ...extra });
  const verify = { upstreamTlsVerify: true, upstreamTlsCa: ca.cert, upstreamTlsServerName: NAME };
  const pools = [
    tlsPool('right', trusted, verify),
    tlsPool('other-ca', foreign, verify),
    tlsPool('wrong-name', trusted, { ...verify, upstreamTlsServerName: 'other.prod.svc' }),
    tlsPool('off', foreign, {}),
    tlsPool('no-ca', trusted, { upstreamTlsVerify: true, upstreamTlsServerName: NAME }),
  ];
  const dir = await mkdtemp(join(tmpdir(), 'wsgate-upstream-verify-'));
  const config = join(dir, 'wsgate.json');
  await writeFile(config, JSON.stringify(snapshot(pools.map((p) => route(`/${p.name}`, p.name)), pools)));
  const ports = await freePorts();
  httpPort = ports.http;
  ({ child } = spawnWsgate(['proxy', '--config', config, '--workers', '1', ...listenFlags(ports)], { stdio: ['ignore', 'pipe', 'inherit'] }));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a JSON line: not an access line either
    }
  });
  await waitUntilReady(ports.admin);
});

after(() => {
  child.kill('SIGKILL');
  for (const server of backends) {
    server.closeAllConnections();
    server.close();
  }
});

async function accessLine(path: string, status: number): Promise<Record<string, unknown>> {
  const find = () => lines.find((l) => l.component === 'access' && l.path === path && l.status === status);
  await eventually(() => find() !== undefined, `access line for ${path}`);
  return find()!;
}

async function refusedWith(path: string): Promise<Record<string, unknown>> {
  await assert.rejects(connect(`ws://127.0.0.1:${httpPort}${path}`), (error: { status?: number }) => error.status === 502);
  const line = await accessLine(path, 502);
  assert.equal(line.reason, 'upstream_connect');
  return line;
}

async function get(path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${httpPort}${path}`);
  return { status: response.status, body: await response.text() };
}

test('the right CA and name: 101 and the echo', async () => {
  const ws = await connect(`ws://127.0.0.1:${httpPort}/right`);
  ws.send('verified');
  assert.equal(await nextMessage(ws), 'verified');
  ws.close();
});

test('a certificate from another CA: 502 upstream_connect with the verification error', async () => {
  const line = await refusedWith('/other-ca');
  assert.match(String(line.message), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
});

test('the right CA but another name: 502 with ERR_TLS_CERT_ALTNAME_INVALID', async () => {
  const line = await refusedWith('/wrong-name');
  assert.match(String(line.message), /ERR_TLS_CERT_ALTNAME_INVALID/);
});

test('verify without a CA trusts nothing, not even a certificate the right CA signed (fail-closed)', async () => {
  const line = await refusedWith('/no-ca');
  assert.match(String(line.message), /no usable CA/);
});

test('a refused certificate does not eject the endpoint: the pool that trusts it still connects', async () => {
  // /wrong-name and /no-ca were refused on the endpoint /right uses.
  const ws = await connect(`ws://127.0.0.1:${httpPort}/right`);
  ws.close();
});

test('verify off: any certificate is accepted, as before', async () => {
  const ws = await connect(`ws://127.0.0.1:${httpPort}/off`);
  ws.send('unverified');
  assert.equal(await nextMessage(ws), 'unverified');
  ws.close();
});

test('plain HTTP requests verify the same way', async () => {
  assert.deepEqual(await get('/right/x'), { status: 200, body: 'plain ok' });
  // /off first: its kept-alive socket to the foreign backend must not serve /other-ca after it.
  assert.deepEqual(await get('/off/x'), { status: 200, body: 'plain ok' });
  for (const [path, error] of [
    ['/other-ca/x', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/],
    ['/wrong-name/x', /ERR_TLS_CERT_ALTNAME_INVALID/],
    ['/no-ca/x', /no usable CA/],
  ] as const) {
    assert.equal((await get(path)).status, 502, path);
    assert.match(String((await accessLine(path, 502)).message), error, path);
  }
});

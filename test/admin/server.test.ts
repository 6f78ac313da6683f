import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { startAdminServer, type AdminSources } from '../../src/admin/server.ts';
import { PROMETHEUS_CONTENT_TYPE, WsgateMetrics } from '../../src/metrics/metrics.ts';
import { setLogLevel } from '../../src/common/log.ts';
import { PROMTOOL_MISSING, promtoolAvailable, promtoolCheck, sampleValue } from '../metrics/fixtures/exposition.ts';

setLogLevel('silent');

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A plain HTTP/1.1 request over a fresh connection, so each answer is seen exactly as sent. */
function call(port: number, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sources a test can steer: readiness, the snapshot and the metrics text. */
function fakeSources(): AdminSources & { ready: boolean; snapshot: unknown; text: () => Promise<string> } {
  const sources = {
    ready: false,
    snapshot: undefined as unknown,
    text: async () => '# HELP x_total x\n# TYPE x_total counter\nx_total 1\n',
    metricsText: () => sources.text(),
    isReady: () => sources.ready,
    config: () => sources.snapshot,
  };
  return sources;
}

async function startWith(t: { after(fn: () => Promise<void>): void }, sources: AdminSources) {
  const server = await startAdminServer({ port: 0, host: '127.0.0.1', sources });
  t.after(() => server.close());
  return server;
}

test('/healthz answers 200 ok while the process runs, ready or not', async (t) => {
  const sources = fakeSources();
  const { port } = await startWith(t, sources);
  const answer = await call(port, '/healthz');
  assert.equal(answer.status, 200);
  assert.equal(answer.body.trim(), 'ok');
});

test('/readyz follows isReady(): 503 before the first snapshot, 200 after, 503 again on shutdown', async (t) => {
  const sources = fakeSources();
  const { port } = await startWith(t, sources);
  assert.equal((await call(port, '/readyz')).status, 503);
  sources.ready = true;
  assert.equal((await call(port, '/readyz')).status, 200);
  sources.ready = false;
  assert.equal((await call(port, '/readyz')).status, 503);
});

test('/config returns the snapshot in effect as JSON, and 503 before there is one', async (t) => {
  const sources = fakeSources();
  const { port } = await startWith(t, sources);
  const before = await call(port, '/config');
  assert.equal(before.status, 503);
  assert.match(String(before.headers['content-type']), /^application\/json/);

  sources.snapshot = { version: 1, routes: [{ host: 'chat.example.com', path: '/' }], tls: [{ key: '<redacted>' }] };
  const after = await call(port, '/config');
  assert.equal(after.status, 200);
  assert.match(String(after.headers['content-type']), /^application\/json/);
  assert.deepEqual(JSON.parse(after.body), sources.snapshot);
});

test('/metrics serves the real exposition with the Prometheus text content type', async (t) => {
  const metrics = new WsgateMetrics();
  const route = metrics.route({ namespace: 'apps', ingress: 'chat', service: 'chat-ws' });
  route.opened();
  route.traffic.bytesDown += 64;
  metrics.configReload(true, new Date(1_000));
  const sources = fakeSources();
  sources.text = () => metrics.registry.metrics();
  const { port } = await startWith(t, sources);

  const answer = await call(port, '/metrics');
  assert.equal(answer.status, 200);
  assert.equal(answer.headers['content-type'], PROMETHEUS_CONTENT_TYPE);
  assert.match(PROMETHEUS_CONTENT_TYPE, /^text\/plain; version=0\.0\.4/);
  const labels = { namespace: 'apps', ingress: 'chat', service: 'chat-ws' };
  assert.equal(sampleValue(answer.body, 'wsgate_connections_active', labels), 1);
  assert.equal(sampleValue(answer.body, 'wsgate_bytes_total', { ...labels, direction: 'downstream' }), 64);
  assert.equal(sampleValue(answer.body, 'wsgate_config_last_reload_success_timestamp_seconds'), 1);

  if (!promtoolAvailable()) {
    t.diagnostic(PROMTOOL_MISSING);
    return;
  }
  const verdict = promtoolCheck(answer.body);
  assert.ok(verdict.ok, verdict.output);
});

test('/metrics answers 500 when the metrics cannot be collected, and the server keeps serving', async (t) => {
  const sources = fakeSources();
  sources.text = () => Promise.reject(new Error('a worker sent garbage'));
  const { port } = await startWith(t, sources);
  assert.equal((await call(port, '/metrics')).status, 500);
  assert.equal((await call(port, '/healthz')).status, 200);
});

test('a query string does not change the route', async (t) => {
  const sources = fakeSources();
  const { port } = await startWith(t, sources);
  const answer = await call(port, '/metrics?name[]=x_total');
  assert.equal(answer.status, 200);
  assert.equal(sampleValue(answer.body, 'x_total'), 1);
});

test('unknown paths are 404; other methods than GET and HEAD are 405 with Allow', async (t) => {
  const sources = fakeSources();
  const { port } = await startWith(t, sources);
  for (const path of ['/', '/metrics/', '/health', '/config.json', '/toString', '/__proto__']) {
    assert.equal((await call(port, path)).status, 404, path);
  }
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const answer = await call(port, '/metrics', method);
    assert.equal(answer.status, 405, method);
    assert.equal(answer.headers.allow, 'GET, HEAD');
  }
  const head = await call(port, '/healthz', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
});

test('close() resolves even while a client holds a keep-alive connection', async () => {
  const sources = fakeSources();
  const server = await startAdminServer({ port: 0, host: '127.0.0.1', sources });
  const response = await fetch(`http://127.0.0.1:${server.port}/healthz`, { headers: { connection: 'keep-alive' } });
  assert.equal(await response.text(), 'ok\n');
  await server.close();
  await assert.rejects(call(server.port, '/healthz'), /ECONNREFUSED/);
});

test('a port already in use is reported by startAdminServer, not thrown later', async (t) => {
  const sources = fakeSources();
  const { port } = await startWith(t, sources);
  await assert.rejects(startAdminServer({ port, host: '127.0.0.1', sources }), /EADDRINUSE/);
  await assert.rejects(startAdminServer({ port, host: '127.0.0.1', sources }), { name: 'ListenError', code: 'WSGATE_ERR_LISTEN', listener: 'admin', port });
});

/**
 * A request as a client on another host makes it: the bytes travel over loopback, but the
 * connection the admin server is handed reports `remoteAddress` as the pod network would.
 */
function callFrom(server: { http?: Server }, remoteAddress: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const relay = createNetServer((socket) => {
      Object.defineProperty(socket, 'remoteAddress', { value: remoteAddress });
      server.http!.emit('connection', socket);
    });
    relay.listen(0, '127.0.0.1', () => {
      const { port } = relay.address() as AddressInfo;
      call(port, path).then(resolve, reject).finally(() => relay.close());
    });
  });
}

test('/config answers loopback clients only: 403 for any other address, the rest of the port unchanged', async (t) => {
  const sources = fakeSources();
  sources.snapshot = { version: 1, routes: [] };
  sources.ready = true;
  const server = await startWith(t, sources);
  assert.equal((await call(server.port, '/config')).status, 200, 'from 127.0.0.1');
  assert.equal((await callFrom(server, '::1', '/config')).status, 200, 'from ::1');
  assert.equal((await callFrom(server, '::ffff:127.0.0.1', '/config')).status, 200, 'IPv4-mapped loopback');
  for (const remote of ['10.0.3.7', '::ffff:10.0.3.7', 'fd00::7', '128.0.0.1']) {
    const answer = await callFrom(server, remote, '/config');
    assert.equal(answer.status, 403, `from ${remote}`);
    assert.doesNotMatch(answer.body, /routes/);
  }
  // Scrapes and probes come from other hosts: they are not affected.
  assert.equal((await callFrom(server, '10.0.3.7', '/metrics')).status, 200);
  assert.equal((await callFrom(server, '10.0.3.7', '/readyz')).status, 200);
});

test('--expose-config serves /config to every client', async (t) => {
  const sources = fakeSources();
  sources.snapshot = { version: 1, routes: [] };
  const server = await startAdminServer({ port: 0, host: '127.0.0.1', sources, exposeConfig: true });
  t.after(() => server.close());
  const answer = await callFrom(server, '10.0.3.7', '/config');
  assert.equal(answer.status, 200);
  assert.deepEqual(JSON.parse(answer.body), sources.snapshot);
});

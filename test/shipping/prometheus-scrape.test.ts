// A real Prometheus (Debian's package) scrapes a running wsgate: the SPEC §9 series appear in
// its database with their labels, after real traffic, a refused handshake and a TLS certificate.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCert } from '../support/certs.ts';
import {
  closed, connect, deadPort, endpoint, eventually, nextMessage, pool, route, snapshot, startTestProxy, startUpstream,
  type TestProxy, type TestUpstream,
} from '../support/proxy.ts';

const PROMETHEUS = process.env.PROMETHEUS ?? '/usr/bin/prometheus';
const skip = existsSync(PROMETHEUS) ? false : `${PROMETHEUS} not found (Debian package prometheus; .ci/run installs it)`;

let upstream: TestUpstream;
let proxy: TestProxy;
let prometheus: ChildProcess;
let dir: string;
let promPort: number;

interface Series { metric: Record<string, string>; value: [number, string] }

async function query(expr: string): Promise<Series[]> {
  const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; data: { result: Series[] } };
  assert.equal(body.status, 'success');
  return body.data.result;
}

before(async () => {
  if (skip) return;
  upstream = await startUpstream('echo');
  const cert = await makeCert({ hosts: ['chat.example.test'] });
  const base = snapshot([route('/', 'echo', { source: { namespace: 'prod', ingress: 'chat' } })], [pool('echo', [endpoint(upstream.port)], { source: { namespace: 'prod', service: 'chat-svc' } })]);
  proxy = await startTestProxy({ ...base, tls: { certificates: [{ name: 'prod/chat-tls', hosts: ['chat.example.test'], cert: cert.cert, key: cert.key }] } });

  // Traffic worth scraping: a relayed connection closed by the client, and a refused handshake.
  const ws = await connect(proxy.wssUrl('/room'));
  ws.send('hi');
  await nextMessage(ws);
  ws.close(4000);
  await closed(ws);
  await assert.rejects(connect(proxy.wsUrl('/room'), { protocolVersion: 8 }), { status: 426 });

  dir = await mkdtemp(join(tmpdir(), 'wsgate-prometheus-'));
  promPort = await deadPort();
  await writeFile(
    join(dir, 'prometheus.yml'),
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: wsgate',
      `    static_configs: [{ targets: ['127.0.0.1:${proxy.adminPort}'] }]`,
    ].join('\n'),
  );
  prometheus = spawn(
    PROMETHEUS,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`],
    { stdio: 'ignore' },
  );
  await eventually(async () => {
    try {
      return (await query('up{job="wsgate"}')).some((s) => s.value[1] === '1');
    } catch {
      return false;
    }
  }, 'Prometheus scraped wsgate', 60_000);
});

after(async () => {
  if (skip) return;
  prometheus?.kill('SIGKILL');
  await proxy?.close();
  await upstream?.close();
  await rm(dir, { recursive: true, force: true });
});

test('the SPEC §9 series reach Prometheus with their labels', { skip }, async () => {
  const expectations: Array<[string, Record<string, string>]> = [
    ['wsgate_connections_total', { namespace: 'prod', ingress: 'chat', service: 'chat-svc' }],
    ['wsgate_connections_active', { namespace: 'prod', ingress: 'chat', service: 'chat-svc' }],
    ['wsgate_close_codes_total', { namespace: 'prod', ingress: 'chat', code: '4000', side: 'client' }],
    ['wsgate_handshake_failures_total', { reason: 'bad_version', namespace: '', ingress: '' }],
    ['wsgate_connection_duration_seconds_count', { ingress: 'chat' }],
    ['wsgate_upstream_connect_duration_seconds_count', { namespace: 'prod', service: 'chat-svc' }],
    ['wsgate_bytes_total', { ingress: 'chat', direction: 'upstream' }],
    ['wsgate_bytes_total', { ingress: 'chat', direction: 'downstream' }],
    ['wsgate_messages_total', { ingress: 'chat', direction: 'upstream' }],
    ['wsgate_upstream_endpoints', { namespace: 'prod', service: 'chat-svc', state: 'ready' }],
    ['wsgate_config_reloads_total', { result: 'success' }],
    ['wsgate_config_last_reload_success_timestamp_seconds', {}],
    ['wsgate_tls_certificate_expiry_timestamp_seconds', { namespace: 'prod', secret: 'chat-tls' }],
  ];
  await eventually(async () => {
    for (const [name, labels] of expectations) {
      const series = await query(name);
      if (!series.some((s) => Object.entries(labels).every(([k, v]) => (s.metric[k] ?? '') === v))) return false;
    }
    return true;
  }, 'every SPEC §9 series in Prometheus', 30_000);

  const [total] = await query('sum(wsgate_connections_total{ingress="chat"})');
  assert.equal(total!.value[1], '1');
  const [closes] = await query('wsgate_close_codes_total{code="4000",side="client"}');
  assert.equal(closes!.value[1], '1');
  const [endpoints] = await query('wsgate_upstream_endpoints{service="chat-svc",state="ready"}');
  assert.equal(endpoints!.value[1], '1');
  const [expiry] = await query('wsgate_tls_certificate_expiry_timestamp_seconds{secret="chat-tls"}');
  assert.ok(Number(expiry!.value[1]) > Date.now() / 1000, 'expiry is in the future');
});

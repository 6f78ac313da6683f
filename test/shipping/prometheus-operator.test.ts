// A real Prometheus scrapes two running wsgate "pods" through the relabel rules the Prometheus
// Operator generates for the chart's own ServiceMonitor (test/helm/operator-scrape.ts), and runs
// the chart's alerts and dashboard queries on what it stored. With several backend Services in
// several namespaces, several Ingresses per Service and one Service whose endpoints are all
// unready, WsgateNoReadyEndpoints must fire for exactly that Service: wsgate's `namespace` and
// `service` labels must survive the Operator's target labels of the same names.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { makeCert } from '../support/certs.ts';
import {
  closed, connect, deadPort, endpoint, eventually, nextMessage, pool, route, snapshot, startTestProxy, startUpstream,
  type TestProxy, type TestUpstream,
} from '../support/proxy.ts';
import { chartDir, renderChart, type KubeObject } from '../helm/render.ts';
import { endpointsDiscovery, operatorScrapeConfigs, type ServiceMonitor } from '../helm/operator-scrape.ts';
import { dashboardQueries, grafanaToPromql, type Dashboard } from '../helm/monitoring.ts';

const PROMETHEUS = process.env.PROMETHEUS ?? '/usr/bin/prometheus';
const skip = existsSync(PROMETHEUS) ? false : `${PROMETHEUS} not found (Debian package prometheus; .ci/run installs it)`;

interface Rule { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
interface Series { metric: Record<string, string>; value: [number, string] }

// The chart as installed with monitoring on; combined mode, so each pod is one wsgate process.
const chart = renderChart({ valuesFiles: [join(chartDir, 'ci/monitoring-values.yaml')], values: { mode: 'combined' } });
const serviceMonitor = chart.objects.find((o) => o.kind === 'ServiceMonitor') as ServiceMonitor | undefined;
const rules = ((chart.objects.find((o) => o.kind === 'PrometheusRule') as (KubeObject & { spec: { groups: { name: string; rules: Rule[] }[] } }) | undefined)?.spec.groups ?? []);
const dashboard = JSON.parse((chart.objects.find((o) => o.kind === 'ConfigMap') as (KubeObject & { data: Record<string, string> }) | undefined)?.data['wsgate.json'] ?? '{}') as Dashboard;
const podLabels = (chart.objects.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels;

let upstreams: TestUpstream[] = [];
let pods: TestProxy[] = [];
let prometheus: ChildProcess | undefined;
let dir = '';
let promPort = 0;

async function query(expr: string): Promise<Series[]> {
  const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: Series[] } };
  assert.equal(body.status, 'success', `${expr}: ${body.error ?? ''}`);
  return body.data.result;
}

function firing(series: Series[]): string[] {
  return series.map((s) => `${s.metric.alertname} ${s.metric.namespace ?? ''}/${s.metric.service ?? s.metric.ingress ?? ''}`).sort();
}

/** Backends: two namespaces, the same Service name in both, two Ingresses on most Services. */
function backendSnapshot(readyPort: number, otherPort: number, unreachable: number) {
  const ready = [endpoint(readyPort), endpoint(otherPort)];
  return snapshot(
    [
      route('/', 'prod-chat', { host: 'chat.prod.test', source: { namespace: 'prod', ingress: 'chat' } }),
      route('/v2', 'prod-chat-v2', { host: 'chat.prod.test', source: { namespace: 'prod', ingress: 'chat-v2' } }),
      route('/', 'prod-feed', { host: 'feed.prod.test', source: { namespace: 'prod', ingress: 'feed' } }),
      route('/', 'staging-chat', { host: 'chat.staging.test', source: { namespace: 'staging', ingress: 'chat' } }),
      route('/admin', 'staging-chat-admin', { host: 'chat.staging.test', source: { namespace: 'staging', ingress: 'chat-admin' } }),
      route('/', 'staging-api', { host: 'api.staging.test', source: { namespace: 'staging', ingress: 'api' } }),
    ],
    [
      pool('prod-chat', ready, { source: { namespace: 'prod', service: 'chat' } }),
      pool('prod-chat-v2', ready, { source: { namespace: 'prod', service: 'chat' } }),
      pool('prod-feed', [endpoint(readyPort)], { source: { namespace: 'prod', service: 'feed' } }),
      // staging/chat: listed endpoints, none ready (a broken rollout).
      pool('staging-chat', [endpoint(unreachable, 'not-ready'), endpoint(otherPort, 'terminating')], { source: { namespace: 'staging', service: 'chat' } }),
      pool('staging-chat-admin', [endpoint(unreachable, 'not-ready'), endpoint(otherPort, 'terminating')], { source: { namespace: 'staging', service: 'chat' } }),
      pool('staging-api', [endpoint(otherPort)], { source: { namespace: 'staging', service: 'api' } }),
    ],
  );
}

before(async () => {
  if (skip) return;
  assert.ok(serviceMonitor, 'the chart renders a ServiceMonitor');
  upstreams = [await startUpstream('echo-a'), await startUpstream('echo-b')];
  const cert = await makeCert({ hosts: ['chat.prod.test'] });
  const base = backendSnapshot(upstreams[0]!.port, upstreams[1]!.port, await deadPort());
  const served = { ...base, tls: { certificates: [{ name: 'prod/chat-tls', hosts: ['chat.prod.test'], cert: cert.cert, key: cert.key }] } };
  pods = [await startTestProxy(served), await startTestProxy(served)];

  dir = await mkdtemp(join(tmpdir(), 'wsgate-prometheus-operator-'));
  promPort = await deadPort();
  const fakePods = pods.map((p, i) => ({
    name: `wsgate-7d9f-${'ab'[i]}`,
    labels: podLabels,
    ports: { metrics: ['wsgate', p.adminPort], http: ['wsgate', p.httpPort], https: ['wsgate', p.httpsPort] } as Record<string, [string, number]>,
  }));
  const sdFile = join(dir, 'kubernetes-endpoints.json');
  await writeFile(sdFile, JSON.stringify(endpointsDiscovery(chart.objects, fakePods)));
  // The alerts as shipped, minus `for`, so that a condition that holds shows as firing now.
  const testRules = rules.map((g) => ({ ...g, rules: g.rules.map(({ for: _for, ...r }) => r) }));
  await writeFile(join(dir, 'rules.yaml'), stringify({ groups: testRules }));
  const scrapeConfigs = operatorScrapeConfigs(serviceMonitor, sdFile).map((c) => ({ ...c, scrape_interval: '1s', scrape_timeout: '1s' }));
  await writeFile(join(dir, 'prometheus.yml'), stringify({ global: { scrape_interval: '1s', evaluation_interval: '1s' }, rule_files: [join(dir, 'rules.yaml')], scrape_configs: scrapeConfigs }));
  prometheus = spawn(
    PROMETHEUS,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`],
    { stdio: 'ignore' },
  );
  await eventually(async () => {
    try {
      return (await query('up == 1')).length === 2;
    } catch {
      return false;
    }
  }, 'Prometheus scraped both wsgate pods', 60_000);

  // Traffic on the first pod only: a relayed message, a wss connection left open, a refused
  // handshake with no route known, and handshakes to the Service with no ready endpoint.
  const ws = await connect(pods[0]!.wsUrl('/'), { headers: { Host: 'chat.prod.test' } });
  ws.send('hi');
  await nextMessage(ws);
  ws.close(1000);
  await closed(ws);
  await assert.rejects(connect(pods[0]!.wsUrl('/'), { protocolVersion: 8 }), { status: 426 });
});

after(async () => {
  if (skip) return;
  prometheus?.kill('SIGKILL');
  for (const p of pods) await p.close();
  for (const u of upstreams) await u.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Prometheus through the Operator\'s relabelling of the chart\'s ServiceMonitor', { skip }, () => {
  it('scrapes only the metrics port of the metrics Service, labelled with the controller pod and namespace', async () => {
    const up = await query('up');
    assert.deepEqual(up.map((s) => [s.metric.job, s.metric.endpoint, s.metric.namespace, s.metric.service, s.metric.container]).sort(), [
      ['wsgate-metrics', 'metrics', 'wsgate', 'wsgate-metrics', 'wsgate'],
      ['wsgate-metrics', 'metrics', 'wsgate', 'wsgate-metrics', 'wsgate'],
    ]);
    assert.deepEqual(up.map((s) => [s.metric.controller_namespace, s.metric.controller_pod]).sort(), [['wsgate', 'wsgate-7d9f-a'], ['wsgate', 'wsgate-7d9f-b']]);
  });

  it('keeps wsgate\'s own namespace and service labels: nothing is renamed exported_*', async () => {
    await eventually(async () => (await query('wsgate_upstream_endpoints')).length > 0, 'endpoint series');
    assert.deepEqual(await query('count({__name__=~"wsgate_.+", exported_namespace!=""}) or count({__name__=~"wsgate_.+", exported_service!=""})'), []);
    const services = await query('count by (namespace, service) (wsgate_upstream_endpoints)');
    assert.deepEqual(services.map((s) => `${s.metric.namespace}/${s.metric.service}`).sort(), ['prod/chat', 'prod/feed', 'staging/api', 'staging/chat']);
    const pods = await query('count by (controller_pod) (wsgate_upstream_endpoints)');
    assert.equal(pods.length, 2);
  });

  it('fires WsgateNoReadyEndpoints for exactly the Service with no ready endpoint, and the handshake alert for its Ingress', async () => {
    // Refusals the handshake-ratio alert should see as the staging/chat Ingress's (503 no_endpoints);
    // sent until Prometheus has seen the counter grow, since rate() needs an increase.
    await eventually(async () => {
      await assert.rejects(connect(pods[0]!.wsUrl('/'), { headers: { Host: 'chat.staging.test' } }), { status: 503 });
      return (await query('ALERTS{alertname="WsgateHandshakeFailureRatioHigh", alertstate="firing"}')).length > 0;
    }, 'handshake failures seen by the alert', 30_000);
    await eventually(async () => (await query('ALERTS{alertname="WsgateNoReadyEndpoints", alertstate="firing"}')).length > 0, 'WsgateNoReadyEndpoints firing', 30_000);
    // Without `for`, a loaded test machine can trip the alerts about the machine itself (a late
    // scrape, a stalled event loop) for a moment; they are not what this test is about.
    const alerts = await query('ALERTS{alertstate="firing", alertname!~"WsgateTargetDown|WsgateEventLoopLagHigh"}');
    assert.deepEqual(firing(alerts), ['WsgateHandshakeFailureRatioHigh staging/chat', 'WsgateNoReadyEndpoints staging/chat']);
    const noReady = alerts.find((a) => a.metric.alertname === 'WsgateNoReadyEndpoints')!;
    assert.equal(noReady.metric.severity, 'critical');
  });

  it('evaluates every shipped alert expression without error', async () => {
    for (const group of rules) {
      for (const rule of group.rules) await query(rule.expr);
    }
  });

  it('runs every dashboard query, and the panels that matter show each backend and pod', async () => {
    for (const q of dashboardQueries(dashboard)) await query(grafanaToPromql(q.expr));
    // The $namespace variable lists the Ingresses' namespaces, not wsgate's own.
    const namespaces = await query('count by (namespace) (wsgate_connections_total)');
    assert.deepEqual(namespaces.map((s) => s.metric.namespace).sort(), ['prod', 'staging']);
    const early = await query('wsgate_handshake_failures_total{reason="bad_version"}');
    // Refused before a route is known: wsgate's empty namespace/service win over the target's too.
    assert.equal(early.length, 1);
    assert.deepEqual([early[0]!.metric.namespace, early[0]!.metric.service, early[0]!.metric.controller_namespace], [undefined, undefined, 'wsgate']);
    const endpointsPanel = dashboard.panels?.find((p) => p.title === 'Upstream endpoints by state')?.targets?.[0]?.expr ?? '';
    const endpointRows = await query(grafanaToPromql(endpointsPanel));
    assert.ok(endpointRows.some((s) => s.metric.namespace === 'staging' && s.metric.service === 'chat' && s.metric.state === 'not_ready'));
    const podOptions = await query('count by (controller_pod) (wsgate_config_reloads_total)');
    assert.deepEqual(podOptions.map((s) => s.metric.controller_pod).sort(), ['wsgate-7d9f-a', 'wsgate-7d9f-b']);
    const spread = dashboard.panels?.find((p) => p.title === 'Connections per pod')?.targets?.[0]?.expr ?? '';
    await eventually(async () => (await query(grafanaToPromql(spread))).length > 0, 'per-pod spread has a series');
    const cpu = dashboard.panels?.find((p) => p.title === 'CPU')?.targets?.[0]?.expr ?? '';
    await eventually(async () => (await query(grafanaToPromql(cpu))).length === 2, 'CPU of both pods');
  });
});

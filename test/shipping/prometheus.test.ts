// The chart's Prometheus wiring, checked with Prometheus' own tool: the PrometheusRule's rules
// pass `promtool check rules`, the alerts fire (and stay quiet) on the series in
// fixtures/wsgate-alerts.promtool.yaml, every alert links its runbook, and every alert and
// dashboard query names only metrics a running wsgate exports (its real /metrics) or SPEC §9
// names. test/shipping/prometheus-operator.test.ts runs the same queries in a real Prometheus.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { chartDir, renderChart } from '../helm/render.ts';
import type { KubeObject } from '../helm/render.ts';
import { dashboardQueries, grafanaToPromql, metricNames, type Dashboard } from '../helm/monitoring.ts';
import { pool, route, scrape, snapshot, startTestProxy, endpoint } from '../support/proxy.ts';

const promtool = process.env.PROMTOOL ?? '/usr/bin/promtool';

/** SPEC §9: the metric names are the interface. Histograms also expose _bucket, _sum, _count. */
const specMetrics = new Set([
  'wsgate_connections_active',
  'wsgate_connections_total',
  'wsgate_handshake_failures_total',
  'wsgate_close_codes_total',
  'wsgate_connection_duration_seconds',
  'wsgate_upstream_connect_duration_seconds',
  'wsgate_bytes_total',
  'wsgate_messages_total',
  'wsgate_upstream_endpoints',
  'wsgate_config_reloads_total',
  'wsgate_config_last_reload_success_timestamp_seconds',
  'wsgate_tls_certificate_expiry_timestamp_seconds',
  'wsgate_config_last_reload_successful',
  'wsgate_upstream_connections_active',
  'wsgate_ping_timeouts_total',
  'wsgate_rebalance_closes_total',
  'wsgate_accept_errors_total',
  'wsgate_controller_sync_errors_total',
]);

/** Series Prometheus itself makes for every target. */
const prometheusMetrics = new Set(['up']);

interface Rule { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
interface RuleGroup { name: string; rules: Rule[] }

function runPromtool(args: string[]): { ok: boolean; output: string } {
  try {
    return { ok: true, output: execFileSync(promtool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
}

const monitoring = renderChart({ valuesFiles: [join(chartDir, 'ci/monitoring-values.yaml')] });
const ruleObject = monitoring.objects.find((o) => o.kind === 'PrometheusRule') as (KubeObject & { spec: { groups: RuleGroup[] } }) | undefined;
const dashboardMap = monitoring.objects.find((o) => o.kind === 'ConfigMap') as (KubeObject & { data: Record<string, string> }) | undefined;
const dashboard = JSON.parse(dashboardMap?.data['wsgate.json'] ?? '{}') as Dashboard;
const groups = ruleObject?.spec.groups ?? [];
const alerts = groups.flatMap((g) => g.rules).filter((r) => r.alert);

/** Metric names on a running wsgate's /metrics (the default process metrics included). */
let exported = new Set<string>();
let dir = '';
before(async () => {
  const proxy = await startTestProxy(snapshot([route('/', 'echo')], [pool('echo', [endpoint(1)])]));
  try {
    const text = await scrape(proxy.adminPort);
    exported = new Set([...text.matchAll(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) /gm)].map((m) => m[1] as string));
  } finally {
    await proxy.close();
  }
  dir = mkdtempSync(join(tmpdir(), 'wsgate-rules-'));
  writeFileSync(join(dir, 'rules.yaml'), stringify({ groups }));
  copyFileSync(join(import.meta.dirname, 'fixtures/wsgate-alerts.promtool.yaml'), join(dir, 'wsgate-alerts.promtool.yaml'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('PrometheusRule', () => {
  it('holds the alerts the issue asks for', () => {
    assert.deepEqual(alerts.map((a) => a.alert).sort(), [
      'WsgateCertificateExpiringSoon',
      'WsgateCertificateExpiryCritical',
      'WsgateConfigReloadFailed',
      'WsgateEventLoopLagHigh',
      'WsgateFileDescriptorsNearLimit',
      'WsgateHandshakeFailureRatioHigh',
      'WsgateNoReadyEndpoints',
      'WsgateTargetDown',
      'WsgateUpstreamAbnormalClosesHigh',
    ]);
    for (const a of alerts) {
      assert.ok(a.labels?.severity, `${a.alert} has a severity`);
      assert.ok(a.annotations?.summary && a.annotations.description, `${a.alert} explains itself`);
    }
    // Client-side 1006 (mobile networks) is noise: only the upstream side alerts.
    assert.match(alerts.find((a) => a.alert === 'WsgateUpstreamAbnormalClosesHigh')?.expr ?? '', /side="upstream"/);
    assert.equal(alerts.find((a) => a.alert === 'WsgateCertificateExpiryCritical')?.labels?.severity, 'critical');
    // Holds while the refused config is still refused, instead of clearing after a window.
    assert.match(alerts.find((a) => a.alert === 'WsgateConfigReloadFailed')?.expr ?? '', /wsgate_config_last_reload_successful == 0/);
  });

  it('links every alert to its section of docs/runbooks.md', () => {
    const runbooks = readFileSync(join(chartDir, '../../docs/runbooks.md'), 'utf8');
    // GitHub's anchors: the heading lowercased.
    const anchors = new Set([...runbooks.matchAll(/^## (.+)$/gm)].map((m) => (m[1] as string).trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replaceAll(' ', '-')));
    for (const a of alerts) {
      const url = a.annotations?.runbook_url ?? '';
      assert.match(url, /^https:\/\/github\.com\/wsgate\/wsgate\/blob\/main\/docs\/runbooks\.md#/, `${a.alert}: ${url}`);
      assert.ok(anchors.has(url.slice(url.indexOf('#') + 1)), `${a.alert}: no section ${url} in docs/runbooks.md`);
    }
  });

  it('switches single alerts off, and appends additionalRules in a group of their own', () => {
    const custom = renderChart({
      values: {
        metrics: {
          prometheusRule: {
            enabled: true,
            alerts: { WsgateTargetDown: false, WsgateEventLoopLagHigh: false },
            additionalRules: [{ alert: 'MyWsgateTooQuiet', expr: 'sum(wsgate_connections_active) < 1', for: '30m', labels: { severity: 'info' } }],
          },
        },
      },
    });
    const rule = custom.objects.find((o) => o.kind === 'PrometheusRule') as unknown as { spec: { groups: RuleGroup[] } };
    const names = rule.spec.groups.flatMap((g) => g.rules.map((r) => `${g.name}:${r.alert ?? r.record}`));
    assert.ok(!names.includes('wsgate:WsgateTargetDown') && !names.includes('wsgate:WsgateEventLoopLagHigh'));
    assert.ok(names.includes('wsgate:WsgateNoReadyEndpoints'));
    assert.ok(names.includes('wsgate-additional:MyWsgateTooQuiet'));
    assert.throws(() => renderChart({ values: { metrics: { prometheusRule: { alerts: { WsgateTargetDwn: false } } } } }), /WsgateTargetDwn/);
  });

  it('passes `promtool check rules`', () => {
    const result = runPromtool(['check', 'rules', join(dir, 'rules.yaml')]);
    assert.ok(result.ok, result.output);
    assert.match(result.output, new RegExp(`SUCCESS: ${alerts.length} rules found`));
  });

  it('fires each alert on series that should trigger it, and not on healthy ones (`promtool test rules`)', () => {
    const result = runPromtool(['test', 'rules', join(dir, 'wsgate-alerts.promtool.yaml')]);
    assert.ok(result.ok, result.output);
    assert.match(result.output, /SUCCESS/);
  });

  it('keeps, for every alert, a promtool case where it fires and one where it stays quiet', () => {
    const fixture = parse(readFileSync(join(import.meta.dirname, 'fixtures/wsgate-alerts.promtool.yaml'), 'utf8')) as { tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const cases = fixture.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const a of alerts) {
      assert.ok(cases.some((c) => c.alertname === a.alert && c.exp_alerts.length > 0), `${a.alert} fires in some case`);
      assert.ok(cases.some((c) => c.alertname === a.alert && c.exp_alerts.length === 0), `${a.alert} stays quiet in some case`);
    }
  });

  it('is proven by the promtool test: a broken threshold makes it fail', () => {
    // Guards the guard: if the fixture did not exercise the rules, this would pass too.
    const loose = structuredClone(groups);
    for (const r of loose[0]?.rules ?? []) if (r.alert === 'WsgateHandshakeFailureRatioHigh') r.expr = r.expr.replace(/>\s*[0-9.]+\s*$/, '> 0.5');
    // And a reload alert that looked at the failure counter's window again would clear too soon.
    for (const r of loose[0]?.rules ?? []) if (r.alert === 'WsgateConfigReloadFailed') r.expr = 'increase(wsgate_config_reloads_total{result="failure"}[15m]) > 0';
    writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: loose }));
    try {
      const result = runPromtool(['test', 'rules', join(dir, 'wsgate-alerts.promtool.yaml')]);
      assert.equal(result.ok, false, result.output);
      assert.match(result.output, /WsgateHandshakeFailureRatioHigh/);
      assert.match(result.output, /WsgateConfigReloadFailed/);
    } finally {
      writeFileSync(join(dir, 'rules.yaml'), stringify({ groups }));
    }
  });

  it('takes its thresholds from values', () => {
    const custom = renderChart({ values: { metrics: { prometheusRule: { enabled: true, handshakeFailureRatio: 0.2, abnormalCloseRatio: 0.3, certificateExpiryDays: 7, certificateExpiryCriticalDays: 2, eventLoopLagSeconds: 0.25, openFdsRatio: 0.9 } } } });
    const rules = (custom.objects.find((o) => o.kind === 'PrometheusRule') as unknown as { spec: { groups: RuleGroup[] } }).spec.groups[0]?.rules ?? [];
    const expr = (name: string) => rules.find((r) => r.alert === name)?.expr ?? '';
    assert.match(expr('WsgateHandshakeFailureRatioHigh'), />\s*0\.2\s*$/);
    assert.match(expr('WsgateUpstreamAbnormalClosesHigh'), />\s*0\.3\s*$/);
    assert.match(expr('WsgateCertificateExpiringSoon'), /<\s*7 \* 86400/);
    assert.match(expr('WsgateCertificateExpiryCritical'), /<\s*2 \* 86400/);
    assert.match(expr('WsgateEventLoopLagHigh'), />\s*0\.25\s*$/);
    assert.match(expr('WsgateFileDescriptorsNearLimit'), />\s*0\.9\s*$/);
  });

  it('queries only metrics a running wsgate exports or SPEC §9 names', () => {
    const used = alerts.flatMap((a) => metricNames(a.expr));
    assert.ok(used.length > 0);
    assert.ok(exported.has('nodejs_eventloop_lag_p99_seconds') && exported.has('process_open_fds'), 'the real /metrics was read');
    assert.deepEqual(used.filter((m) => !specMetrics.has(m) && !exported.has(m) && !prometheusMetrics.has(m)), []);
  });
});

describe('Grafana dashboard', () => {
  const panels = dashboard.panels ?? [];
  const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));
  const query = (title: string) => queries.filter((q) => q.panel === title).map((q) => q.expr).join('\n');

  it('shows connections, handshake failures by reason and close codes by side', () => {
    assert.match(query('Active connections'), /wsgate_connections_active/);
    assert.match(query('Handshake failures by reason'), /sum by \(reason\) \(rate\(wsgate_handshake_failures_total/);
    assert.match(query('Close codes by side'), /sum by \(side, code\) \(rate\(wsgate_close_codes_total/);
  });

  it('opens on a stat row: active connections, handshake success, reloads, last reload failed', () => {
    const stats = panels.filter((p) => p.type === 'stat').map((p) => p.title);
    assert.deepEqual(stats, ['Active connections', 'Handshake success', 'Config reloads', 'Last reload failed']);
    assert.match(query('Last reload failed'), /wsgate_config_last_reload_successful/);
  });

  it('has messages/s, a $pod variable with the per-pod spread, process panels, reload annotations and a certificate table', () => {
    assert.match(query('Messages'), /rate\(wsgate_messages_total/);
    const pod = dashboard.templating?.list.find((v) => v.name === 'pod');
    assert.ok(pod, '$pod variable');
    assert.match(query('Connections per pod'), /sum by \(controller_pod\) \(wsgate_connections_active\{[^}]*controller_pod=~"\$pod"/);
    for (const [title, metric] of [['CPU', 'process_cpu_seconds_total'], ['Memory', 'process_resident_memory_bytes'], ['Memory', 'nodejs_heap_size_used_bytes'], ['Event-loop lag p99', 'nodejs_eventloop_lag_p99_seconds'], ['Open file descriptors', 'process_open_fds']]) {
      assert.match(query(title as string), new RegExp(metric as string), `${title} shows ${metric}`);
    }
    assert.ok((dashboard.annotations?.list ?? []).some((a) => /wsgate_config_last_reload_success_timestamp_seconds/.test(a.expr ?? '')), 'reload annotations');
    assert.equal(panels.find((p) => p.title === 'Certificate expiry')?.type, 'table');
  });

  it('queries only metrics a running wsgate exports, in PromQL that Prometheus parses', () => {
    const all = dashboardQueries(dashboard);
    assert.ok(all.length >= 20);
    assert.deepEqual(all.flatMap((q) => metricNames(q.expr).map((m) => `${q.where}: ${m}`)).filter((m) => {
      const name = m.slice(m.lastIndexOf(' ') + 1);
      return !specMetrics.has(name) && !exported.has(name);
    }), []);
    // Grafana's variables are substituted as Grafana would, then each query is checked as a
    // recording rule so that promtool parses it.
    const asRules = all.map((q, i) => ({ record: `wsgate:dashboard_query_${i}`, expr: grafanaToPromql(q.expr) }));
    const file = join(dir, 'dashboard-queries.yaml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: asRules }] }));
    const result = runPromtool(['check', 'rules', file]);
    assert.ok(result.ok, result.output);
  });
});

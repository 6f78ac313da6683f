// The chart's Prometheus wiring, checked with Prometheus' own tool: the PrometheusRule's rules
// pass `promtool check rules`, the alerts fire (and stay quiet) on the series in
// fixtures/wsgate-alerts.promtool.yaml, and every query names only SPEC §9 metrics.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { chartDir, renderChart } from '../helm/render.ts';
import type { KubeObject } from '../helm/render.ts';

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
]);

interface Rule { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
interface RuleGroup { name: string; rules: Rule[] }
interface DashboardPanel { title: string; targets?: { expr: string; legendFormat?: string }[] }

function runPromtool(args: string[]): { ok: boolean; output: string } {
  try {
    return { ok: true, output: execFileSync(promtool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
}

function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\bwsgate_[a-z_]+/g)].map((m) => (m[0]).replace(/_(bucket|sum|count)$/, ''));
}

const monitoring = renderChart({ valuesFiles: [join(chartDir, 'ci/monitoring-values.yaml')] });
const ruleObject = monitoring.objects.find((o) => o.kind === 'PrometheusRule') as (KubeObject & { spec: { groups: RuleGroup[] } }) | undefined;
const dashboardMap = monitoring.objects.find((o) => o.kind === 'ConfigMap') as (KubeObject & { data: Record<string, string> }) | undefined;
const dashboard = JSON.parse(dashboardMap?.data['wsgate.json'] ?? '{}') as { panels?: DashboardPanel[] };
const groups = ruleObject?.spec.groups ?? [];
const alerts = groups.flatMap((g) => g.rules).filter((r) => r.alert);

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsgate-rules-'));
  writeFileSync(join(dir, 'rules.yaml'), stringify({ groups }));
  copyFileSync(join(import.meta.dirname, 'fixtures/wsgate-alerts.promtool.yaml'), join(dir, 'wsgate-alerts.promtool.yaml'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('PrometheusRule', () => {
  it('holds the alerts the issue asks for', () => {
    assert.deepEqual(alerts.map((a) => a.alert).sort(), [
      'WsgateAbnormalClosesHigh',
      'WsgateCertificateExpiringSoon',
      'WsgateConfigReloadFailed',
      'WsgateHandshakeFailureRatioHigh',
      'WsgateNoReadyEndpoints',
    ]);
    for (const a of alerts) {
      assert.ok(a.labels?.severity, `${a.alert} has a severity`);
      assert.ok(a.annotations?.summary && a.annotations.description, `${a.alert} explains itself`);
    }
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

  it('is proven by the promtool test: a broken threshold makes it fail', () => {
    // Guards the guard: if the fixture did not exercise the rules, this would pass too.
    const loose = structuredClone(groups);
    for (const r of loose[0]?.rules ?? []) if (r.alert === 'WsgateHandshakeFailureRatioHigh') r.expr = r.expr.replace(/>\s*[0-9.]+\s*$/, '> 0.5');
    writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: loose }));
    try {
      const result = runPromtool(['test', 'rules', join(dir, 'wsgate-alerts.promtool.yaml')]);
      assert.equal(result.ok, false, result.output);
      assert.match(result.output, /WsgateHandshakeFailureRatioHigh/);
    } finally {
      writeFileSync(join(dir, 'rules.yaml'), stringify({ groups }));
    }
  });

  it('takes its thresholds from values', () => {
    const custom = renderChart({ values: { metrics: { prometheusRule: { enabled: true, handshakeFailureRatio: 0.2, abnormalCloseRatio: 0.3, certificateExpiryDays: 7 } } } });
    const rules = (custom.objects.find((o) => o.kind === 'PrometheusRule') as unknown as { spec: { groups: RuleGroup[] } }).spec.groups[0]?.rules ?? [];
    const expr = (name: string) => rules.find((r) => r.alert === name)?.expr ?? '';
    assert.match(expr('WsgateHandshakeFailureRatioHigh'), />\s*0\.2\s*$/);
    assert.match(expr('WsgateAbnormalClosesHigh'), />\s*0\.3\s*$/);
    assert.match(expr('WsgateCertificateExpiringSoon'), /<\s*7 \* 86400/);
  });

  it('queries only SPEC §9 metrics', () => {
    const used = alerts.flatMap((a) => metricNames(a.expr));
    assert.ok(used.length > 0);
    assert.deepEqual(used.filter((m) => !specMetrics.has(m)), []);
  });
});

describe('Grafana dashboard', () => {
  const panels = dashboard.panels ?? [];
  const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));

  it('shows connections, handshake failures by reason and close codes by side', () => {
    const query = (title: string) => queries.filter((q) => q.panel === title).map((q) => q.expr).join('\n');
    assert.match(query('Active connections'), /wsgate_connections_active/);
    assert.match(query('Handshake failures by reason'), /sum by \(reason\) \(rate\(wsgate_handshake_failures_total/);
    assert.match(query('Close codes by side'), /sum by \(side, code\) \(rate\(wsgate_close_codes_total/);
  });

  it('queries only SPEC §9 metrics, in PromQL that Prometheus parses', () => {
    assert.ok(queries.length >= 8);
    assert.deepEqual(queries.flatMap((q) => metricNames(q.expr)).filter((m) => !specMetrics.has(m)), []);
    // Grafana's variables are substituted as Grafana would, then each query is checked as a
    // recording rule so that promtool parses it.
    const asRules = queries.map((q, i) => ({
      record: `wsgate:dashboard_query_${i}`,
      expr: q.expr.replaceAll('$__rate_interval', '5m').replaceAll('$namespace', '.*').replaceAll('$ingress', '.*'),
    }));
    const file = join(dir, 'dashboard-queries.yaml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: asRules }] }));
    const result = runPromtool(['check', 'rules', file]);
    assert.ok(result.ok, result.output);
  });
});

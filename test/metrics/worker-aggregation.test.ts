import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { clusterMetricsText } from '../../src/metrics/worker-aggregation.ts';
import { WsgateMetrics } from '../../src/metrics/metrics.ts';
import { PROMTOOL_MISSING, promtoolAvailable, promtoolCheck, sampleValue, seriesOf } from './fixtures/exposition.ts';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('./fixtures/cluster-primary.ts', import.meta.url));

/** The aggregated text a node:cluster primary with real forked workers serves (see the fixture). */
async function primaryText(mode?: string): Promise<string> {
  const { stdout } = await run(process.execPath, [fixture, ...(mode ? [mode] : [])], { timeout: 50_000 });
  return stdout;
}

const chat = { namespace: 'apps', ingress: 'chat', service: 'chat-ws' };

test('the primary serves one view of two real workers and its own metrics', async (t) => {
  const text = await primaryText();

  await t.test('counts are summed across workers', () => {
    assert.equal(sampleValue(text, 'wsgate_connections_total', chat), 3 + 2);
    assert.equal(sampleValue(text, 'wsgate_connections_active', chat), 2 + 0);
    assert.equal(sampleValue(text, 'wsgate_bytes_total', { ...chat, direction: 'upstream' }), 100 + 200);
    assert.equal(sampleValue(text, 'wsgate_bytes_total', { ...chat, direction: 'downstream' }), 1000 + 2000);
    assert.equal(sampleValue(text, 'wsgate_messages_total', { ...chat, direction: 'upstream' }), 1 + 2);
    assert.equal(sampleValue(text, 'wsgate_messages_total', { ...chat, direction: 'downstream' }), 10 + 20);
    const noRoute = { namespace: '', ingress: '', service: '', reason: 'no_route' };
    assert.equal(sampleValue(text, 'wsgate_handshake_failures_total', noRoute), 2 + 1);
    assert.equal(sampleValue(text, 'wsgate_close_codes_total', { ...chat, code: '1000', side: 'client' }), 1 + 1);
    assert.equal(sampleValue(text, 'wsgate_close_codes_total', { ...chat, code: '4001', side: 'upstream' }), 1);
    // Worker 0, worker 1 and the primary each applied one snapshot; worker 1 refused one.
    assert.equal(sampleValue(text, 'wsgate_config_reloads_total', { result: 'success' }), 3);
    assert.equal(sampleValue(text, 'wsgate_config_reloads_total', { result: 'failure' }), 1);
  });

  await t.test('histograms are summed bucket by bucket', () => {
    assert.equal(sampleValue(text, 'wsgate_connection_duration_seconds_count', chat), 3);
    assert.equal(sampleValue(text, 'wsgate_connection_duration_seconds_sum', chat), 2 + 4 + 6);
    assert.equal(sampleValue(text, 'wsgate_connection_duration_seconds_bucket', { ...chat, le: '5' }), 2);
    assert.equal(sampleValue(text, 'wsgate_connection_duration_seconds_bucket', { ...chat, le: '+Inf' }), 3);
    const service = { namespace: 'apps', service: 'chat-ws' };
    assert.equal(sampleValue(text, 'wsgate_upstream_connect_duration_seconds_count', service), 2);
    assert.equal(sampleValue(text, 'wsgate_upstream_connect_duration_seconds_bucket', { ...service, le: '0.0025' }), 0);
    assert.equal(sampleValue(text, 'wsgate_upstream_connect_duration_seconds_bucket', { ...service, le: '0.005' }), 2);
  });

  await t.test('the last successful reload is the newest of all processes, not a sum', () => {
    assert.equal(sampleValue(text, 'wsgate_config_last_reload_success_timestamp_seconds'), 2_000_000);
  });

  await t.test('last_reload_successful is 0 while any process refuses its last config, and 0 or 1, never a sum', () => {
    // Worker 1 refused its last snapshot; worker 0 and the primary applied theirs.
    assert.equal(sampleValue(text, 'wsgate_config_last_reload_successful'), 0);
  });

  await t.test('a certificate expiry is the soonest any process holds, not a sum', () => {
    const expiry = 'wsgate_tls_certificate_expiry_timestamp_seconds';
    assert.equal(sampleValue(text, expiry, { namespace: 'apps', secret: 'chat-tls' }), Date.parse('2029-06-01T00:00:00Z') / 1000);
    assert.equal(sampleValue(text, expiry, { namespace: 'apps', secret: 'feed-tls' }), Date.parse('2031-01-01T00:00:00Z') / 1000);
  });

  await t.test('endpoint counts are not multiplied by the number of workers', () => {
    const state = (s: string): number | undefined =>
      sampleValue(text, 'wsgate_upstream_endpoints', { namespace: 'apps', service: 'chat-ws', state: s });
    assert.equal(state('ready'), 3);
    assert.equal(state('ejected'), 1);
  });

  await t.test('process metrics appear once, and the view passes promtool', (tt) => {
    assert.equal(seriesOf(text, 'nodejs_version_info').length, 1);
    assert.equal(seriesOf(text, 'process_resident_memory_bytes').length, 1);
    if (!promtoolAvailable()) {
      tt.skip(PROMTOOL_MISSING);
      return;
    }
    const verdict = promtoolCheck(text);
    assert.ok(verdict.ok, verdict.output);
  });
});

test('a worker that does not answer is left out instead of failing the scrape', async () => {
  const text = await primaryText('one-mute');
  // Only worker 0 serves its metrics.
  assert.equal(sampleValue(text, 'wsgate_connections_total', chat), 3);
  assert.equal(sampleValue(text, 'wsgate_config_last_reload_success_timestamp_seconds'), 1_000_000);
});

test('outside a cluster, the view is the local metrics alone', async () => {
  const local = new WsgateMetrics(undefined, { processMetrics: false });
  local.route(chat).opened();
  local.configReload(true, new Date(5_000));
  const text = await clusterMetricsText({ local });
  assert.equal(sampleValue(text, 'wsgate_connections_active', chat), 1);
  assert.equal(sampleValue(text, 'wsgate_config_last_reload_success_timestamp_seconds'), 5);
  assert.equal((await clusterMetricsText()).trim(), '', 'no workers and no local metrics: nothing to expose');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { endpointsOf } from './fixtures/endpoints.ts';
import { WsgateMetrics, closeCodeLabel, type RouteLabels } from '../../src/metrics/metrics.ts';
import {
  PROMTOOL_MISSING,
  promtoolAvailable,
  promtoolCheck,
  sampleValue,
  seriesOf,
} from './fixtures/exposition.ts';

const chat: RouteLabels = { namespace: 'apps', ingress: 'chat', service: 'chat-ws' };
const feed: RouteLabels = { namespace: 'apps', ingress: 'feed', service: 'feed-ws' };

function quietMetrics(): WsgateMetrics {
  return new WsgateMetrics(undefined, { processMetrics: false });
}

async function scrape(metrics: WsgateMetrics): Promise<string> {
  return metrics.registry.metrics();
}

/** Exercise every metric, so the whole exposition can be checked at once. */
function populate(metrics: WsgateMetrics): void {
  const route = metrics.route(chat);
  route.opened();
  route.opened();
  route.traffic.bytesUp += 120;
  route.traffic.messagesUp += 2;
  route.closed(42.5, 1000, 'client');
  metrics.handshakeFailure(undefined, 'bad_version');
  metrics.handshakeFailure(feed, 'no_endpoints');
  metrics.upstreamConnect('apps', 'chat-ws', 0.0012);
  metrics.configReload(true, new Date('2026-01-02T03:04:05Z'));
  metrics.configReload(false);
  metrics.setUpstreamEndpoints([
    { namespace: 'apps', service: 'chat-ws', endpoints: endpointsOf({ ready: 3, not_ready: 1, terminating: 1, ejected: 0 }) },
  ]);
  metrics.setCertificateExpiries([{ namespace: 'apps', secret: 'chat-tls', notAfter: new Date('2027-01-01T00:00:00Z') }]);
}

const SPEC_METRICS: Array<[name: string, type: string]> = [
  ['wsgate_connections_active', 'gauge'],
  ['wsgate_connections_total', 'counter'],
  ['wsgate_handshake_failures_total', 'counter'],
  ['wsgate_close_codes_total', 'counter'],
  ['wsgate_connection_duration_seconds', 'histogram'],
  ['wsgate_upstream_connect_duration_seconds', 'histogram'],
  ['wsgate_bytes_total', 'counter'],
  ['wsgate_messages_total', 'counter'],
  ['wsgate_upstream_endpoints', 'gauge'],
  ['wsgate_config_reloads_total', 'counter'],
  ['wsgate_config_last_reload_success_timestamp_seconds', 'gauge'],
  ['wsgate_tls_certificate_expiry_timestamp_seconds', 'gauge'],
  ['wsgate_config_last_reload_successful', 'gauge'],
];

test('the exposition, process metrics included, passes promtool check metrics', async (t) => {
  if (!promtoolAvailable()) {
    t.skip(PROMTOOL_MISSING);
    return;
  }
  const metrics = new WsgateMetrics();
  populate(metrics);
  const text = await scrape(metrics);
  assert.ok(sampleValue(text, 'process_cpu_user_seconds_total') !== undefined, 'process metrics are exposed');
  const verdict = promtoolCheck(text);
  assert.ok(verdict.ok, verdict.output);
});

test('a broken exposition is caught by the promtool check (the check can fail)', (t) => {
  if (!promtoolAvailable()) {
    t.skip(PROMTOOL_MISSING);
    return;
  }
  const verdict = promtoolCheck('# TYPE wsgate_thing gauge\nwsgate_thing{a="1" 3\n');
  assert.equal(verdict.ok, false);
});

test('every SPEC §9 metric is exposed with its type, its label names and a HELP text', async () => {
  const metrics = quietMetrics();
  populate(metrics);
  const text = await scrape(metrics);
  for (const [name, type] of SPEC_METRICS) {
    assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), `${name} is a ${type}`);
    const help = new RegExp(`^# HELP ${name} (.+)$`, 'm').exec(text);
    assert.ok(help && help[1]!.length > 30, `${name} has a HELP text that explains it`);
  }
  const route = { namespace: 'apps', ingress: 'chat', service: 'chat-ws' };
  assert.equal(sampleValue(text, 'wsgate_connections_active', route), 1);
  assert.equal(sampleValue(text, 'wsgate_connections_total', route), 2);
  assert.equal(sampleValue(text, 'wsgate_close_codes_total', { ...route, code: '1000', side: 'client' }), 1);
  assert.equal(sampleValue(text, 'wsgate_connection_duration_seconds_count', route), 1);
  assert.equal(sampleValue(text, 'wsgate_connection_duration_seconds_sum', route), 42.5);
  assert.equal(sampleValue(text, 'wsgate_upstream_connect_duration_seconds_count', { namespace: 'apps', service: 'chat-ws' }), 1);
  assert.equal(
    sampleValue(text, 'wsgate_handshake_failures_total', { namespace: 'apps', ingress: 'feed', service: 'feed-ws', reason: 'no_endpoints' }),
    1,
  );
  assert.equal(sampleValue(text, 'wsgate_upstream_endpoints', { namespace: 'apps', service: 'chat-ws', state: 'terminating' }), 1);
  assert.equal(sampleValue(text, 'wsgate_tls_certificate_expiry_timestamp_seconds', { namespace: 'apps', secret: 'chat-tls' }), 1798761600);
});

test('histogram buckets span long-lived connections (0.1 s to hours) and millisecond connects', async () => {
  const metrics = quietMetrics();
  populate(metrics);
  const text = await scrape(metrics);
  const les = (name: string): number[] =>
    seriesOf(text, `${name}_bucket`).map((s) => Number(s.labels.le)).filter(Number.isFinite);
  const duration = les('wsgate_connection_duration_seconds');
  assert.equal(Math.min(...duration), 0.1);
  assert.ok(Math.max(...duration) >= 4 * 3600, 'the top finite bucket is hours long');
  const connect = les('wsgate_upstream_connect_duration_seconds');
  assert.ok(Math.min(...connect) <= 0.001, 'a sub-millisecond bucket exists');
  assert.ok(Math.max(...connect) >= 5, 'the default connect-timeout (5 s) is inside the buckets');
});

test('traffic counters incremented as plain fields show up at each scrape, both directions', async () => {
  const metrics = quietMetrics();
  const route = metrics.route(chat);
  route.opened();
  const text0 = await scrape(metrics);
  for (const direction of ['upstream', 'downstream']) {
    assert.equal(sampleValue(text0, 'wsgate_bytes_total', { ...chat, direction }), 0);
    assert.equal(sampleValue(text0, 'wsgate_messages_total', { ...chat, direction }), 0);
  }

  route.traffic.bytesUp += 10;
  route.traffic.bytesUp += 5;
  route.traffic.bytesDown += 7000;
  route.traffic.messagesUp += 1;
  route.traffic.messagesDown += 3;
  const text1 = await scrape(metrics);
  assert.equal(sampleValue(text1, 'wsgate_bytes_total', { ...chat, direction: 'upstream' }), 15);
  assert.equal(sampleValue(text1, 'wsgate_bytes_total', { ...chat, direction: 'downstream' }), 7000);
  assert.equal(sampleValue(text1, 'wsgate_messages_total', { ...chat, direction: 'upstream' }), 1);
  assert.equal(sampleValue(text1, 'wsgate_messages_total', { ...chat, direction: 'downstream' }), 3);

  route.traffic.bytesDown += 1;
  const text2 = await scrape(metrics);
  assert.equal(sampleValue(text2, 'wsgate_bytes_total', { ...chat, direction: 'downstream' }), 7001);
  assert.equal(sampleValue(text2, 'wsgate_bytes_total', { ...chat, direction: 'upstream' }), 15, 'not counted twice');
});

test('route() hands out one object per label set, whatever object the labels come in', () => {
  const metrics = quietMetrics();
  const first = metrics.route({ ...chat });
  assert.equal(metrics.route({ namespace: 'apps', ingress: 'chat', service: 'chat-ws' }), first);
  assert.notEqual(metrics.route(feed), first);
  assert.notEqual(metrics.route({ ...chat, service: 'other' }), first);
});

test('close codes are counted per side under their bounded label', async () => {
  const metrics = quietMetrics();
  const route = metrics.route(chat);
  const closes: Array<[number, 'client' | 'upstream' | 'proxy']> = [
    [1000, 'client'],
    [1000, 'client'],
    [1000, 'upstream'],
    [1001, 'proxy'],
    [1009, 'proxy'],
    [1006, 'upstream'],
    [3001, 'upstream'],
    [3999, 'client'],
    [4321, 'client'],
    [2000, 'client'],
  ];
  for (const [code, side] of closes) {
    route.opened();
    route.closed(1, code, side);
  }
  const text = await scrape(metrics);
  const count = (code: string, side: string): number | undefined =>
    sampleValue(text, 'wsgate_close_codes_total', { ...chat, code, side });
  assert.equal(count('1000', 'client'), 2);
  assert.equal(count('1000', 'upstream'), 1);
  assert.equal(count('1001', 'proxy'), 1);
  assert.equal(count('1009', 'proxy'), 1);
  assert.equal(count('1006', 'upstream'), 1);
  assert.equal(count('3xxx', 'upstream'), 1);
  assert.equal(count('3xxx', 'client'), 1);
  assert.equal(count('4321', 'client'), 1);
  assert.equal(count('other', 'client'), 1);
  assert.equal(seriesOf(text, 'wsgate_close_codes_total').length, 9);
  assert.equal(sampleValue(text, 'wsgate_connections_active', chat), 0);
  assert.equal(sampleValue(text, 'wsgate_connections_total', chat), closes.length);
});

test('closeCodeLabel keeps registered and private codes, folds 3xxx, and calls the rest other', () => {
  const cases: Array<[number, string]> = [
    [1000, '1000'],
    [1005, '1005'],
    [1006, '1006'],
    [1015, '1015'],
    [1016, 'other'],
    [999, 'other'],
    [0, 'other'],
    [-1, 'other'],
    [2999, 'other'],
    [3000, '3xxx'],
    [3999, '3xxx'],
    [4000, '4000'],
    [4999, '4999'],
    [5000, 'other'],
    [65535, 'other'],
    [1000.5, 'other'],
    [Number.NaN, 'other'],
  ];
  for (const [code, label] of cases) assert.equal(closeCodeLabel(code), label, `code ${code}`);
});

test('a failure before any route is known carries empty namespace, ingress and service', async () => {
  const metrics = quietMetrics();
  metrics.handshakeFailure(undefined, 'bad_request');
  metrics.handshakeFailure(undefined, 'bad_request');
  metrics.handshakeFailure(undefined, 'tls');
  const text = await scrape(metrics);
  const empty = { namespace: '', ingress: '', service: '' };
  assert.equal(sampleValue(text, 'wsgate_handshake_failures_total', { ...empty, reason: 'bad_request' }), 2);
  assert.equal(sampleValue(text, 'wsgate_handshake_failures_total', { ...empty, reason: 'tls' }), 1);
});

test('config reloads: both results start at 0; success records its time, failure does not', async () => {
  const metrics = quietMetrics();
  const text0 = await scrape(metrics);
  assert.equal(sampleValue(text0, 'wsgate_config_reloads_total', { result: 'success' }), 0);
  assert.equal(sampleValue(text0, 'wsgate_config_reloads_total', { result: 'failure' }), 0);
  assert.equal(sampleValue(text0, 'wsgate_config_last_reload_success_timestamp_seconds'), 0);

  metrics.configReload(true, new Date(1_700_000_000_500));
  metrics.configReload(false, new Date(1_800_000_000_000));
  const text1 = await scrape(metrics);
  assert.equal(sampleValue(text1, 'wsgate_config_reloads_total', { result: 'success' }), 1);
  assert.equal(sampleValue(text1, 'wsgate_config_reloads_total', { result: 'failure' }), 1);
  assert.equal(sampleValue(text1, 'wsgate_config_last_reload_success_timestamp_seconds'), 1_700_000_000.5);
});

test('wsgate_config_last_reload_successful: 1 until a refusal, 0 while the refused config is the last offered', async () => {
  const metrics = quietMetrics();
  const gauge = async (): Promise<number | undefined> => sampleValue(await scrape(metrics), 'wsgate_config_last_reload_successful');
  assert.equal(await gauge(), 1, 'nothing refused yet');
  metrics.configReload(true);
  assert.equal(await gauge(), 1);
  metrics.configReload(false);
  assert.equal(await gauge(), 0);
  // The alert must hold: a scrape later, the refused config is still the last one offered.
  assert.equal(await gauge(), 0);
  // The good config put back (same hash: no reload) clears it.
  metrics.configUnchanged();
  assert.equal(await gauge(), 1);
  metrics.configReload(false);
  metrics.configReload(true);
  assert.equal(await gauge(), 1);
});

test('setUpstreamEndpoints replaces the whole set: a service no longer given disappears', async () => {
  const metrics = quietMetrics();
  metrics.setUpstreamEndpoints([
    { namespace: 'apps', service: 'chat-ws', endpoints: endpointsOf({ ready: 2, not_ready: 0, terminating: 1, ejected: 1 }) },
    { namespace: 'apps', service: 'feed-ws', endpoints: endpointsOf({ ready: 1, not_ready: 1, terminating: 0, ejected: 0 }) },
  ]);
  const text1 = await scrape(metrics);
  assert.equal(seriesOf(text1, 'wsgate_upstream_endpoints', { service: 'chat-ws' }).length, 4, 'all four states');
  assert.equal(sampleValue(text1, 'wsgate_upstream_endpoints', { namespace: 'apps', service: 'chat-ws', state: 'ejected' }), 1);

  metrics.setUpstreamEndpoints([
    { namespace: 'apps', service: 'chat-ws', endpoints: endpointsOf({ ready: 1 }, 'a') },
    // A second pool of the same Service listing other pods adds them.
    { namespace: 'apps', service: 'chat-ws', endpoints: endpointsOf({ ready: 2 }, 'b') },
  ]);
  const text2 = await scrape(metrics);
  assert.equal(sampleValue(text2, 'wsgate_upstream_endpoints', { namespace: 'apps', service: 'chat-ws', state: 'ready' }), 3);
  assert.equal(sampleValue(text2, 'wsgate_upstream_endpoints', { namespace: 'apps', service: 'chat-ws', state: 'ejected' }), 0);
  assert.deepEqual(seriesOf(text2, 'wsgate_upstream_endpoints', { service: 'feed-ws' }), []);

  metrics.setUpstreamEndpoints([]);
  assert.deepEqual(seriesOf(await scrape(metrics), 'wsgate_upstream_endpoints'), []);
});

test('an endpoint listed by several pools of one Service counts once, in its most useful state', async () => {
  const metrics = quietMetrics();
  const pods = endpointsOf({ ready: 2 });
  // Six Ingresses routing to the same Service: six pools, the same two pods.
  metrics.setUpstreamEndpoints(Array.from({ length: 6 }, () => ({ namespace: 'apps', service: 'chat-ws', endpoints: pods })));
  const text = await scrape(metrics);
  assert.equal(sampleValue(text, 'wsgate_upstream_endpoints', { namespace: 'apps', service: 'chat-ws', state: 'ready' }), 2);
  // Ejected in one pool, ready in another: ready, and counted once.
  metrics.setUpstreamEndpoints([
    { namespace: 'apps', service: 'chat-ws', endpoints: [{ id: 'p1', state: 'ejected' }, { id: 'p2', state: 'terminating' }] },
    { namespace: 'apps', service: 'chat-ws', endpoints: [{ id: 'p1', state: 'ready' }, { id: 'p2', state: 'terminating' }] },
  ]);
  const mixed = await scrape(metrics);
  assert.equal(sampleValue(mixed, 'wsgate_upstream_endpoints', { namespace: 'apps', service: 'chat-ws', state: 'ready' }), 1);
  assert.equal(sampleValue(mixed, 'wsgate_upstream_endpoints', { namespace: 'apps', service: 'chat-ws', state: 'ejected' }), 0);
  assert.equal(sampleValue(mixed, 'wsgate_upstream_endpoints', { namespace: 'apps', service: 'chat-ws', state: 'terminating' }), 1);
});

test('setCertificateExpiries replaces the whole set: a Secret no longer given disappears', async () => {
  const metrics = quietMetrics();
  metrics.setCertificateExpiries([
    { namespace: 'apps', secret: 'chat-tls', notAfter: new Date('2027-01-01T00:00:00Z') },
    { namespace: 'apps', secret: 'feed-tls', notAfter: new Date('2026-06-01T00:00:00Z') },
  ]);
  const text1 = await scrape(metrics);
  assert.equal(sampleValue(text1, 'wsgate_tls_certificate_expiry_timestamp_seconds', { namespace: 'apps', secret: 'feed-tls' }), 1780272000);

  metrics.setCertificateExpiries([{ namespace: 'apps', secret: 'chat-tls', notAfter: new Date('2028-01-01T00:00:00Z') }]);
  const text2 = await scrape(metrics);
  assert.equal(sampleValue(text2, 'wsgate_tls_certificate_expiry_timestamp_seconds', { namespace: 'apps', secret: 'chat-tls' }), 1830297600);
  assert.deepEqual(seriesOf(text2, 'wsgate_tls_certificate_expiry_timestamp_seconds', { secret: 'feed-tls' }), []);
});

const ROUTE_SERIES = [
  'wsgate_connections_active',
  'wsgate_connections_total',
  'wsgate_handshake_failures_total',
  'wsgate_close_codes_total',
  'wsgate_connection_duration_seconds_count',
  'wsgate_bytes_total',
  'wsgate_messages_total',
];

function routeSeriesCount(text: string, labels: RouteLabels): number {
  return ROUTE_SERIES.reduce((n, name) => n + seriesOf(text, name, { ...labels }).length, 0);
}

test('forgetRoutes drops an idle route from every route metric at once and keeps the others', async () => {
  const metrics = quietMetrics();
  for (const labels of [chat, feed]) {
    const route = metrics.route(labels);
    route.opened();
    route.traffic.bytesUp += 9;
    route.closed(3, 1001, 'proxy');
    metrics.handshakeFailure(labels, 'origin_forbidden');
  }
  metrics.upstreamConnect('apps', 'chat-ws', 0.002);
  metrics.upstreamConnect('apps', 'feed-ws', 0.002);
  const before = await scrape(metrics);
  assert.equal(routeSeriesCount(before, feed), 9, 'feed has series in every route metric');

  metrics.forgetRoutes([chat]);
  const after = await scrape(metrics);
  assert.equal(routeSeriesCount(after, feed), 0);
  assert.deepEqual(seriesOf(after, 'wsgate_upstream_connect_duration_seconds_count', { service: 'feed-ws' }), []);
  assert.equal(routeSeriesCount(after, chat), 9, 'the kept route is untouched');
  assert.equal(sampleValue(after, 'wsgate_connections_total', chat), 1);
  assert.equal(sampleValue(after, 'wsgate_upstream_connect_duration_seconds_count', { namespace: 'apps', service: 'chat-ws' }), 1);

  // The route comes back in a later snapshot: it starts again from zero.
  const again = metrics.route(feed);
  assert.equal(again.traffic.bytesUp, 0);
  again.opened();
  assert.equal(sampleValue(await scrape(metrics), 'wsgate_connections_total', feed), 1);
});

test('a forgotten route with open connections keeps counting until its last one closes', async () => {
  const metrics = quietMetrics();
  const route = metrics.route(feed);
  route.opened();
  route.opened();
  metrics.forgetRoutes([chat]);

  route.traffic.bytesDown += 50;
  route.closed(10, 1000, 'client');
  const during = await scrape(metrics);
  assert.equal(sampleValue(during, 'wsgate_connections_active', feed), 1);
  assert.equal(sampleValue(during, 'wsgate_bytes_total', { ...feed, direction: 'downstream' }), 50);
  assert.equal(sampleValue(during, 'wsgate_close_codes_total', { ...feed, code: '1000', side: 'client' }), 1);

  route.closed(20, 1006, 'upstream');
  assert.equal(routeSeriesCount(await scrape(metrics), feed), 0);
});

test('a handshake in flight when its route is forgotten is still counted, then forgotten on close', async () => {
  const metrics = quietMetrics();
  const route = metrics.route(feed); // looked up when the request was routed
  metrics.forgetRoutes([]); // a snapshot without feed lands before the upstream answers 101
  route.opened();
  route.traffic.messagesUp += 4;
  const during = await scrape(metrics);
  assert.equal(sampleValue(during, 'wsgate_connections_active', feed), 1);
  assert.equal(sampleValue(during, 'wsgate_messages_total', { ...feed, direction: 'upstream' }), 4);

  route.closed(1, 1000, 'client');
  assert.equal(routeSeriesCount(await scrape(metrics), feed), 0);
});

test('a route() call after forgetRoutes brings a retiring route back into the snapshot', async () => {
  const metrics = quietMetrics();
  const route = metrics.route(feed);
  route.opened();
  metrics.forgetRoutes([]);
  assert.equal(metrics.route(feed), route, 'the same object while it still has a connection');
  route.closed(1, 1000, 'client');
  assert.equal(sampleValue(await scrape(metrics), 'wsgate_connections_total', feed), 1, 'still known');
});

test('metrics go to the registry given, and process metrics can be left out', async () => {
  const registry = new Registry();
  const metrics = new WsgateMetrics(registry, { processMetrics: false });
  assert.equal(metrics.registry, registry);
  metrics.route(chat).opened();
  const text = await registry.metrics();
  assert.equal(sampleValue(text, 'wsgate_connections_active', chat), 1);
  assert.equal(seriesOf(text, 'process_cpu_user_seconds_total').length, 0);
});

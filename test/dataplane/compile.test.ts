// The second golden stage (as envoyproxy/gateway's xds translator testdata): golden/<case>.snapshot.json
// (a snapshot as validateSnapshot accepts it) against <case>.compiled.json, a dump of what
// compile.ts builds: the router table per host in match order, each entry checked against the
// real router; the pools with their settings after defaults; each route's policy; and the SNI
// names the certificate store is handed.
// UPDATE_GOLDEN=1 rewrites the .compiled.json files; review the diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { Snapshot } from '../../src/config/snapshot.ts';
import { validateSnapshot } from '../../src/config/validate.ts';
import { compileSnapshot, type CompiledRoute, type CompiledTables } from '../../src/dataplane/compile.ts';
import { normalizeHost } from '../../src/dataplane/handshake/router.ts';
import { CertificateStore } from '../../src/dataplane/listen/tls.ts';
import { DataPlane } from '../../src/dataplane/state.ts';
import { EndpointRegistry } from '../../src/dataplane/upstream/registry.ts';
import { WsgateMetrics } from '../../src/metrics/metrics.ts';
import { endpoint, pool, route, snapshot } from '../support/proxy.ts';
import { goldenStage } from '../support/golden.ts';

const GOLDEN = new URL('./golden/', import.meta.url);

/** Host levels in the order the router tries them (SPEC §5): exact, one-label wildcard, any host. */
function hostLevel(host: string): number {
  if (host === '') return 2;
  return host.startsWith('*.') ? 1 : 0;
}

function withoutTrailingSlashes(path: string): string {
  return path.replace(/\/+$/, '');
}

/** A request host the entry's table answers: the wildcard's stand-in label is `x`. */
function probeHost(host: string): string {
  return host.startsWith('*.') ? `x.${host.slice(2)}` : host;
}

function routeName(route: CompiledRoute): string {
  return route.route.source ? `${route.route.source.namespace}/${route.route.source.ingress}` : `routes[${route.index}]`;
}

function dumpRouter(tables: CompiledTables): Record<string, unknown[]> {
  const byHost = new Map<string, CompiledRoute[]>();
  for (const entry of tables.routes) {
    const host = normalizeHost(entry.host);
    byHost.set(host, [...(byHost.get(host) ?? []), entry]);
  }
  const hosts = [...byHost.keys()].sort((a, b) => hostLevel(a) - hostLevel(b) || (a < b ? -1 : a > b ? 1 : 0));
  const out: Record<string, unknown[]> = {};
  for (const host of hosts) {
    const entries = byHost.get(host)!;
    // Exact before Prefix, the longest prefix first; among equal claims the first listed (snapshot order).
    const ordered = [...entries].sort((a, b) => {
      const exact = Number(b.pathType === 'Exact') - Number(a.pathType === 'Exact');
      if (exact !== 0) return exact;
      return withoutTrailingSlashes(b.path).length - withoutTrailingSlashes(a.path).length || a.index - b.index;
    });
    out[host === '' ? '(any host)' : host] = ordered.map((entry) => {
      // A Prefix entry is probed below its own path, so an Exact twin does not hide it.
      const probePath = entry.pathType === 'Exact' ? entry.path : `${withoutTrailingSlashes(entry.path)}/`;
      const winner = tables.router.match(probeHost(host), probePath);
      const row: Record<string, unknown> = { path: entry.path, pathType: entry.pathType, route: routeName(entry), pool: entry.pool.name };
      if (winner !== entry) row.shadowedBy = winner ? routeName(winner) : null;
      return row;
    });
  }
  return out;
}

function dumpPools(tables: CompiledTables): unknown[] {
  return [...tables.pools.values()].map((pool) => ({
    name: pool.name,
    namespace: pool.namespace,
    service: pool.service,
    connectTimeoutMs: pool.connectTimeoutMs,
    handshakeTimeoutMs: pool.handshakeTimeoutMs,
    idleTimeoutMs: pool.idleTimeoutMs,
    drainTimeoutMs: pool.drainTimeoutMs,
    upstreamTls: pool.upstreamTls,
    ...pool.endpoints.describe(),
  }));
}

function dumpPolicies(tables: CompiledTables): unknown[] {
  return tables.routes.map((entry) => {
    const policy = entry.route.policy ?? {};
    return {
      route: `${entry.host || '*'}${entry.path} (${entry.pathType})`,
      labels: entry.labels,
      limitGroup: entry.limitGroup,
      origins: policy.allowedOrigins ?? 'any',
      sourceRanges: policy.allowedSourceRanges ?? 'any',
      maxConnections: entry.maxConnections ?? 'unlimited',
      maxConnectionsPerClient: entry.maxConnectionsPerClient ?? 'unlimited',
      maxMessageSize: entry.maxMessageSize ?? 'unlimited',
    };
  });
}

/** What the certificate store is given: SNI name -> certificate, the first listed keeping a name. */
function dumpCertificates(tls: Snapshot['tls']): unknown {
  const byHost = new Map<string, string>();
  for (const certificate of tls?.certificates ?? []) {
    for (const host of certificate.hosts) if (!byHost.has(host)) byHost.set(host, certificate.name);
  }
  return {
    default: tls?.defaultCertificate?.name ?? '(self-signed, made at start)',
    byHost: Object.fromEntries([...byHost].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

function dump(snapshot: Snapshot, tables: CompiledTables): string {
  const certificates = dumpCertificates(snapshot.tls);
  const compiled = { router: dumpRouter(tables), pools: dumpPools(tables), policies: dumpPolicies(tables), certificates };
  return `${JSON.stringify(compiled, null, 2)}\n`;
}

function runCase(text: string): string {
  const validated = validateSnapshot(JSON.parse(text));
  assert.ok(validated.ok, validated.ok ? '' : validated.errors.join('\n'));
  return dump(validated.snapshot, compileSnapshot(validated.snapshot, new EndpointRegistry()));
}

goldenStage({ name: 'compiled golden', folder: GOLDEN, inputSuffix: '.snapshot.json', outputSuffix: '.compiled.json', minimumCases: 6, run: runCase });

test('compiling registers no metric series, and a refused snapshot leaves none behind', async () => {
  const registry = new Registry();
  const metrics = new WsgateMetrics(registry, { processMetrics: false });
  const certificates = await CertificateStore.create({});
  const dataplane = new DataPlane({ metrics, certificates });
  const labelled = { source: { namespace: 'ns', ingress: 'refused' } };
  const refused: Snapshot = snapshot(
    [route('/ok', 'echo', labelled), route('/bad', 'echo', { ...labelled, policy: { allowedOrigins: ['not an origin'] } })],
    [pool('echo', [endpoint(9)])],
  );
  compileSnapshot(snapshot([route('/ok', 'echo', labelled)], [pool('echo', [endpoint(9)])]), new EndpointRegistry());
  assert.doesNotMatch(await registry.metrics(), /ingress="refused"/);
  assert.throws(() => dataplane.apply(refused, 'refused-hash'), { code: 'WSGATE_ERR_CONFIG_INVALID' });
  assert.equal(dataplane.current, undefined);
  assert.doesNotMatch(await registry.metrics(), /ingress="refused"/);
  // The same routes, accepted: their series appear.
  assert.equal(dataplane.apply(snapshot([route('/ok', 'echo', labelled)], [pool('echo', [endpoint(9)])]), 'ok-hash'), true);
  assert.match(await registry.metrics(), /wsgate_connections_total\{namespace="ns",ingress="refused",service="echo"\} 0/);
});

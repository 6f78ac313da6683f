// HTTPRoute backendRefs that do not resolve answer 500 (HTTPBackendRef: "500 status MUST be
// returned for requests that would have otherwise been routed to an invalid backend"), for wss
// upgrades and plain HTTP alike; an Ingress to a missing Service and a Service without ready
// endpoints keep SPEC §7's 503. Gateway API objects -> translate() -> a real proxy on loopback
// with ws clients and echo pods; each test is named after the conformance test it mirrors.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import { translate } from '../../../src/translate/translate.ts';
import type { HTTPBackendRef } from '../../../src/translate/gateway/types.ts';
import { gateway, gatewayClass, gatewayResources, httpRoute, referenceGrant } from '../../support/gateway.ts';
import { endpointSlice, ingress, ingressClass, service } from '../../support/k8s.ts';
import { metricValue, scrape, startTestProxy, startUpstream, type TestProxy, type TestUpstream } from '../../support/proxy.ts';

const HOST = 'gw.example.test';

function wsService(name: string, namespace = 'default'): Record<string, unknown> {
  return { ...service(name, { namespace, ports: [{ name: 'ws', port: 80 }] }) } as Record<string, unknown>;
}

function slice(name: string, upstream: TestUpstream, namespace = 'default'): Record<string, unknown> {
  return endpointSlice(name, { namespace, name: `${name}-1`, ports: [{ name: 'ws', port: upstream.port }], endpoints: [{ address: '127.0.0.1', pod: `${name}-pod` }] }) as unknown as Record<string, unknown>;
}

function rule(path: string, backendRefs: HTTPBackendRef[]) {
  return { matches: [{ path: { type: 'PathPrefix' as const, value: path } }], backendRefs };
}

/** The first message (101), or the refusal's status; listening before the 101, as the greeting may come in the same read. */
function firstMessage(url: string, options: ClientOptions): Promise<string | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { rejectUnauthorized: false, ...options });
    ws.once('message', (data: RawData) => {
      resolve(String(data));
      ws.terminate();
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

/** Status of a ws upgrade (101 on success). */
async function upgradeStatus(proxy: TestProxy, path: string, host = HOST): Promise<number> {
  const answer = await firstMessage(proxy.wsUrl(path), { headers: { Host: host } });
  return typeof answer === 'string' ? 101 : answer;
}

function plainStatus(proxy: TestProxy, path: string, host = HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: proxy.httpPort, path, headers: { Host: host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPRoute invalid backendRefs through the proxy: 500, not 503', () => {
  let proxy: TestProxy;
  let chat: TestUpstream;
  let shared: TestUpstream;

  before(async () => {
    chat = await startUpstream('chat', (ws) => ws.send('chat'));
    shared = await startUpstream('shared', (ws) => ws.send('shared'));
    const documents: Record<string, unknown>[] = [
      gatewayClass() as never,
      gateway('gw', { listeners: [{ name: 'http', port: 80, protocol: 'HTTP', hostname: HOST }] }) as never,
      wsService('chat'),
      slice('chat', chat),
      wsService('shared', 'backends'),
      slice('shared', shared, 'backends'),
      wsService('granted', 'granted'),
      slice('granted', shared, 'granted'),
      // Only Service "other" of namespace granted is granted to HTTPRoutes of default.
      referenceGrant('grant-other', 'granted', { kind: 'HTTPRoute', namespace: 'default' }, { kind: 'Service', name: 'other' }) as never,
      wsService('idle'),
      httpRoute('routes', {
        hostnames: [HOST],
        rules: [
          rule('/cross-namespace', [{ name: 'shared', namespace: 'backends', port: 80 }]),
          rule('/non-existent', [{ name: 'nothing', port: 80 }]),
          rule('/unknown-kind', [{ group: 'unknown.example.com', kind: 'Unknown', name: 'chat', port: 80 }]),
          rule('/wrong-grant', [{ name: 'granted', namespace: 'granted', port: 80 }]),
          rule('/no-ready-endpoint', [{ name: 'idle', port: 80 }]),
          rule('/half', [{ name: 'chat', port: 80, weight: 1 }, { name: 'nothing', port: 80, weight: 1 }]),
          rule('/valid', [{ name: 'chat', port: 80 }]),
        ],
      }) as never,
      // An Ingress to a Service that does not exist: SPEC §7's 503 no_endpoints, unchanged.
      ingressClass() as never,
      ingress('legacy', { rules: [{ host: 'ingress.example.test', paths: [{ path: '/', service: 'missing', port: 80 }] }] } as never) as never,
    ];
    const { snapshot } = translate(gatewayResources(documents));
    proxy = await startTestProxy(snapshot);
  });

  after(async () => {
    await proxy.close();
    await chat.close();
    await shared.close();
  });

  it('HTTPRouteInvalidCrossNamespaceBackendRef: a Service in another namespace without a ReferenceGrant answers 500', async () => {
    assert.equal(await upgradeStatus(proxy, '/cross-namespace'), 500);
    assert.equal(await plainStatus(proxy, '/cross-namespace'), 500);
    assert.equal(shared.handshakes.length, 0, 'nothing reached the ungranted Service');
  });

  it('HTTPRouteInvalidNonExistentBackendRef: a Service that does not exist answers 500', async () => {
    assert.equal(await upgradeStatus(proxy, '/non-existent'), 500);
    assert.equal(await plainStatus(proxy, '/non-existent'), 500);
  });

  it('HTTPRouteInvalidBackendRefUnknownKind: a backendRef that is not a Service answers 500', async () => {
    assert.equal(await upgradeStatus(proxy, '/unknown-kind'), 500);
    assert.equal(await plainStatus(proxy, '/unknown-kind'), 500);
    assert.equal(chat.handshakes.length, 0, 'the Service of the same name was not used');
  });

  it('HTTPRouteInvalidReferenceGrant: a ReferenceGrant for another Service name does not permit this one: 500', async () => {
    assert.equal(await upgradeStatus(proxy, '/wrong-grant'), 500);
    assert.equal(await plainStatus(proxy, '/wrong-grant'), 500);
  });

  it('a valid backendRef to a Service without ready endpoints stays 503 no_endpoints (SPEC §7)', async () => {
    assert.equal(await upgradeStatus(proxy, '/no-ready-endpoint'), 503);
    assert.equal(await plainStatus(proxy, '/no-ready-endpoint'), 503);
  });

  it('an Ingress to a missing Service stays 503 no_endpoints', async () => {
    assert.equal(await upgradeStatus(proxy, '/', 'ingress.example.test'), 503);
  });

  it('the 500s count as handshake failures with reason no_endpoints (SPEC §7/§9 vocabulary), labelled with the HTTPRoute', async () => {
    const text = await scrape(proxy.adminPort);
    // cross-namespace, non-existent, unknown-kind, wrong-grant: one upgrade each; /no-ready-endpoint one more.
    assert.equal(metricValue(text, 'wsgate_handshake_failures_total', { ingress: 'routes', reason: 'no_endpoints' }), 5);
    assert.ok(!/wsgate_handshake_failures_total\{[^}]*reason="(?!no_endpoints|no_route|bad_request|bad_version|source_forbidden|origin_forbidden|limit|upstream_connect|upstream_timeout|upstream_rejected|tls|timeout)/.test(text), 'only SPEC reasons');
  });

  it('HTTPRouteWeight with one invalid backendRef: its share of new connections gets 500, the rest reach the valid one', async () => {
    let ok = 0;
    let invalid = 0;
    for (let i = 0; i < 120; i += 1) {
      const status = await upgradeStatus(proxy, '/half');
      if (status === 101) ok += 1;
      else if (status === 500) invalid += 1;
      else assert.fail(`unexpected status ${status}`);
    }
    // Expected 60/60; bounds far outside chance (p < 1e-6).
    assert.ok(invalid > 25 && invalid < 95, `500s: ${invalid} of 120`);
    assert.equal(ok + invalid, 120);
  });

  it('a valid backendRef still relays (the 500s are per backend, not per route)', async () => {
    assert.equal(await firstMessage(proxy.wsUrl('/valid'), { headers: { Host: HOST } }), 'chat');
  });
});

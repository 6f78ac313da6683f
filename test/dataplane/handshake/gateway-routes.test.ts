// The data plane's Gateway API route fields, through a real proxy on loopback with ws clients and
// upstreams: each test is named after the Gateway API conformance test it mirrors. The router's
// precedence rules are checked directly on compileRouter as well.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import type { Route } from '../../../src/config/snapshot.ts';
import { compileRouter, type RouteRequest } from '../../../src/dataplane/handshake/router.ts';
import { compileAccepts, conditionCount, modifyPath } from '../../../src/dataplane/handshake/gateway-filters.ts';
import { connect, endpoint, nextMessage, pool, route, snapshot, startTestProxy, startUpstream, type TestProxy, type TestUpstream } from '../../support/proxy.ts';

function entry(id: string, r: Partial<Route> & Pick<Route, 'host' | 'path' | 'pathType'>) {
  const full = { pool: 'p', ...r } as Route;
  const accepts = compileAccepts(full);
  return { id, ...full, ...(accepts === undefined ? {} : { accepts, conditionCount: conditionCount(full) }) };
}

function request(headers: Record<string, string> = {}, target = '/', proto: 'http' | 'https' = 'https'): RouteRequest {
  return { headers, target, proto };
}

describe('Gateway API routing precedence (compileRouter)', () => {
  const router = compileRouter([
    entry('plain', { host: 'a.example.com', path: '/ws', pathType: 'Prefix' }),
    entry('one-header', { host: 'a.example.com', path: '/ws', pathType: 'Prefix', match: { headers: [{ name: 'version', value: 'two' }] } }),
    entry('two-headers', { host: 'a.example.com', path: '/ws', pathType: 'Prefix', match: { headers: [{ name: 'version', value: 'two' }, { name: 'color', value: 'blue' }] } }),
    entry('header-query', { host: 'a.example.com', path: '/ws', pathType: 'Prefix', match: { headers: [{ name: 'version', value: 'two' }], queryParams: [{ name: 'animal', value: 'whale' }] } }),
    entry('exact', { host: 'a.example.com', path: '/ws', pathType: 'Exact', match: { queryParams: [{ name: 'animal', value: 'dolphin' }] } }),
    entry('https-only', { host: 'b.example.com', path: '/', pathType: 'Prefix', protocols: ['https'] }),
    entry('any-depth', { host: '*.wildcard.io', path: '/', pathType: 'Prefix', wildcardDepth: 'any' }),
    entry('deeper', { host: '*.bar.wildcard.io', path: '/', pathType: 'Prefix', wildcardDepth: 'any' }),
  ]);
  const match = (host: string, target: string, headers?: Record<string, string>, proto?: 'http' | 'https') => router.match(host, target, request(headers, target, proto))?.id;

  it('HTTPRouteHeaderMatching: most header matches first, then most query matches, then a plain rule', () => {
    assert.equal(match('a.example.com', '/ws/x', { version: 'two', color: 'blue' }), 'two-headers');
    assert.equal(match('a.example.com', '/ws/x?animal=whale', { version: 'two' }), 'header-query');
    assert.equal(match('a.example.com', '/ws/x', { version: 'two' }), 'one-header');
    assert.equal(match('a.example.com', '/ws/x', { version: 'three' }), 'plain');
  });

  it('HTTPRouteQueryParamMatching: an Exact path with a query match, falling through to the prefix without it', () => {
    assert.equal(match('a.example.com', '/ws?animal=dolphin'), 'exact');
    assert.equal(match('a.example.com', '/ws?animal=whale'), 'plain');
  });

  it('a route attached to the HTTPS listener only is not served on plain HTTP', () => {
    assert.equal(match('b.example.com', '/', {}, 'https'), 'https-only');
    assert.equal(match('b.example.com', '/', {}, 'http'), undefined);
  });

  it('HTTPRouteListenerHostnameMatching: a Gateway wildcard covers any depth, the longest suffix first, never the apex', () => {
    assert.equal(match('foo.wildcard.io', '/'), 'any-depth');
    assert.equal(match('a.b.wildcard.io', '/'), 'any-depth');
    assert.equal(match('x.bar.wildcard.io', '/'), 'deeper');
    assert.equal(match('wildcard.io', '/'), undefined);
  });

  it('URLRewrite path modifiers keep the query', () => {
    const prefixRoute = { host: '', path: '/old', pathType: 'Prefix', pool: 'p' } as Route;
    assert.equal(modifyPath('/old/a/b?x=1', { type: 'ReplacePrefixMatch', value: '/new' }, prefixRoute), '/new/a/b?x=1');
    assert.equal(modifyPath('/old', { type: 'ReplacePrefixMatch', value: '/' }, prefixRoute), '/');
    assert.equal(modifyPath('/old/a?x=1', { type: 'ReplaceFullPath', value: '/full' }, prefixRoute), '/full?x=1');
  });
});

describe('Gateway API route fields through the proxy', () => {
  let proxy: TestProxy;
  const upstreams: TestUpstream[] = [];
  let seen: IncomingMessage[] = [];

  before(async () => {
    for (const name of ['stable', 'canary']) {
      upstreams.push(await startUpstream(name, (ws, req) => {
        seen.push(req);
        ws.send(name);
      }));
    }
    const [stable, canary] = upstreams as [TestUpstream, TestUpstream];
    proxy = await startTestProxy(snapshot(
      [
        route('/split', 'stable', { backends: [{ pool: 'stable', weight: 3 }, { pool: 'canary', weight: 1 }], source: { namespace: 'ns', ingress: 'split', kind: 'HTTPRoute' } }),
        route('/headers', 'stable', {
          requestHeaders: { set: [{ name: 'X-Team', value: 'chat' }], add: [{ name: 'X-Extra', value: 'one' }], remove: ['X-Drop'] },
          responseHeaders: { add: [{ name: 'X-Served-By', value: 'wsgate' }] },
        }),
        route('/old', 'stable', { rewrite: { hostname: 'internal.example.com', path: { type: 'ReplacePrefixMatch', value: '/new' } } }),
        route('/redirect', 'stable', { redirect: { scheme: 'https', statusCode: 302, port: 8443 } }),
      ],
      [pool('stable', [endpoint(stable.port)]), pool('canary', [endpoint(canary.port)])],
    ));
  });
  after(async () => {
    await proxy.close();
    for (const u of upstreams) await u.close();
  });

  it('HTTPRouteWeight: new connections split by weight (3:1), each kept on its backend', async () => {
    const counts = { stable: 0, canary: 0 };
    const open: WebSocket[] = [];
    for (let i = 0; i < 200; i += 1) {
      const ws = await connect(proxy.wsUrl('/split'));
      counts[(await nextMessage(ws)) as 'stable' | 'canary'] += 1;
      open.push(ws);
    }
    for (const ws of open) ws.terminate();
    // Expected 150/50; generous bounds (p < 1e-6 to fall outside by chance).
    assert.ok(counts.canary > 20 && counts.canary < 85, `canary got ${counts.canary} of 200`);
  });

  it('HTTPRouteRequestHeaderModifier and HTTPRouteResponseHeaderModifier: set, add and remove on the way up; add on the 101', async () => {
    seen = [];
    const ws = new WebSocket(proxy.wsUrl('/headers'), { headers: { 'X-Team': 'billing', 'X-Drop': 'secret' } });
    const upgrade = await new Promise<IncomingMessage>((resolve, reject) => {
      ws.once('upgrade', resolve);
      ws.once('error', reject);
    });
    await nextMessage(ws);
    ws.terminate();
    assert.equal(upgrade.headers['x-served-by'], 'wsgate');
    const req = seen[0]!;
    assert.equal(req.headers['x-team'], 'chat');
    assert.equal(req.headers['x-extra'], 'one');
    assert.equal(req.headers['x-drop'], undefined);
  });

  it('HTTPRouteRewritePath and HTTPRouteRewriteHost: the upstream sees the new path and Host', async () => {
    seen = [];
    const ws = await connect(proxy.wsUrl('/old/room?x=1'));
    await nextMessage(ws);
    ws.terminate();
    assert.equal(seen[0]!.url, '/new/room?x=1');
    assert.equal(seen[0]!.headers.host, 'internal.example.com');
  });

  it('HTTPRouteRedirectPortAndScheme: the proxy answers the redirect itself', async () => {
    const answer = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: proxy.httpPort, path: '/redirect/a?b=1', headers: { Host: 'chat.example.com' } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      });
      req.on('error', reject);
      req.end();
    });
    assert.deepEqual(answer, { status: 302, location: 'https://chat.example.com:8443/redirect/a?b=1' });
  });
});

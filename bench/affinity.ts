// Cost of cookie affinity on the handshake path: building a pool's cookie table (once per pool per
// snapshot) and a pinned pick (per request), against a plain least-conn pick. `node bench/affinity.ts`.
import { UpstreamPool } from '../src/dataplane/upstream/pool.ts';
import { EndpointRegistry } from '../src/dataplane/upstream/registry.ts';
import { poolWithDefaults, type Pool } from '../src/config/snapshot.ts';
import { AffinityCookie } from '../src/dataplane/upstream/affinity.ts';

const key = Buffer.alloc(32, 1);
const endpoints = Array.from({ length: 100 }, (_, i) => ({ address: `10.0.${i >> 8}.${i & 255}`, port: 8080, state: 'ready' as const, name: `pod-${i}` }));
const plain: Pool = { name: 'p', source: { namespace: 'ns', service: 's' }, endpoints };
const sticky: Pool = { ...plain, affinity: { mode: 'cookie', cookieName: 'WSGATEAFFINITY' } };
const registry = new EndpointRegistry();

function time(label: string, n: number, run: () => void): void {
  for (let i = 0; i < n / 10; i++) run();
  const start = performance.now();
  for (let i = 0; i < n; i++) run();
  console.log(`${label}: ${(((performance.now() - start) * 1000) / n).toFixed(2)} us`);
}

const plainPool = new UpstreamPool(poolWithDefaults(plain), registry);
const stickyPool = new UpstreamPool(poolWithDefaults(sticky), registry, key);
const value = stickyPool.affinity!.setCookieFor({ key: '10.0.0.42:8080', address: '10.0.0.42', port: 8080, name: 'pod-42' }, {})!.split(';')[0]!;
const tried = new Set<string>();
time('cookie table for 100 endpoints (once per pool per snapshot, on its first request)', 2000, () => new AffinityCookie(sticky.affinity!, key, 'ns', 's', endpoints.map((e) => ({ key: `${e.address}:8080`, address: e.address, port: 8080, name: e.name }))).pinned({ cookie: 'WSGATEAFFINITY=x' }));
time('least-conn pick, 100 endpoints, no affinity', 100_000, () => plainPool.pick({ clientIp: '1.2.3.4', headers: {}, url: '/' }, tried));
time('pick with a valid cookie, 100 endpoints', 100_000, () => stickyPool.pick({ clientIp: '1.2.3.4', headers: { cookie: `io=abc; ${value}` }, url: '/' }, tried));
time('pick without a cookie, 100 endpoints, affinity on', 100_000, () => stickyPool.pick({ clientIp: '1.2.3.4', headers: {}, url: '/' }, tried));

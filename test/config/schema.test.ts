// The published schema and src/config/types.ts describe the same document. The field tables
// below are checked against the types by the compiler (a field added to a type and not here, or
// marked optional in one and required in the other, fails `tsc`) and against the schema here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { snapshotSchema, formatPath, type PathSegment } from '../../src/config/schema.ts';
import { validateSnapshot } from '../../src/config/validate.ts';
import { isWildcardOrDnsName, parseRouteHost } from '../../src/grammar/host.ts';
import { parseHashBy } from '../../src/grammar/hash-by.ts';
import type { Balance, Certificate, CookieAffinity, Endpoint, EndpointState, PathType, Pool, PoolSource, Route, RoutePolicy, RouteSource, Snapshot, TlsConfig } from '../../src/config/snapshot.ts';

type FieldKinds<T> = { [K in keyof T]-?: object extends Pick<T, K> ? 'optional' : 'required' };
type Schema = { properties?: Record<string, Schema>; required?: string[]; additionalProperties?: unknown; $ref?: string; description?: string; enum?: unknown[]; items?: Schema; pattern?: string; type?: string };

const defs = snapshotSchema.$defs as Record<string, Schema>;
const root = snapshotSchema as Schema;

const TABLES: Array<[string, Schema, Record<string, 'optional' | 'required'>]> = [
  ['Snapshot', root, { version: 'required', tls: 'optional', routes: 'required', pools: 'required', affinityKey: 'optional' } satisfies FieldKinds<Snapshot>],
  ['TlsConfig', defs.tls!, { certificates: 'optional', defaultCertificate: 'optional' } satisfies FieldKinds<TlsConfig>],
  ['Certificate', defs.certificate!, { name: 'required', hosts: 'required', wildcardAnyDepth: 'optional', cert: 'optional', key: 'optional', certFile: 'optional', keyFile: 'optional' } satisfies FieldKinds<Certificate>],
  [
    'TlsConfig.defaultCertificate',
    defs.defaultCertificate!,
    { name: 'required', hosts: 'optional', cert: 'optional', key: 'optional', certFile: 'optional', keyFile: 'optional' } satisfies FieldKinds<NonNullable<TlsConfig['defaultCertificate']>>,
  ],
  ['Route', defs.route!, { host: 'required', path: 'required', pathType: 'required', pool: 'required', source: 'optional', policy: 'optional', protocols: 'optional', wildcardDepth: 'optional', match: 'optional', backends: 'optional', requestHeaders: 'optional', responseHeaders: 'optional', redirect: 'optional', rewrite: 'optional' } satisfies FieldKinds<Route>],
  ['RouteSource', defs.route!.properties!.source!, { namespace: 'required', ingress: 'required', kind: 'optional' } satisfies FieldKinds<RouteSource>],
  [
    'RoutePolicy',
    defs.routePolicy!,
    { allowedOrigins: 'optional', allowedSourceRanges: 'optional', maxConnections: 'optional', maxConnectionsPerClient: 'optional', maxMessageSize: 'optional', httpsRedirect: 'optional', pingInterval: 'optional', pingTimeout: 'optional', maxConnectionLifetime: 'optional', lifetimeJitter: 'optional', maxMessagesPerSecond: 'optional', messageBurst: 'optional', messageRateDirection: 'optional' } satisfies FieldKinds<RoutePolicy>,
  ],
  [
    'Pool',
    defs.pool!,
    {
      name: 'required',
      source: 'optional',
      balance: 'optional',
      hashBy: 'optional',
      connectTimeout: 'optional',
      handshakeTimeout: 'optional',
      idleTimeout: 'optional',
      drainTimeout: 'optional',
      upstreamTls: 'optional',
      upstreamTlsVerify: 'optional',
      upstreamTlsCa: 'optional',
      upstreamTlsServerName: 'optional',
      upstreamTlsSystemRoots: 'optional',
      upstreamTlsSubjectAltNames: 'optional',
      maxConnectionsPerEndpoint: 'optional',
      drainSpread: 'optional',
      rebalance: 'optional',
      rebalanceRate: 'optional',
      rebalanceThreshold: 'optional',
      affinity: 'optional',
      invalidBackend: 'optional',
      endpoints: 'required',
    } satisfies FieldKinds<Pool>,
  ],
  [
    'CookieAffinity',
    defs.pool!.properties!.affinity!,
    { mode: 'required', cookieName: 'required', maxAge: 'optional', path: 'optional', sameSite: 'optional', secure: 'optional' } satisfies FieldKinds<CookieAffinity>,
  ],
  ['PoolSource', defs.pool!.properties!.source!, { namespace: 'required', service: 'required' } satisfies FieldKinds<PoolSource>],
  ['Endpoint', defs.endpoint!, { address: 'required', port: 'required', state: 'required', name: 'optional' } satisfies FieldKinds<Endpoint>],
];

// Every member of each union, checked complete by the compiler (Record<Union, true>).
const ENUMS: Array<[string, Schema, Record<string, true>]> = [
  ['PathType', defs.route!.properties!.pathType!, { Exact: true, Prefix: true, ImplementationSpecific: true } satisfies Record<PathType, true>],
  ['Balance', defs.pool!.properties!.balance!, { 'least-conn': true, 'round-robin': true, hash: true } satisfies Record<Balance, true>],
  ['EndpointState', defs.endpoint!.properties!.state!, { ready: true, 'not-ready': true, terminating: true } satisfies Record<EndpointState, true>],
];

test('each type has exactly the fields of its schema object, required alike', () => {
  for (const [name, schema, kinds] of TABLES) {
    assert.deepEqual(Object.keys(schema.properties ?? {}).sort(), Object.keys(kinds).sort(), `${name} fields`);
    const required = Object.entries(kinds).filter(([, kind]) => kind === 'required').map(([field]) => field);
    assert.deepEqual([...(schema.required ?? [])].sort(), required.sort(), `${name} required fields`);
  }
});

test('each union type has exactly the values of its schema enum', () => {
  for (const [name, schema, members] of ENUMS) assert.deepEqual([...schema.enum!].sort(), Object.keys(members).sort(), name);
});

test('the schema is strict and documented: no extra fields anywhere, every field described', () => {
  const resolve = (s: Schema): Schema => (s.$ref ? defs[s.$ref.replace('#/$defs/', '')]! : s);
  const visit = (schema: Schema, where: string) => {
    if (schema.properties) {
      assert.equal(schema.additionalProperties, false, `${where} must set additionalProperties: false`);
      for (const [field, child] of Object.entries(schema.properties)) {
        assert.ok(child.description ?? resolve(child).description, `${where}.${field} has no description`);
        visit(resolve(child), `${where}.${field}`);
      }
    }
    if (schema.items) visit(resolve(schema.items), `${where}[]`);
  };
  visit(root, '(root)');
  assert.ok(root.description);
  assert.equal(snapshotSchema.$schema, 'https://json-schema.org/draft/2020-12/schema');
});

// ---- a document that uses every field ----

let pem: { cert: string; key: string };
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsgate-schema-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', '/CN=chat.example.com', '-keyout', 'k.pem', '-out', 'c.pem'], { cwd: dir, stdio: 'ignore' });
  pem = { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** A fully populated snapshot; cert/key and certFile/keyFile exclude each other, hence two forms. */
function everyField(defaultFromFiles = false): Snapshot {
  return {
    version: 1,
    affinityKey: 'c2l4dGVlbiBieXRlcyBvZiBrZXk=',
    tls: {
      certificates: [
        { name: 'default/chat-tls', hosts: ['chat.example.com'], cert: pem.cert, key: pem.key },
        { name: 'default/wild-tls', hosts: ['*.example.com'], wildcardAnyDepth: ['*.example.com'], certFile: 'wild.crt', keyFile: 'wild.key' },
      ],
      defaultCertificate: defaultFromFiles
        ? { name: 'wsgate/default', hosts: ['example.com'], certFile: 'default.crt', keyFile: 'default.key' }
        : { name: 'wsgate/default', hosts: ['example.com'], cert: pem.cert, key: pem.key },
    },
    routes: [
      {
        host: 'chat.example.com',
        path: '/ws',
        pathType: 'Prefix',
        pool: 'chat',
        source: { namespace: 'default', ingress: 'chat' },
        policy: {
          allowedOrigins: ['https://*.example.com'],
          allowedSourceRanges: ['10.0.0.0/8'],
          maxConnections: 1000,
          maxConnectionsPerClient: 10,
          maxMessageSize: 65536,
          httpsRedirect: true,
          pingInterval: '30s',
          pingTimeout: '10s',
          maxConnectionLifetime: '1h',
          lifetimeJitter: 0.1,
          maxMessagesPerSecond: 50,
          messageBurst: 100,
          messageRateDirection: 'both',
        },
      },
      {
        host: '*.example.com',
        path: '/api',
        pathType: 'Exact',
        pool: 'chat',
        source: { namespace: 'default', ingress: 'api', kind: 'HTTPRoute' },
        protocols: ['https'],
        wildcardDepth: 'any',
        match: { headers: [{ name: 'x-version', value: 'two' }], queryParams: [{ name: 'room', value: 'a' }] },
        backends: [{ pool: 'chat', weight: 1 }],
        requestHeaders: { set: [{ name: 'X-Team', value: 'chat' }], add: [{ name: 'X-Extra', value: '1' }], remove: ['X-Drop'] },
        responseHeaders: { set: [{ name: 'Cache-Control', value: 'no-store' }], add: [{ name: 'X-Served-By', value: 'wsgate' }], remove: ['Server'] },
        redirect: { scheme: 'https', hostname: 'www.example.com', port: 8443, statusCode: 301, path: { type: 'ReplaceFullPath', value: '/' } },
        rewrite: { hostname: 'internal.example.com', path: { type: 'ReplacePrefixMatch', value: '/v2' } },
      },
    ],
    pools: [
      {
        name: 'chat',
        source: { namespace: 'default', service: 'chat' },
        balance: 'hash',
        hashBy: 'cookie:session',
        connectTimeout: '2s',
        handshakeTimeout: '5s',
        idleTimeout: '10m',
        drainTimeout: '30s',
        upstreamTls: true,
        upstreamTlsVerify: true,
        upstreamTlsCa: pem.cert,
        upstreamTlsServerName: 'chat.default.svc',
        upstreamTlsSystemRoots: true,
        upstreamTlsSubjectAltNames: ['DNS:chat.default.svc', 'URI:spiffe://cluster.local/ns/default/sa/chat'],
        maxConnectionsPerEndpoint: 500,
        drainSpread: '10s',
        rebalance: true,
        rebalanceRate: 5,
        rebalanceThreshold: 1.5,
        affinity: { mode: 'cookie', cookieName: 'WSGATEAFFINITY', maxAge: 3600, path: '/chat', sameSite: 'Lax', secure: true },
        invalidBackend: false,
        endpoints: [{ address: '10.0.0.5', port: 8080, state: 'ready', name: 'chat-0' }],
      },
    ],
  };
}

/** Every place an object key appears, as a path from the root. */
function keyPaths(value: unknown, path: PathSegment[] = []): PathSegment[][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => keyPaths(item, [...path, i]));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => [[...path, key], ...keyPaths(child, [...path, key])]);
}

/** Field paths the schema allows, with arrays as `[]`. */
function schemaFieldPaths(schema: Schema, prefix: string): string[] {
  const resolved = schema.$ref ? defs[schema.$ref.replace('#/$defs/', '')]! : schema;
  if (resolved.items) return schemaFieldPaths(resolved.items, `${prefix}[]`);
  return Object.entries(resolved.properties ?? {}).flatMap(([field, child]) => {
    const here = prefix === '' ? field : `${prefix}.${field}`;
    return [here, ...schemaFieldPaths(child, here)];
  });
}

test('a snapshot that uses every field of the schema validates', () => {
  const docs = [everyField(), everyField(true)];
  const used = new Set(docs.flatMap((doc) => keyPaths(doc)).map((path) => formatPath(path).replace(/\[\d+\]/g, '[]')));
  assert.deepEqual([...used].sort(), schemaFieldPaths(root, '').sort(), 'the examples use every field the schema has');
  for (const doc of docs) assert.deepEqual(validateSnapshot(doc), { ok: true, snapshot: doc });
});

test('each field misspelled is refused, naming the field meant', () => {
  for (const fromFiles of [false, true]) {
    for (const path of keyPaths(everyField(fromFiles))) assertTypoRefused(everyField(fromFiles), path);
  }
});

/** Renames the field at `path` (pathType -> pathtype, name -> names) and expects it named back. */
function assertTypoRefused(snapshot: Snapshot, path: PathSegment[]): void {
  const doc = snapshot as unknown as Record<string, unknown>;
  const field = String(path.at(-1));
  const parent = path.slice(0, -1).reduce<Record<string, unknown>>((node, seg) => node[seg] as Record<string, unknown>, doc);
  const typo = field.toLowerCase() === field ? `${field}s` : field.toLowerCase();
  parent[typo] = parent[field];
  delete parent[field];
  const result = validateSnapshot(doc);
  const expected = `${formatPath([...path.slice(0, -1), typo])}: unknown field (did you mean "${field}"?)`;
  assert.ok(!result.ok && result.errors.includes(expected), `${expected}\n${JSON.stringify(result)}`);
}

// ---- the schema's patterns and the grammars of grammar/ ----

const hostish = fc.string({ unit: fc.constantFrom('a', 'z', '0', '9', '-', '.', '*', 'A', '_'), maxLength: 12 });

test('host name patterns in the schema agree with grammar/host.ts', () => {
  const routeHost = new RegExp(defs.routeHost!.pattern!, 'u');
  const certificateHost = new RegExp(defs.certificateHost!.pattern!, 'u');
  fc.assert(
    fc.property(hostish, (text) => {
      assert.equal(routeHost.test(text), parseRouteHost(text).ok, text);
      assert.equal(certificateHost.test(text), isWildcardOrDnsName(text), text);
    }),
    { numRuns: 2000 },
  );
  for (const long of [`${'a'.repeat(63)}.io`, `${'a'.repeat(64)}.io`, `${'ab.'.repeat(84)}io`, `${'ab.'.repeat(83)}io`]) {
    assert.equal(routeHost.test(long), parseRouteHost(long).ok, `${long.length} characters`);
  }
});

// The pattern is the published shape; the grammar refuses a query name with `&`, `=` or `#` on top
// (validate.ts reports those), and nothing else.
test('the hashBy pattern in the schema agrees with grammar/hash-by.ts but for query names with & = #', () => {
  const pattern = new RegExp(defs.pool!.properties!.hashBy!.pattern!, 'u');
  const samples = fc.oneof(
    fc.constantFrom('client-ip', 'header:X-User', 'cookie:sid', 'query:room', 'header:', 'client-ip ', 'query:a b', 'cookie:a;b'),
    fc.tuple(fc.constantFrom('header:', 'cookie:', 'query:', 'ip:', ''), fc.string({ maxLength: 6 })).map(([kind, name]) => kind + name),
  );
  const queryNameWithSeparator = (text: string) => /^query:\S*[&=#]/.test(text);
  fc.assert(
    fc.property(samples, (text) => assert.equal(pattern.test(text) && !queryNameWithSeparator(text), parseHashBy(text).ok, text)),
    { numRuns: 2000 },
  );
});

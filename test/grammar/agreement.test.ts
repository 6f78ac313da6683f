// One grammar per value (issue 7): a value gets the same verdict, and where accepted the same
// normalised meaning, from (a) the Ingress annotation read through the registry as translate does,
// (b) a minimal snapshot carrying it in the field the annotation fills, through
// validateSnapshotIssues, and (c) the data plane's compile of that field. Every annotation of the
// registry has a table here; route hosts (an Ingress rule, not an annotation) have their own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIngressAnnotations } from '../../src/annotations/parse.ts';
import { ANNOTATIONS, type AnnotationDefinition } from '../../src/annotations/registry.ts';
import type { PolicyField } from '../../src/annotations/policy.ts';
import { ConfigError } from '../../src/common/errors.ts';
import type { Snapshot } from '../../src/config/snapshot.ts';
import { validateSnapshotIssues } from '../../src/config/validate.ts';
import { compileOriginPolicy, compileSourceRanges } from '../../src/dataplane/admission/policy.ts';
import { compileSnapshot } from '../../src/dataplane/compile.ts';
import { compileHashKey } from '../../src/dataplane/upstream/balancers.ts';
import { EndpointRegistry } from '../../src/dataplane/upstream/registry.ts';
import { normaliseRequestHost } from '../../src/grammar/host.ts';
import { routeClaims } from '../../src/translate/rules.ts';
import { ingress } from '../support/k8s.ts';

/** An input and what it means once accepted; REFUSED where every reader must refuse it. */
type Row = [input: string, meaning: unknown];
const REFUSED = Symbol('refused');

interface Table {
  rows: Row[];
  /** Rows only an annotation can carry (comma lists, `*`, surrounding space): (a) only. */
  annotationOnly?: Row[];
  /** Other annotations the value needs (hash needs hash-by). */
  with?: Record<string, string>;
}

const LABEL_64 = `${'a'.repeat(64)}.example.com`;
const NAME_253 = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
const NAME_254 = `${NAME_253}d`;

const SECONDS_BAD: Row[] = [['60s', REFUSED], ['0', REFUSED], ['1.5', REFUSED], ['-1', REFUSED]];
const POSITIVE: Row[] = [['1', 1], ['10000', 10000], ['0', REFUSED], ['1.5', REFUSED], ['01', REFUSED], ['-1', REFUSED], ['99999999999999999999', REFUSED]];
const NONZERO_DURATION: Row[] = [
  ['5s', '5s'], ['500ms', '500ms'], ['1.5s', '1500ms'], ['60s', '1m'], ['1m30s', '90s'], ['3600s', '1h'],
  ['0s', REFUSED], ['0ms', REFUSED], ['5', REFUSED], ['1d', REFUSED], ['-1s', REFUSED], ['5S', REFUSED],
];
const CIDRS: Row[] = [
  ['10.0.0.0/8', ['10.0.0.0/8']],
  ['10.0.0.1', ['10.0.0.1/32']],
  ['fd00::1', ['fd00::1/128']],
  ['2001:DB8::/32', ['2001:db8::/32']],
  ['::ffff:10.0.0.0/104', ['10.0.0.0/8']],
  ['0.0.0.0/0', ['0.0.0.0/0']],
  ['10.0.0.0/33', REFUSED],
  ['fd00::/129', REFUSED],
  ['10.0.0.0/08', REFUSED],
  ['10.0.0.0/', REFUSED],
  ['10.0.0/8', REFUSED],
  ['fe80::1%eth0/64', REFUSED],
  ['office', REFUSED],
];

const BOOLEAN: Row[] = [['true', true], ['false', false], ['True', REFUSED], ['yes', REFUSED], ['1', REFUSED]];

const TABLES: Record<string, Table> = {
  'wsgate.io/load-balance': {
    with: { 'wsgate.io/hash-by': 'client-ip' },
    rows: [['least-conn', 'least-conn'], ['round-robin', 'round-robin'], ['hash', 'hash'], ['LEAST-CONN', REFUSED], ['random', REFUSED], ['', REFUSED]],
  },
  'wsgate.io/hash-by': {
    rows: [
      ['client-ip', 'client-ip'], ['header:X-User', 'header:x-user'], ['header:x-user', 'header:x-user'], ['cookie:session', 'cookie:session'],
      ['cookie:Session', 'cookie:Session'], ['query:room', 'query:room'],
      ['header:X Bad', REFUSED], ['header:', REFUSED], ['header:a:b', REFUSED], ['cookie:a=b', REFUSED], ['query:a=b', REFUSED],
      ['query:a&b', REFUSED], ['query:#a', REFUSED], ['query: a', REFUSED], ['body:x', REFUSED], ['Client-IP', REFUSED], ['ip', REFUSED],
    ],
    annotationOnly: [[' client-ip ', 'client-ip']],
  },
  'wsgate.io/connect-timeout': { rows: NONZERO_DURATION },
  'wsgate.io/handshake-timeout': { rows: NONZERO_DURATION },
  'wsgate.io/idle-timeout': { rows: NONZERO_DURATION },
  'wsgate.io/drain-timeout': { rows: [['0s', '0ms'], ['0ms', '0ms'], ['1.5s', '1500ms'], ['45s', '45s'], ['soon', REFUSED], ['5', REFUSED]] },
  'wsgate.io/allowed-origins': {
    rows: [
      ['https://app.example.com', ['https://app.example.com']],
      ['https://App.Example.com:443', ['https://app.example.com']],
      ['HTTPS://APP.EXAMPLE.COM', ['https://app.example.com']],
      ['https://app.example.com/', ['https://app.example.com']],
      ['http://app.example.com:80', ['http://app.example.com']],
      ['https://app.example.com:8443', ['https://app.example.com:8443']],
      ['https://*.example.com', ['https://*.example.com']],
      ['https://*.a.b', ['https://*.a.b']],
      ['http://localhost:3000', ['http://localhost:3000']],
      ['http://10.0.0.1', ['http://10.0.0.1']],
      ['http://[0:0::1]:8080', ['http://[::1]:8080']],
      [`https://${NAME_253}`, [`https://${NAME_253}`]],
      ['wss://app.example.com', REFUSED],
      ['chrome-extension://abcdef', REFUSED],
      ['https://a.*.b', REFUSED],
      ['https://*', REFUSED],
      ['https://*.', REFUSED],
      ['https://app.example.com/chat', REFUSED],
      ['https://app.example.com//', REFUSED],
      ['https://app.example.com?x=1', REFUSED],
      ['https://user@app.example.com', REFUSED],
      ['https://app.example.com:0', REFUSED],
      ['https://app.example.com:0443', REFUSED],
      ['https://app.example.com:70000', REFUSED],
      [`https://${LABEL_64}`, REFUSED],
      [`https://${NAME_254}`, REFUSED],
      ['https://256.0.0.1', REFUSED],
      ['app.example.com', REFUSED],
      ['null', REFUSED],
    ],
    annotationOnly: [['*', undefined], [',', REFUSED], ['https://b.example.com, https://a.example.com, https://b.example.com', ['https://a.example.com', 'https://b.example.com']]],
  },
  'wsgate.io/max-connections': { rows: POSITIVE },
  'wsgate.io/max-connections-per-client': { rows: POSITIVE },
  'wsgate.io/max-message-size': { rows: [['1', 1], ['64Ki', 65536], ['1Mi', 1048576], ['0', REFUSED], ['1.5Ki', REFUSED], ['64KB', REFUSED], ['64ki', REFUSED]] },
  'wsgate.io/upstream-tls': { rows: [['true', true], ['false', false], ['True', REFUSED], ['yes', REFUSED], ['1', REFUSED]] },
  'wsgate.io/upstream-tls-verify': { rows: [['true', true], ['false', false], ['on', REFUSED]] },
  'wsgate.io/upstream-tls-ca-secret': { rows: [['ca', 'ca'], ['certs/ca', 'certs/ca'], ['CA', REFUSED], ['a/b/c', REFUSED]] },
  'wsgate.io/upstream-tls-server-name': { rows: [['echo.prod.svc', 'echo.prod.svc'], [NAME_253, NAME_253], ['Echo.prod.svc', REFUSED], ['*.prod.svc', REFUSED], [NAME_254, REFUSED], ['', REFUSED]] },
  'wsgate.io/allowed-source-ranges': { rows: CIDRS, annotationOnly: [['10.0.0.0/8, 10.0.0.1', ['10.0.0.0/8', '10.0.0.1/32']], [',', REFUSED]] },
  'nginx.ingress.kubernetes.io/proxy-read-timeout': { rows: [['3600', '1h'], ['90', '90s'], ...SECONDS_BAD] },
  'nginx.ingress.kubernetes.io/proxy-send-timeout': { rows: [['600', '10m'], ...SECONDS_BAD] },
  'nginx.ingress.kubernetes.io/proxy-connect-timeout': { rows: [['3', '3s'], ...SECONDS_BAD] },
  'nginx.ingress.kubernetes.io/upstream-hash-by': {
    rows: [['$http_x_user_id', 'header:x-user-id'], ['$cookie_sid', 'cookie:sid'], ['$arg_room', 'query:room'], ['$remote_addr', 'client-ip'], ['$request_uri', REFUSED], ['$http_', REFUSED]],
  },
  'nginx.ingress.kubernetes.io/load-balance': { rows: [['round_robin', 'round-robin'], ['ewma', 'least-conn'], ['chash', REFUSED], ['round-robin', REFUSED]] },
  'nginx.ingress.kubernetes.io/limit-connections': { rows: POSITIVE },
  'nginx.ingress.kubernetes.io/backend-protocol': { rows: [['HTTPS', true], ['http', false], ['GRPC', REFUSED]] },
  'nginx.ingress.kubernetes.io/proxy-ssl-verify': { rows: [['on', true], ['off', false], ['true', REFUSED]] },
  'nginx.ingress.kubernetes.io/proxy-ssl-secret': { rows: [['certs/ca', 'certs/ca'], ['ca', REFUSED]] },
  'nginx.ingress.kubernetes.io/proxy-ssl-name': { rows: [['backend.internal', 'backend.internal'], ['Backend', REFUSED]] },
  'nginx.ingress.kubernetes.io/whitelist-source-range': { rows: CIDRS },
  'wsgate.io/ssl-redirect': { rows: BOOLEAN },
  'wsgate.io/force-ssl-redirect': { rows: BOOLEAN },
  'nginx.ingress.kubernetes.io/ssl-redirect': { rows: BOOLEAN },
  'nginx.ingress.kubernetes.io/force-ssl-redirect': { rows: BOOLEAN },
  // Long-lived connection features (issue 13).
  'wsgate.io/ping-interval': { rows: NONZERO_DURATION },
  'wsgate.io/ping-timeout': { rows: NONZERO_DURATION },
  'wsgate.io/max-connection-lifetime': { rows: NONZERO_DURATION },
  'wsgate.io/lifetime-jitter': { rows: [['10%', 0.1], ['0%', 0], ['50%', 0.5], ['100%', REFUSED], ['0.1', REFUSED], ['-5%', REFUSED]] },
  'wsgate.io/max-messages-per-second': { rows: [['50', 50], ['0', REFUSED], ['1.5', REFUSED]] },
  'wsgate.io/message-burst': { rows: [['100', 100], ['0', REFUSED]] },
  'wsgate.io/message-rate-direction': { rows: [['client', 'client'], ['both', 'both'], ['upstream', REFUSED], ['Both', REFUSED]] },
  'wsgate.io/max-connections-per-endpoint': { rows: [['1', 1], ['500', 500], ['0', REFUSED], ['many', REFUSED]] },
  'wsgate.io/drain-spread': { rows: [['0s', '0ms'], ['20s', '20s'], ['soon', REFUSED], ['5', REFUSED]] },
  'wsgate.io/rebalance': { rows: BOOLEAN },
  'wsgate.io/rebalance-rate': { rows: [['5', 5], ['0', REFUSED], ['fast', REFUSED]] },
  'wsgate.io/rebalance-threshold': { rows: [['1.5', 1.5], ['3', 3], ['1', REFUSED], ['0.5', REFUSED], ['150%', REFUSED]] },
  // Cookie affinity (issue 13 feature 7) and its ingress-nginx aliases.
  'wsgate.io/affinity': { rows: [['cookie', 'cookie'], ['Cookie', REFUSED], ['ip', REFUSED]] },
  'nginx.ingress.kubernetes.io/affinity': { rows: [['cookie', 'cookie'], ['ip', REFUSED]] },
  'nginx.ingress.kubernetes.io/affinity-mode': { rows: [['balanced', 'balanced'], ['persistent', 'persistent'], ['sticky', REFUSED]] },
  'wsgate.io/session-cookie-name': { rows: [['SIO', 'SIO'], ['a b', REFUSED], ['a=b', REFUSED], ['', REFUSED]] },
  'wsgate.io/session-cookie-max-age': { rows: [['3600', 3600], ['0', REFUSED], ['1h', REFUSED]] },
  'wsgate.io/session-cookie-path': { rows: [['/', '/'], ['/socket.io/', '/socket.io/'], ['x', REFUSED], ['/a;b', REFUSED]] },
  'wsgate.io/session-cookie-samesite': { rows: [['Lax', 'Lax'], ['none', 'None'], ['sometimes', REFUSED]] },
  'wsgate.io/session-cookie-secure': { rows: BOOLEAN },
  'nginx.ingress.kubernetes.io/session-cookie-name': { rows: [['SIO', 'SIO'], ['a b', REFUSED], ['a=b', REFUSED], ['', REFUSED]] },
  'nginx.ingress.kubernetes.io/session-cookie-max-age': { rows: [['3600', 3600], ['0', REFUSED], ['1h', REFUSED]] },
  'nginx.ingress.kubernetes.io/session-cookie-path': { rows: [['/', '/'], ['/socket.io/', '/socket.io/'], ['x', REFUSED], ['/a;b', REFUSED]] },
  'nginx.ingress.kubernetes.io/session-cookie-samesite': { rows: [['Lax', 'Lax'], ['none', 'None'], ['sometimes', REFUSED]] },
  'nginx.ingress.kubernetes.io/session-cookie-secure': { rows: BOOLEAN },
  'nginx.ingress.kubernetes.io/session-cookie-expires': { rows: [['172800', 172800], ['0', REFUSED]] },
};

// ---- (b) the snapshot field an annotation fills ----

const POOL_FIELDS = new Set<PolicyField>([
  'balance', 'hashBy', 'connectTimeout', 'handshakeTimeout', 'idleTimeout', 'drainTimeout', 'upstreamTls', 'upstreamTlsVerify', 'upstreamTlsServerName',
  'maxConnectionsPerEndpoint', 'drainSpread', 'rebalance', 'rebalanceRate', 'rebalanceThreshold',
]);
// A reference translate resolves (the CA Secret): what reaches the snapshot is the Secret's content.
// Cookie affinity's fields meet in one nested pool object (snapshot.ts CookieAffinity), whose
// grammar test/config/schema.test.ts and the affinity e2e check.
const NOT_IN_SNAPSHOT = new Set<PolicyField>([
  'upstreamTlsCaSecret', 'affinity', 'affinityMode', 'sessionCookieName', 'sessionCookieMaxAge', 'sessionCookiePath', 'sessionCookieSameSite', 'sessionCookieSecure',
]);
const LIST_FIELDS = new Set<PolicyField>(['allowedOrigins', 'allowedSourceRanges']);
const REDIRECT_FIELDS = new Set<PolicyField>(['sslRedirect', 'forceSslRedirect']);

function snapshotWith(field: PolicyField, value: unknown): Snapshot {
  const pool: Record<string, unknown> = { name: 'p', endpoints: [{ address: '10.0.0.1', port: 8080, state: 'ready' }] };
  const route: Record<string, unknown> = { host: 'echo.example.com', path: '/', pathType: 'Prefix', pool: 'p' };
  if (POOL_FIELDS.has(field)) {
    pool[field] = value;
    if (field === 'balance' && value === 'hash') pool.hashBy = 'client-ip';
    if (field === 'hashBy') pool.balance = 'hash';
  } else {
    // ssl-redirect and force-ssl-redirect feed one route field, which translate decides per host.
    route.policy = { [REDIRECT_FIELDS.has(field) ? 'httpsRedirect' : field]: value };
  }
  return { version: 1, routes: [route], pools: [pool] } as unknown as Snapshot;
}

/** The text written in a snapshot for an annotation value, for the fields whose snapshot form is text. */
function snapshotValue(field: PolicyField, input: string): unknown {
  return LIST_FIELDS.has(field) ? [input] : input;
}

function snapshotAccepts(field: PolicyField, value: unknown): boolean {
  return validateSnapshotIssues(snapshotWith(field, value)).length === 0;
}

// ---- (c) the data plane's compile of the field, as a behaviour over fixed probes ----

const ORIGIN_PROBES = [
  'https://app.example.com', 'http://app.example.com', 'https://app.example.com:8443', 'https://a.app.example.com', 'https://x.example.com',
  'https://a.b.example.com', 'https://example.com', 'http://localhost:3000', 'http://[::1]:8080', 'http://10.0.0.1', 'https://x.a.b', 'https://a.b',
  `https://${NAME_253}`, 'wss://app.example.com', 'null',
];
const SOURCE_PROBES = ['10.0.0.1', '10.0.0.2', '10.200.0.1', '::ffff:10.0.0.1', '11.0.0.1', '192.168.1.7', '2001:db8::1', '2001:db9::1', 'fd00::1', 'fd00::2'];
const HASH_CONTEXT = {
  clientIp: '::ffff:10.0.0.9',
  headers: { 'x-user': 'u1', 'x-user-id': 'u2', cookie: 'session=s1; Session=s2; sid=s3' },
  url: '/ws?room=r1&a=b',
};

type Behaviour = { refused: true } | { refused: false; behaviour: unknown };

function compiled(build: () => unknown): Behaviour {
  try {
    return { refused: false, behaviour: build() };
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a refusal is a ConfigError: ${String(error)}`);
    return { refused: true };
  }
}

/** Undefined: the data plane does not read this field beyond its JSON type (the snapshot's schema). */
function dataPlane(field: PolicyField, value: unknown): Behaviour | undefined {
  switch (field) {
    case 'allowedOrigins':
      return compiled(() => {
        const allows = compileOriginPolicy(value as string[]);
        return ORIGIN_PROBES.filter((origin) => allows(origin));
      });
    case 'allowedSourceRanges':
      return compiled(() => {
        const allows = compileSourceRanges(value as string[]);
        return SOURCE_PROBES.filter((ip) => allows(ip));
      });
    case 'hashBy': {
      const read = compileHashKey(value as string);
      return read === undefined ? { refused: true } : { refused: false, behaviour: read(HASH_CONTEXT) };
    }
    case 'connectTimeout':
    case 'handshakeTimeout':
    case 'idleTimeout':
    case 'drainTimeout':
      return compiled(() => {
        const pool = compileSnapshot(snapshotWith(field, value), new EndpointRegistry()).pools.get('p')!;
        return pool[`${field}Ms`];
      });
    default:
      return undefined;
  }
}

// The data plane compiles only validated snapshots and does not judge a duration's size again:
// it reads `0s` as 0 ms where the snapshot validator (and the annotation) refuse a zero timeout.
function dataPlaneJudgesSize(field: PolicyField, input: string): boolean {
  return !(['connectTimeout', 'handshakeTimeout', 'idleTimeout'] as string[]).includes(field) || !/^0+(?:\.0+)?(?:ms|s|m|h)$/.test(input);
}

// ---- (a) the annotation, read as translate reads it ----

function annotationReading(definition: AnnotationDefinition, table: Table, input: string): { accepted: boolean; value?: unknown } {
  const result = parseIngressAnnotations({ ...table.with, [definition.key]: input });
  if (result.policy === undefined) return { accepted: false };
  return { accepted: true, value: result.policy[definition.field] };
}

test('every annotation of the registry has a table of values', () => {
  assert.deepEqual(Object.keys(TABLES).sort(), ANNOTATIONS.map((definition) => definition.key).sort());
  for (const [key, table] of Object.entries(TABLES)) {
    assert.ok(table.rows.some(([, meaning]) => meaning !== REFUSED), `${key}: a good value`);
    assert.ok(table.rows.some(([, meaning]) => meaning === REFUSED), `${key}: a bad value`);
  }
});

for (const definition of ANNOTATIONS) {
  const table = TABLES[definition.key];
  if (table === undefined) continue;
  const field = definition.field;
  // An alias has its own text (nginx's `$http_x`, seconds); what it means is a wsgate value.
  const sameText = definition.aliasOf === undefined;

  test(`${definition.key}: annotation, snapshot and data plane agree`, () => {
    for (const [input, meaning] of table.rows) {
      const reading = annotationReading(definition, table, input);
      const accepted = meaning !== REFUSED;
      assert.equal(reading.accepted, accepted, `(a) annotation ${JSON.stringify(input)}`);
      if (accepted) assert.deepEqual(reading.value, meaning, `(a) annotation ${JSON.stringify(input)}`);

      if (NOT_IN_SNAPSHOT.has(field)) continue;
      if (accepted) {
        // The normalised value is a snapshot value, and one the data plane takes as it is.
        assert.equal(snapshotAccepts(field, meaning), true, `(b) snapshot of the normalised ${JSON.stringify(meaning)}`);
        const normalised = dataPlane(field, meaning);
        if (normalised !== undefined) assert.equal(normalised.refused, false, `(c) data plane of the normalised ${JSON.stringify(meaning)}`);
      }
      if (!sameText) continue;
      const written = snapshotValue(field, input);
      if (typeof meaning === 'string' || Array.isArray(meaning) || meaning === REFUSED) {
        // Fields whose snapshot form is text: the text itself, in the snapshot.
        if (!(POOL_FIELDS.has(field) || LIST_FIELDS.has(field))) continue;
        assert.equal(snapshotAccepts(field, written), accepted, `(b) snapshot ${JSON.stringify(written)}`);
        const raw = dataPlane(field, written);
        if (raw === undefined || !dataPlaneJudgesSize(field, input)) continue;
        assert.equal(raw.refused, !accepted, `(c) data plane ${JSON.stringify(written)}`);
        if (accepted && !raw.refused) {
          const normalised = dataPlane(field, meaning)!;
          assert.deepEqual(raw, normalised, `(c) data plane: ${JSON.stringify(written)} behaves as ${JSON.stringify(meaning)}`);
        }
      }
    }
    for (const [input, meaning] of table.annotationOnly ?? []) {
      const reading = annotationReading(definition, table, input);
      assert.equal(reading.accepted, meaning !== REFUSED, `(a) annotation ${JSON.stringify(input)}`);
      if (meaning !== REFUSED) assert.deepEqual(reading.value, meaning, `(a) annotation ${JSON.stringify(input)}`);
    }
  });
}

// `*` is the annotation's way of writing "no list"; in a snapshot the list is left out instead.
test('"*" is any origin as an annotation, and not an origin in a snapshot list', () => {
  assert.equal(snapshotAccepts('allowedOrigins', ['*']), false);
  assert.deepEqual(dataPlane('allowedOrigins', ['*']), { refused: true });
});

// ---- route hosts: the Ingress rule's host, the snapshot route's host, the router ----

const HOSTS: Row[] = [
  ['echo.example.com', 'echo.example.com'],
  ['*.example.com', '*.example.com'],
  ['*.a.b', '*.a.b'],
  ['localhost', 'localhost'],
  [`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`],
  [NAME_253, NAME_253],
  ['', ''],
  ['a.*.b', REFUSED],
  ['*.*.b', REFUSED],
  ['*', REFUSED],
  ['*.', REFUSED],
  ['Echo.Example.com', REFUSED],
  ['ECHO.EXAMPLE.COM', REFUSED],
  [LABEL_64, REFUSED],
  [NAME_254, REFUSED],
  ['echo.example.com.', REFUSED],
  ['echo.example.com:443', REFUSED],
  ['a_b.example.com', REFUSED],
  ['-a.example.com', REFUSED],
  ['a..example.com', REFUSED],
];

/** The names a request may carry that a route host should or should not catch. */
function hostProbes(host: string): string[] {
  if (host === '') return ['anything.test'];
  if (host.startsWith('*.')) return [`x.${host.slice(2)}`, host.slice(2), `a.x.${host.slice(2)}`, `X.${host.slice(2).toUpperCase()}:443`];
  return [host, `${host}.`, `${host.toUpperCase()}:8080`, `x.${host}`];
}

function routerBehaviour(host: string): Behaviour {
  const snapshot = { version: 1, routes: [{ host, path: '/', pathType: 'Prefix', pool: 'p' }], pools: [{ name: 'p', endpoints: [] }] } as unknown as Snapshot;
  return compiled(() => {
    const { router } = compileSnapshot(snapshot, new EndpointRegistry());
    const probes = hostProbes(host);
    return probes.map((name) => [name, router.match(normaliseRequestHost(name), '/') !== undefined]);
  });
}

test('route hosts: Ingress rule, snapshot route and router agree', () => {
  for (const [input, meaning] of HOSTS) {
    const accepted = meaning !== REFUSED;
    const claims = routeClaims(ingress('x', { rules: [{ host: input, paths: [{ path: '/', service: 's', port: 80 }] }] }));
    assert.deepEqual(claims.map((claim) => claim.host), accepted ? [meaning] : [], `(a) Ingress rule host ${JSON.stringify(input)}`);
    const snapshot = { version: 1, routes: [{ host: input, path: '/', pathType: 'Prefix', pool: 'p' }], pools: [{ name: 'p', endpoints: [] }] };
    assert.equal(validateSnapshotIssues(snapshot).length === 0, accepted, `(b) snapshot route host ${JSON.stringify(input)}`);
    const routed = routerBehaviour(input);
    assert.equal(routed.refused, !accepted, `(c) router ${JSON.stringify(input)}`);
    if (!routed.refused) {
      const expected = hostProbes(input).map((name, i) => [name, input === '' || input.startsWith('*.') ? i === 0 || i === 3 : i <= 2]);
      assert.deepEqual(routed.behaviour, expected, `(c) router ${JSON.stringify(input)}`);
    }
  }
});

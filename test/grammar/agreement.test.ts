// One verdict per value, whichever way it comes in (issue 7): (a) the Ingress annotation parsed
// through the registry as translate does, (b) a minimal snapshot with the value in the field the
// annotation fills, through validateSnapshotIssues, (c) the data plane's compile of that field.
// Each row says what every entry point must do: refuse, or accept with this normalised value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANNOTATIONS, annotationDefinition } from '../../src/annotations/registry.ts';
import { parseIngressAnnotations } from '../../src/annotations/parse.ts';
import type { PolicyField } from '../../src/annotations/policy.ts';
import { validateSnapshotIssues } from '../../src/config/validate.ts';
import { compileOriginPolicy, compileSourceRanges } from '../../src/dataplane/admission/policy.ts';
import { compileHashKey } from '../../src/dataplane/upstream/balancers.ts';
import { compileRouter } from '../../src/dataplane/handshake/router.ts';
import { parseDuration } from '../../src/grammar/duration.ts';
import { normaliseRequestHost } from '../../src/grammar/host.ts';
import { normaliseHost } from '../../src/translate/rules.ts';

const REFUSED = Symbol('refused');
type Expected = unknown;

interface Row {
  text: string;
  /** The annotation's value; REFUSED when every entry point must refuse. */
  value: Expected;
  /** The snapshot spelling where it is not the text itself (numbers, booleans, alias values). */
  snapshot?: unknown;
}

const POOL_FIELDS = new Set<PolicyField>(['balance', 'hashBy', 'connectTimeout', 'handshakeTimeout', 'idleTimeout', 'drainTimeout', 'upstreamTls']);
const LIST_FIELDS = new Set<PolicyField>(['allowedOrigins', 'allowedSourceRanges']);

const origins: Row[] = [
  { text: 'https://app.example.com', value: ['https://app.example.com'] },
  { text: 'https://App.Example.com:443', value: ['https://app.example.com'] },
  { text: 'HTTP://app.example.com:80', value: ['http://app.example.com'] },
  { text: 'https://app.example.com/', value: ['https://app.example.com'] },
  { text: 'https://app.example.com:8443', value: ['https://app.example.com:8443'] },
  { text: 'https://*.example.com', value: ['https://*.example.com'] },
  { text: 'http://[0:0::1]:3000', value: ['http://[::1]:3000'] },
  { text: 'http://10.0.0.1', value: ['http://10.0.0.1'] },
  { text: 'wss://app.example.com', value: REFUSED },
  { text: 'chrome-extension://abcdef', value: REFUSED },
  { text: 'https://app.example.com/chat', value: REFUSED },
  { text: 'https://a.*.example.com', value: REFUSED },
  { text: 'https://user@app.example.com', value: REFUSED },
  { text: 'https://app.example.com:0', value: REFUSED },
  { text: 'https://app.example.com:70000', value: REFUSED },
  { text: 'app.example.com', value: REFUSED },
  { text: 'null', value: REFUSED },
  { text: `https://${'a'.repeat(64)}.com`, value: REFUSED },
];

const cidrs: Row[] = [
  { text: '10.0.0.0/8', value: ['10.0.0.0/8'] },
  { text: '10.0.0.1', value: ['10.0.0.1/32'] },
  { text: '2001:DB8::/32', value: ['2001:db8::/32'] },
  { text: 'fd00::1', value: ['fd00::1/128'] },
  { text: '::ffff:10.0.0.0/104', value: ['10.0.0.0/8'] },
  { text: '::ffff:10.0.0.1', value: ['10.0.0.1/32'] },
  { text: '10.0.0.0/33', value: REFUSED },
  { text: '10.0.0.0/08', value: REFUSED },
  { text: '10.0.0.0/-1', value: REFUSED },
  { text: '10.0.0/8', value: REFUSED },
  { text: 'fe80::1%eth0/64', value: REFUSED },
  { text: 'office', value: REFUSED },
];

const hashBy: Row[] = [
  { text: 'client-ip', value: 'client-ip' },
  { text: 'header:X-User', value: 'header:x-user' },
  { text: 'cookie:Session', value: 'cookie:Session' },
  { text: 'query:room', value: 'query:room' },
  { text: 'header:X Bad', value: REFUSED },
  { text: 'header:', value: REFUSED },
  { text: 'cookie:a;b', value: REFUSED },
  { text: 'query:a=b', value: REFUSED },
  { text: 'query:a&b', value: REFUSED },
  { text: 'body:x', value: REFUSED },
];

function timeouts(allowZero: boolean): Row[] {
  return [
    { text: '500ms', value: '500ms' },
    { text: '1.5s', value: '1500ms' },
    { text: '1m30s', value: '90s' },
    { text: '1h', value: '1h' },
    { text: '0s', value: allowZero ? '0ms' : REFUSED },
    { text: '5', value: REFUSED },
    { text: '1d', value: REFUSED },
    { text: '-1s', value: REFUSED },
  ];
}

const positive: Row[] = [
  { text: '1', value: 1, snapshot: 1 },
  { text: '100', value: 100, snapshot: 100 },
  { text: '0', value: REFUSED, snapshot: 0 },
  { text: '1.5', value: REFUSED, snapshot: 1.5 },
  { text: 'many', value: REFUSED },
];

const bytes: Row[] = [
  { text: '1024', value: 1024, snapshot: 1024 },
  { text: '64Ki', value: 65536, snapshot: 65536 },
  { text: '1Mi', value: 1048576, snapshot: 1048576 },
  { text: '10KiB', value: REFUSED },
  { text: '0', value: REFUSED, snapshot: 0 },
];

const booleans: Row[] = [
  { text: 'true', value: true, snapshot: true },
  { text: 'false', value: false, snapshot: false },
  { text: 'yes', value: REFUSED },
];

const balances: Row[] = [
  { text: 'least-conn', value: 'least-conn' },
  { text: 'round-robin', value: 'round-robin' },
  { text: 'LEAST-CONN', value: REFUSED },
  { text: 'roundrobin', value: REFUSED },
];

/** Rows per annotation key; the check below fails for a registry key without rows. */
const TABLE: Record<string, Row[]> = {
  'wsgate.io/load-balance': [...balances, { text: 'hash', value: REFUSED }],
  'wsgate.io/hash-by': hashBy,
  'wsgate.io/connect-timeout': timeouts(false),
  'wsgate.io/handshake-timeout': timeouts(false),
  'wsgate.io/idle-timeout': timeouts(false),
  'wsgate.io/drain-timeout': timeouts(true),
  'wsgate.io/allowed-origins': origins,
  'wsgate.io/max-connections': positive,
  'wsgate.io/max-connections-per-client': positive,
  'wsgate.io/max-message-size': bytes,
  'wsgate.io/upstream-tls': booleans,
  'wsgate.io/allowed-source-ranges': cidrs,
  'nginx.ingress.kubernetes.io/proxy-read-timeout': [{ text: '60', value: '1m', snapshot: '60s' }, { text: '60s', value: REFUSED, snapshot: '60' }, { text: '0', value: REFUSED, snapshot: '0s' }],
  'nginx.ingress.kubernetes.io/proxy-send-timeout': [{ text: '3600', value: '1h', snapshot: '3600s' }, { text: 'x', value: REFUSED, snapshot: 'xs' }],
  'nginx.ingress.kubernetes.io/proxy-connect-timeout': [{ text: '5', value: '5s', snapshot: '5s' }, { text: '-5', value: REFUSED, snapshot: '-5s' }],
  'nginx.ingress.kubernetes.io/upstream-hash-by': [
    { text: '$http_x_user_id', value: 'header:x-user-id', snapshot: 'header:X-User-Id' },
    { text: '$cookie_sid', value: 'cookie:sid', snapshot: 'cookie:sid' },
    { text: '$arg_room', value: 'query:room', snapshot: 'query:room' },
    { text: '$remote_addr', value: 'client-ip', snapshot: 'client-ip' },
    { text: '$request_uri', value: REFUSED, snapshot: 'request_uri' },
  ],
  'nginx.ingress.kubernetes.io/load-balance': [{ text: 'round_robin', value: 'round-robin', snapshot: 'round-robin' }, { text: 'ewma', value: 'least-conn', snapshot: 'least-conn' }, { text: 'chash', value: REFUSED }],
  'nginx.ingress.kubernetes.io/limit-connections': positive,
  'nginx.ingress.kubernetes.io/backend-protocol': [{ text: 'HTTPS', value: true, snapshot: true }, { text: 'http', value: false, snapshot: false }, { text: 'GRPC', value: REFUSED }],
  'nginx.ingress.kubernetes.io/whitelist-source-range': cidrs,
};

// ---- the three entry points ----

function viaAnnotation(key: string, field: PolicyField, text: string): Expected {
  const result = parseIngressAnnotations({ [key]: text, ...(field === 'hashBy' ? { 'wsgate.io/load-balance': 'hash' } : {}) });
  return result.policy === undefined ? REFUSED : result.policy[field];
}

function viaSnapshot(field: PolicyField, value: unknown): boolean {
  const pool: Record<string, unknown> = { name: 'p', endpoints: [] };
  const policy: Record<string, unknown> = {};
  if (POOL_FIELDS.has(field)) pool[field] = value;
  else policy[field] = LIST_FIELDS.has(field) ? [value] : value;
  if (field === 'hashBy') pool.balance = 'hash';
  const doc = { version: 1, routes: [{ host: '', path: '/', pathType: 'Prefix', pool: 'p', policy }], pools: [pool] };
  return validateSnapshotIssues(doc).length === 0;
}

/** Whether the data plane's compile takes the snapshot value, and then that it means `normalised`. */
function viaDataPlane(field: PolicyField, value: unknown, normalised: Expected): boolean {
  const compiles = (compile: () => unknown): boolean => {
    try {
      return compile() !== undefined;
    } catch {
      return false;
    }
  };
  switch (field) {
    case 'allowedOrigins': {
      if (!compiles(() => compileOriginPolicy([value as string]))) return false;
      const probe = String((normalised as string[])[0]).replace('*', 'a');
      assert.equal(compileOriginPolicy([value as string])(probe), true, `${String(value)} lets ${probe} in`);
      return true;
    }
    case 'allowedSourceRanges': {
      if (!compiles(() => compileSourceRanges([value as string]))) return false;
      const probe = String((normalised as string[])[0]).split('/')[0]!;
      assert.equal(compileSourceRanges([value as string])(probe), true, `${String(value)} lets ${probe} in`);
      return true;
    }
    case 'hashBy': {
      const raw = compileHashKey(value as string);
      if (raw === undefined) return false;
      const ctx = { clientIp: '10.0.0.1', headers: { 'x-user': 'u', 'x-user-id': 'u', cookie: 'Session=s; sid=s' }, url: '/?room=r' };
      assert.equal(raw(ctx as never), compileHashKey(normalised as string)!(ctx as never), `${String(value)} reads as ${String(normalised)}`);
      return true;
    }
    case 'connectTimeout':
    case 'handshakeTimeout':
    case 'idleTimeout':
    case 'drainTimeout': {
      const ms = parseDuration(value as string);
      if (ms === undefined) return false;
      if (normalised !== REFUSED) assert.equal(ms, parseDuration(normalised as string), `${String(value)} lasts ${String(normalised)}`);
      return true;
    }
    default:
      // Numbers, booleans and the balance enum reach the data plane as the validated JSON values.
      return normalised !== REFUSED;
  }
}

for (const [key, rows] of Object.entries(TABLE)) {
  test(`${key}: the annotation, the snapshot and the data plane agree`, () => {
    const definition = annotationDefinition(key);
    assert.ok(definition, `${key} is in the registry`);
    const field = definition.field;
    for (const row of rows) {
      const label = `${key} ${JSON.stringify(row.text)}`;
      assert.deepEqual(viaAnnotation(key, field, row.text), row.value, `${label}: annotation`);
      const snapshotValue = 'snapshot' in row ? row.snapshot : row.text;
      const accepted = row.value !== REFUSED;
      assert.equal(viaSnapshot(field, snapshotValue), accepted, `${label}: snapshot ${JSON.stringify(snapshotValue)}`);
      // Lists and hash keys are refused by the compile itself; a zero duration or a number out of
      // range is the validator's to refuse (the data plane never sees an unvalidated snapshot).
      const compiled = viaDataPlane(field, snapshotValue, row.value);
      if (LIST_FIELDS.has(field) || field === 'hashBy') assert.equal(compiled, accepted, `${label}: data plane`);
      else if (accepted) assert.equal(compiled, true, `${label}: data plane`);
    }
  });
}

test('every annotation of the registry has rows in the agreement table', () => {
  for (const definition of ANNOTATIONS) assert.ok(TABLE[definition.key]?.length, `${definition.key} has no agreement rows`);
  for (const key of Object.keys(TABLE)) assert.ok(annotationDefinition(key), `${key} is not in the registry`);
});

// Route and certificate hosts are not annotations: (a) an Ingress rule host through translate,
// (b) a snapshot route host, (c) the router.
const hosts: Row[] = [
  { text: 'chat.example.com', value: 'chat.example.com' },
  { text: 'Chat.Example.COM', value: 'chat.example.com' },
  { text: '*.example.com', value: '*.example.com' },
  { text: `${'a'.repeat(63)}.com`, value: `${'a'.repeat(63)}.com` },
  { text: `${'a'.repeat(64)}.com`, value: REFUSED },
  { text: `${'a.'.repeat(125)}abcd`, value: REFUSED },
  { text: '*.a.b', value: '*.a.b' },
  { text: 'a.*.b', value: REFUSED },
  { text: '*', value: REFUSED },
  { text: 'a_b.com', value: REFUSED },
  { text: 'a.com.', value: REFUSED },
  { text: 'a.com:443', value: REFUSED },
];

test('route hosts: translate, the snapshot and the router agree', () => {
  assert.equal(`${'a.'.repeat(125)}abcd`.length, 254);
  for (const row of hosts) {
    const translated = normaliseHost(row.text);
    assert.equal(translated ?? REFUSED, row.value, `${row.text}: translate`);
    const doc = { version: 1, routes: [{ host: row.text, path: '/', pathType: 'Prefix', pool: 'p' }], pools: [{ name: 'p', endpoints: [] }] };
    assert.equal(validateSnapshotIssues(doc).length === 0, row.value !== REFUSED, `${row.text}: snapshot`);
    if (row.value === REFUSED) continue;
    const router = compileRouter([{ host: row.text, path: '/', pathType: 'Prefix' as const }]);
    const request = String(row.value).replace('*', 'x').toUpperCase();
    // The pipeline normalises the Host once, before the router sees it.
    assert.ok(router.match(normaliseRequestHost(request), '/'), `${row.text}: the router serves ${request}`);
  }
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateSnapshot } from '../../src/config/validate.ts';

// ---- builders: a valid snapshot, changed one field at a time ----

function endpoint(overrides: Record<string, unknown> = {}) {
  return { address: '10.0.0.1', port: 8080, state: 'ready', ...overrides };
}

function pool(name: string, overrides: Record<string, unknown> = {}) {
  return { name, endpoints: [endpoint()], ...overrides };
}

function route(host: string, path: string, poolName: string, overrides: Record<string, unknown> = {}) {
  return { host, path, pathType: 'Prefix', pool: poolName, ...overrides };
}

// Typed loosely on purpose: the tests write documents the types would refuse.
type Doc = { version: unknown; routes: Array<Record<string, unknown>>; pools: Array<Record<string, unknown>>; tls?: Record<string, unknown> } & Record<string, unknown>;

function snapshot(): Doc {
  return {
    version: 1,
    routes: [route('echo.example.com', '/', 'echo'), route('api.example.com', '/v1', 'api')],
    pools: [pool('echo'), pool('api')],
  };
}

function errorsOf(doc: unknown): string[] {
  const result = validateSnapshot(doc);
  return result.ok ? [] : result.errors;
}

function routeWithPolicy(policy: Record<string, unknown>): Doc {
  const doc = snapshot();
  doc.routes[0]!.policy = policy;
  return doc;
}

// ---- certificates made by openssl, once for the file ----

let certs: { rsaCert: string; rsaKey: string; ecCert: string; ecKey: string; chain: string; chainKey: string };
let certDir: string;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: certDir, stdio: 'ignore' });
}

before(() => {
  certDir = mkdtempSync(join(tmpdir(), 'wsgate-validate-'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=rsa.example.com', '-keyout', 'rsa.key', '-out', 'rsa.crt');
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', '/CN=ec.example.com', '-keyout', 'ec.key', '-out', 'ec.crt');
  // A leaf signed by a CA: the chain is leaf first, then the CA.
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', '/CN=test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=leaf.example.com', '-keyout', 'leaf.key', '-out', 'leaf.csr');
  openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30', '-out', 'leaf.crt');
  const read = (name: string) => readFileSync(join(certDir, name), 'utf8');
  certs = {
    rsaCert: read('rsa.crt'),
    rsaKey: read('rsa.key'),
    ecCert: read('ec.crt'),
    ecKey: read('ec.key'),
    chain: read('leaf.crt') + read('ca.crt'),
    chainKey: read('leaf.key'),
  };
});

after(() => rmSync(certDir, { recursive: true, force: true }));

function withCertificate(certificate: Record<string, unknown>): Doc {
  return { ...snapshot(), tls: { certificates: [{ name: 'default/echo-tls', hosts: ['echo.example.com'], ...certificate }] } };
}

// ---- documents that are served ----

test('a valid snapshot is accepted as written, with no defaults filled in', () => {
  const doc = snapshot();
  const result = validateSnapshot(doc);
  assert.equal(result.ok, true);
  assert.ok(result.ok);
  assert.equal(result.snapshot, doc);
  assert.equal('balance' in result.snapshot.pools[0]!, false);
});

test('empty routes and pools are a valid snapshot (a controller with no Ingress yet)', () => {
  assert.deepEqual(errorsOf({ version: 1, routes: [], pools: [] }), []);
});

// ---- shape (the schema) ----

test('the version must be 1', () => {
  assert.deepEqual(errorsOf({ ...snapshot(), version: 2 }), ['version: must be 1, not 2']);
  assert.deepEqual(errorsOf({ ...snapshot(), version: '1' }), ['version: must be 1, not "1"']);
});

test('a document that is not a mapping is refused at the root', () => {
  assert.deepEqual(errorsOf(null), ['(root): must be a mapping of fields, not null']);
  assert.deepEqual(errorsOf([]), ['(root): must be a mapping of fields, not a list']);
});

test('missing required fields are named with their path', () => {
  const doc = snapshot();
  delete (doc as Record<string, unknown>).pools;
  delete doc.routes[1]!.pathType;
  assert.deepEqual(errorsOf(doc), ['pools: required field is missing', 'routes[1].pathType: required field is missing']);
  const noPools = snapshot();
  noPools.pools = [];
  assert.deepEqual(errorsOf(noPools), ['routes[0].pool: "echo" is not a pool (pools: none)', 'routes[1].pool: "api" is not a pool (pools: none)']);
});

test('an unknown field is refused, with the field it probably meant', () => {
  const doc = snapshot();
  doc.routes[0]!.pathtype = 'Exact';
  assert.deepEqual(errorsOf(doc), ['routes[0].pathtype: unknown field (did you mean "pathType"?)']);
  assert.deepEqual(errorsOf({ ...snapshot(), metadata: {} }), ['metadata: unknown field (known fields: version, tls, routes, pools, affinityKey)']);
});

test('enumerations list what they accept', () => {
  const doc = snapshot();
  doc.routes[0]!.pathType = 'prefix';
  doc.pools[0]!.balance = 'random';
  doc.pools[0]!.endpoints = [endpoint({ state: 'Ready' })];
  assert.deepEqual(errorsOf(doc), [
    'routes[0].pathType: "prefix" is not one of Exact, Prefix, ImplementationSpecific',
    'pools[0].balance: "random" is not one of least-conn, round-robin, hash',
    'pools[0].endpoints[0].state: "Ready" is not one of ready, not-ready, terminating',
  ]);
});

test('ports are 1..65535', () => {
  for (const port of [1, 443, 65535]) {
    const doc = snapshot();
    doc.pools[0]!.endpoints = [endpoint({ port })];
    assert.deepEqual(errorsOf(doc), [], String(port));
  }
  const cases: Array<[unknown, string]> = [
    [0, 'must be a port from 1 to 65535, not 0'],
    [65536, 'must be a port from 1 to 65535, not 65536'],
    [80.5, 'must be an integer, not 80.5'],
    ['80', 'must be an integer, not "80"'],
  ];
  for (const [port, message] of cases) {
    const doc = snapshot();
    doc.pools[1]!.endpoints = [endpoint(), endpoint({ port })];
    assert.deepEqual(errorsOf(doc), [`pools[1].endpoints[1].port: ${message}`]);
  }
});

test('an endpoint address cannot be empty', () => {
  const doc = snapshot();
  doc.pools[0]!.endpoints = [endpoint({ address: '' })];
  assert.deepEqual(errorsOf(doc), ['pools[0].endpoints[0].address: must not be empty']);
});

test('connection limits and message sizes are positive whole numbers', () => {
  for (const field of ['maxConnections', 'maxConnectionsPerClient', 'maxMessageSize']) {
    assert.deepEqual(errorsOf(routeWithPolicy({ [field]: 1 })), [], field);
    assert.deepEqual(errorsOf(routeWithPolicy({ [field]: 0 })), [`routes[0].policy.${field}: must be a positive whole number, not 0`]);
    assert.deepEqual(errorsOf(routeWithPolicy({ [field]: -5 })), [`routes[0].policy.${field}: must be a positive whole number, not -5`]);
    assert.deepEqual(errorsOf(routeWithPolicy({ [field]: 2.5 })), [`routes[0].policy.${field}: must be an integer, not 2.5`]);
  }
});

// ---- references and uniqueness ----

test('every route names an existing pool', () => {
  const doc = snapshot();
  doc.routes.push(route('chat.example.com', '/ws', 'chat'));
  assert.deepEqual(errorsOf(doc), ['routes[2].pool: "chat" is not a pool (pools: echo, api)']);
});

test('pool names are unique', () => {
  const doc = snapshot();
  doc.pools.push(pool('echo'));
  assert.deepEqual(errorsOf(doc), ['pools[2].name: "echo" is already the name of pools[0]']);
});

test('no two routes share host, path and pathType', () => {
  const doc = snapshot();
  doc.routes.push(route('api.example.com', '/v1', 'echo'));
  assert.deepEqual(errorsOf(doc), ['routes[2]: same host, path and pathType as routes[1] ("api.example.com", "/v1", Prefix)']);
  // A different path type, host or path is a different route.
  const distinct = snapshot();
  distinct.routes.push(route('api.example.com', '/v1', 'echo', { pathType: 'Exact' }), route('', '/v1', 'echo'), route('api.example.com', '/v2', 'echo'));
  assert.deepEqual(errorsOf(distinct), []);
});

// ---- balancing and durations ----

test('balance hash requires hashBy', () => {
  const doc = snapshot();
  doc.pools[1]!.balance = 'hash';
  assert.deepEqual(errorsOf(doc), ['pools[1].hashBy: required when balance is "hash"']);
  doc.pools[1]!.hashBy = 'client-ip';
  assert.deepEqual(errorsOf(doc), []);
});

test('hashBy is header:NAME, cookie:NAME, query:NAME or client-ip', () => {
  for (const hashBy of ['header:X-User', 'cookie:session', 'query:room', 'client-ip']) {
    const doc = snapshot();
    Object.assign(doc.pools[0]!, { balance: 'hash', hashBy });
    assert.deepEqual(errorsOf(doc), [], hashBy);
  }
  for (const hashBy of ['header:', 'header:X User', 'cookie:a=b', 'cookies:x', 'client', 'ip', 'query: x', '', 'query:a=b', 'query:a&b', 'query:#x']) {
    const doc = snapshot();
    Object.assign(doc.pools[0]!, { balance: 'hash', hashBy });
    assert.deepEqual(errorsOf(doc), [`pools[0].hashBy: ${JSON.stringify(hashBy)} is not header:NAME, cookie:NAME, query:NAME or client-ip`]);
  }
});

test('durations parse and are greater than zero, but for drainTimeout (0: close at once)', () => {
  const fields = ['connectTimeout', 'handshakeTimeout', 'idleTimeout', 'drainTimeout'];
  for (const field of fields) {
    for (const good of ['500ms', '5s', '1m', '1h', '1m30s', '0.5s']) {
      const doc = snapshot();
      doc.pools[0]![field] = good;
      assert.deepEqual(errorsOf(doc), [], `${field} ${good}`);
    }
    for (const zero of ['0s', '0ms', '0m0s']) {
      const doc = snapshot();
      doc.pools[0]![field] = zero;
      assert.deepEqual(errorsOf(doc), field === 'drainTimeout' ? [] : [`pools[0].${field}: "${zero}" must be greater than 0`], `${field} ${zero}`);
    }
    for (const bad of ['5', '5 s', '-5s', '5d', 'soon']) {
      const doc = snapshot();
      doc.pools[0]![field] = bad;
      assert.deepEqual(errorsOf(doc), [`pools[0].${field}: "${bad}" is not a duration (such as 500ms, 5s, 1m, 1h, 1m30s)`]);
    }
  }
  const numeric = snapshot();
  numeric.pools[0]!.idleTimeout = 30;
  assert.deepEqual(errorsOf(numeric), ['pools[0].idleTimeout: must be a string, not 30']);
});

// ---- hosts, paths, origins, CIDRs ----

test('route hosts are lowercase DNS names, one-label wildcards or empty', () => {
  const good = ['echo.example.com', 'localhost', '*.example.com', '', 'a-b.c1.io', `${'a'.repeat(63)}.com`];
  for (const host of good) {
    const doc = snapshot();
    doc.routes[0]!.host = host;
    assert.deepEqual(errorsOf(doc), [], host);
  }
  const bad = ['Echo.example.com', '*', '*.', 'a.*.com', '*.*.com', '-a.com', 'a-.com', 'a..com', '.a.com', 'a.com.', 'a_b.com', 'echo.example.com:443', `${'a'.repeat(64)}.com`, `${'a.'.repeat(126)}ab`];
  for (const host of bad) {
    const doc = snapshot();
    doc.routes[0]!.host = host;
    assert.deepEqual(errorsOf(doc), [`routes[0].host: ${JSON.stringify(host)} is not a lowercase DNS name, a one-label wildcard (*.example.com) or "" (any host)`]);
  }
});

test('paths start with /', () => {
  const doc = snapshot();
  doc.routes[1]!.path = 'v1';
  doc.routes[0]!.path = '';
  assert.deepEqual(errorsOf(doc), ['routes[0].path: "" must start with "/"', 'routes[1].path: "v1" must start with "/"']);
});

test('allowed origins are http or https origins, case-folded, optionally with a *. wildcard', () => {
  const good = ['https://app.example.com', 'http://localhost:3000', 'https://*.example.com', 'https://*.example.com:8443', 'http://10.0.0.1', 'http://[::1]:8080', 'https://app.example.com/', 'HTTPS://App.Example.com:443'];
  assert.deepEqual(errorsOf(routeWithPolicy({ allowedOrigins: good })), []);
  const notOrigins = ['app.example.com', 'https://app.example.com/chat', 'https://', 'https://*', 'https://a.*.com', 'https://app.example.com:0', 'https://app.example.com:70000', 'https://app.example.com?x=1', '*', 'null', 'wss://app.example.com', 'chrome-extension://abcdef', 'https://app.example.com//'];
  for (const origin of notOrigins) {
    assert.deepEqual(errorsOf(routeWithPolicy({ allowedOrigins: [origin] })), [
      `routes[0].policy.allowedOrigins[0]: ${JSON.stringify(origin)} is not an origin (http:// or https:// with a host and an optional port, such as https://app.example.com or https://*.example.com)`,
    ]);
  }
});

test('allowed source ranges are IPv4 or IPv6 CIDRs or addresses', () => {
  const good = ['10.0.0.0/8', '0.0.0.0/0', '192.168.1.1/32', 'fd00::/8', '::/0', '2001:db8::1/128', '::ffff:10.0.0.0/104', '10.0.0.0', 'fd00::'];
  assert.deepEqual(errorsOf(routeWithPolicy({ allowedSourceRanges: good })), []);
  const bad = ['10.0.0.0/33', '10.0.0/8', '256.0.0.0/8', 'fd00::/129', '10.0.0.0/-1', '10.0.0.0/08', 'fe80::1%eth0/64', 'example.com/8', '10.0.0.0/'];
  for (const range of bad) {
    assert.deepEqual(errorsOf(routeWithPolicy({ allowedSourceRanges: [range] })), [
      `routes[0].policy.allowedSourceRanges[0]: ${JSON.stringify(range)} is not a CIDR (such as 10.0.0.0/8 or fd00::/8) or an address`,
    ]);
  }
});

// ---- certificates ----

test('inline RSA, ECDSA and chained certificates with matching keys are accepted', () => {
  assert.deepEqual(errorsOf(withCertificate({ cert: certs.rsaCert, key: certs.rsaKey })), []);
  assert.deepEqual(errorsOf(withCertificate({ cert: certs.ecCert, key: certs.ecKey })), []);
  assert.deepEqual(errorsOf(withCertificate({ cert: certs.chain, key: certs.chainKey })), []);
});

test('a key that belongs to another certificate is refused', () => {
  assert.deepEqual(errorsOf(withCertificate({ cert: certs.rsaCert, key: certs.ecKey })), ['tls.certificates[0].key: does not match the certificate (the first one in the chain)']);
  // The leaf is first: the CA's key does not serve the leaf.
  assert.deepEqual(errorsOf(withCertificate({ cert: certs.chain, key: readFileSync(join(certDir, 'ca.key'), 'utf8') })), [
    'tls.certificates[0].key: does not match the certificate (the first one in the chain)',
  ]);
});

test('text that is not PEM is refused for cert and key', () => {
  const errors = errorsOf(withCertificate({ cert: 'not a certificate', key: 'not a key' }));
  assert.equal(errors.length, 2);
  assert.equal(errors[0], 'tls.certificates[0].cert: is not a PEM certificate (no -----BEGIN CERTIFICATE----- block)');
  assert.match(errors[1]!, /^tls\.certificates\[0\]\.key: is not a PEM private key \(/);
});

test('a damaged certificate in a chain is named by its place', () => {
  const [leaf] = certs.chain.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)!;
  const broken = `${leaf}\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`;
  const errors = errorsOf(withCertificate({ cert: broken, key: certs.chainKey }));
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /^tls\.certificates\[0\]\.cert: certificate 2 of 2 in the chain does not parse \(/);
});

test('an encrypted private key is refused with the reason', () => {
  execFileSync('openssl', ['pkey', '-in', 'ec.key', '-aes256', '-passout', 'pass:secret', '-out', 'ec-encrypted.key'], { cwd: certDir, stdio: 'ignore' });
  const encrypted = readFileSync(join(certDir, 'ec-encrypted.key'), 'utf8');
  assert.deepEqual(errorsOf(withCertificate({ cert: certs.ecCert, key: encrypted })), ['tls.certificates[0].key: is not a PEM private key (encrypted keys are not supported)']);
});

test('a certificate gives exactly one of cert/certFile and one of key/keyFile', () => {
  assert.deepEqual(errorsOf(withCertificate({ certFile: 'a.crt', keyFile: 'a.key' })), []);
  assert.deepEqual(errorsOf(withCertificate({ cert: certs.ecCert, certFile: 'a.crt', key: certs.ecKey })), ['tls.certificates[0].certFile: cannot be given together with cert']);
  assert.deepEqual(errorsOf(withCertificate({ key: certs.ecKey, keyFile: 'a.key', cert: certs.ecCert })), ['tls.certificates[0].keyFile: cannot be given together with key']);
  assert.deepEqual(errorsOf(withCertificate({})), [
    'tls.certificates[0].cert: required field is missing (give cert or certFile)',
    'tls.certificates[0].key: required field is missing (give key or keyFile)',
  ]);
  const fallback = { ...snapshot(), tls: { defaultCertificate: { name: 'default', certFile: 'a.crt' } } };
  assert.deepEqual(errorsOf(fallback), ['tls.defaultCertificate.key: required field is missing (give key or keyFile)']);
});

test('certificate hosts are valid names (no empty host, unlike routes)', () => {
  assert.deepEqual(errorsOf(withCertificate({ certFile: 'a.crt', keyFile: 'a.key', hosts: ['echo.example.com', '*.example.com'] })), []);
  assert.deepEqual(errorsOf(withCertificate({ certFile: 'a.crt', keyFile: 'a.key', hosts: ['echo.example.com', ''] })), [
    'tls.certificates[0].hosts[1]: "" is not a lowercase DNS name or a one-label wildcard (*.example.com)',
  ]);
});

test('every mistake of a document is listed in one pass', () => {
  const doc = snapshot();
  doc.version = 3;
  doc.routes[0]!.pool = 'nope';
  doc.routes[1]!.host = 'API.example.com';
  doc.pools[0]!.connectTimeout = '0s';
  doc.pools[1]!.endpoints = [endpoint({ port: 0 })];
  assert.equal(errorsOf(doc).length, 5);
});

test('upstreamTlsCa is a list of PEM certificates, every one parsing', () => {
  const withCa = (ca: string): Doc => {
    const doc = snapshot();
    doc.pools[0]!.upstreamTlsCa = ca;
    return doc;
  };
  const [leaf] = certs.chain.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)!;
  assert.deepEqual(errorsOf(withCa(certs.chain)), []);
  assert.deepEqual(errorsOf(withCa('not a certificate')), ['pools[0].upstreamTlsCa: holds no PEM certificate']);
  assert.deepEqual(errorsOf(withCa(`${leaf}\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`)), [
    'pools[0].upstreamTlsCa: certificate 2 of the CA bundle does not parse',
  ]);
});

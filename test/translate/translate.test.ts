// Translation scenarios of SPEC §5, built with the test/support/k8s.ts builders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ANNOTATIONS } from '../../src/annotations/registry.ts';
import { translate } from '../../src/translate/translate.ts';
import type { Diagnostic, Resources } from '../../src/translate/types.ts';
import { CERT_A, CERT_B, KEY_A, KEY_B, endpointSlice, ingress, ingressClass, resources, service, tlsSecret } from '../support/k8s.ts';

const chat = () => ingress('chat', { host: 'chat.example.com', paths: [{ path: '/ws', service: 'chat', port: 80 }] });

function warnings(diagnostics: Diagnostic[]): string[] {
  return diagnostics.filter((d) => d.type === 'Warning').map((d) => `${d.object.namespace}/${d.object.name} ${d.reason}: ${d.message}`);
}

function served(input: Resources, options = {}): string[] {
  return translate(input, options).snapshot.routes.map((r) => `${r.source?.namespace}/${r.source?.ingress} ${r.host}${r.path}`);
}

test('class selection: ingressClassName, default class, legacy annotation', () => {
  const byName = chat();
  const other = ingress('other', { className: 'nginx', host: 'o.example.com', paths: [{ service: 'chat', port: 80 }] });
  const noClass = ingress('noclass', { className: null, host: 'n.example.com', paths: [{ service: 'chat', port: 80 }] });
  const legacy = ingress('legacy', { className: null, annotations: { 'kubernetes.io/ingress.class': 'wsgate' }, host: 'l.example.com', paths: [{ service: 'chat', port: 80 }] });
  const legacyOther = ingress('legacy-nginx', { className: null, annotations: { 'kubernetes.io/ingress.class': 'nginx' }, host: 'x.example.com', paths: [{ service: 'chat', port: 80 }] });
  const objects = [byName, other, noClass, legacy, legacyOther, service('chat')];

  assert.deepEqual(served(resources(ingressClass('wsgate'), ...objects)), ['default/chat chat.example.com/ws', 'default/legacy l.example.com/']);
  assert.deepEqual(served(resources(ingressClass('wsgate', { isDefault: true }), ...objects)), [
    'default/chat chat.example.com/ws',
    'default/legacy l.example.com/',
    'default/noclass n.example.com/',
  ]);
  // A class of that name owned by another controller is not ours; the legacy annotation needs no class object.
  assert.deepEqual(served(resources(ingressClass('wsgate', { controller: 'k8s.io/ingress-nginx', isDefault: true }), ...objects)), ['default/legacy l.example.com/']);
  // --ingress-class names which class is ours.
  assert.deepEqual(served(resources(ingressClass('nginx'), ...objects), { ingressClass: 'nginx' }), ['default/other o.example.com/', 'default/legacy-nginx x.example.com/']);
});

test('hosts, path types and the default backend become routes with their sources', () => {
  const input = resources(
    ingressClass(),
    service('chat'),
    ingress('site', {
      rules: [
        { host: 'chat.example.com', paths: [{ path: '/ws/', pathType: 'Prefix', service: 'chat', port: 80 }, { path: '/health', pathType: 'Exact', service: 'chat', port: 80 }] },
        { host: '*.example.com', paths: [{ path: '/live', pathType: 'ImplementationSpecific', service: 'chat', port: 80 }] },
        { paths: [{ path: '/any', service: 'chat', port: 80 }] },
      ],
      defaultBackend: { service: 'chat', port: 80 },
    }),
  );
  const { snapshot } = translate(input);
  assert.deepEqual(
    snapshot.routes.map((r) => [r.host, r.path, r.pathType, r.pool]),
    [
      ['', '/', 'Prefix', 'default/site/chat:80'],
      ['', '/any', 'Prefix', 'default/site/chat:80'],
      ['*.example.com', '/live', 'Prefix', 'default/site/chat:80'],
      ['chat.example.com', '/health', 'Exact', 'default/site/chat:80'],
      ['chat.example.com', '/ws', 'Prefix', 'default/site/chat:80'],
    ],
  );
  assert.deepEqual(snapshot.routes[0]!.source, { namespace: 'default', ingress: 'site' });
  assert.equal(snapshot.pools.length, 1, 'one pool per (Ingress, Service, port)');
});

test('a rule for host "" and / wins over the same Ingress\'s default backend', () => {
  const input = resources(ingressClass(), service('a'), service('b'), ingress('x', { paths: [{ path: '/', service: 'a', port: 80 }], defaultBackend: { service: 'b', port: 80 } }));
  assert.deepEqual(translate(input).snapshot.routes.map((r) => r.pool), ['default/x/a:80']);
});

test('port by name resolves through the Service; the slice port is matched by name, not number', () => {
  const input = resources(
    ingressClass(),
    ingress('chat', { host: 'chat.example.com', paths: [{ path: '/ws', service: 'chat', port: 'ws' }, { path: '/metrics', service: 'chat', port: 9000 }] }),
    service('chat', { ports: [{ name: 'ws', port: 80, targetPort: 'websocket' }, { name: 'metrics', port: 9000, targetPort: 9100 }] }),
    endpointSlice('chat', { ports: [{ name: 'metrics', port: 9100 }, { name: 'ws', port: 3000 }], endpoints: ['10.0.0.2', '10.0.0.1'] }),
  );
  const { snapshot, diagnostics } = translate(input);
  assert.deepEqual(warnings(diagnostics), []);
  assert.deepEqual(
    snapshot.pools.map((p) => [p.name, p.endpoints.map((e) => `${e.address}:${e.port}`)]),
    [
      ['default/chat/chat:80', ['10.0.0.1:3000', '10.0.0.2:3000']],
      ['default/chat/chat:9000', ['10.0.0.1:9100', '10.0.0.2:9100']],
    ],
  );
  assert.deepEqual(snapshot.pools[0]!.source, { namespace: 'default', service: 'chat' });
});

test('endpoint states: ready (or unset), not-ready, terminating; duplicates across slices listed once; IPv6', () => {
  const input = resources(
    ingressClass(),
    chat(),
    service('chat'),
    endpointSlice('chat', {
      name: 'chat-a',
      endpoints: [
        { address: '10.0.0.10', ready: true, pod: 'chat-10' },
        { address: '10.0.0.2', pod: 'chat-2' },
        { address: '10.0.0.3', ready: false, pod: 'chat-3' },
        { address: '10.0.0.4', ready: false, serving: true, terminating: true, pod: 'chat-4' },
      ],
    }),
    endpointSlice('chat', { name: 'chat-b', endpoints: [{ address: '10.0.0.10', ready: false, pod: 'chat-10' }] }),
    endpointSlice('chat', { name: 'chat-v6', addressType: 'IPv6', endpoints: ['fd00::1'] }),
    endpointSlice('elsewhere', { endpoints: ['10.9.9.9'] }),
  );
  const [pool] = translate(input).snapshot.pools;
  assert.deepEqual(pool!.endpoints, [
    { address: '10.0.0.2', port: 8080, state: 'ready', name: 'chat-2' },
    { address: '10.0.0.3', port: 8080, state: 'not-ready', name: 'chat-3' },
    { address: '10.0.0.4', port: 8080, state: 'terminating', name: 'chat-4' },
    { address: '10.0.0.10', port: 8080, state: 'ready', name: 'chat-10' },
    { address: 'fd00::1', port: 8080, state: 'ready' },
  ]);
});

test('a missing Service or port keeps the route with an empty pool and warns MissingService', () => {
  const input = resources(
    ingressClass(),
    ingress('chat', { host: 'chat.example.com', paths: [{ path: '/ws', service: 'gone', port: 80 }, { path: '/v2', service: 'chat', port: 'grpc' }] }),
    service('chat'),
  );
  const { snapshot, diagnostics } = translate(input);
  assert.deepEqual(snapshot.routes.map((r) => r.pool), ['default/chat/chat:grpc', 'default/chat/gone:80']);
  assert.deepEqual(snapshot.pools.map((p) => p.endpoints), [[], []]);
  assert.deepEqual(warnings(diagnostics), [
    'default/chat MissingService: Service default/chat has no port grpc (its ports: http/80); its routes answer 503',
    'default/chat MissingService: Service default/gone not found; its routes answer 503 until it exists',
  ]);
});

test('TLS: a valid Secret serves its hosts under namespace/secret', () => {
  const input = resources(ingressClass(), chat(), service('chat'), tlsSecret('chat-tls'));
  input.ingresses[0]!.spec!.tls = [{ hosts: ['chat.example.com'], secretName: 'chat-tls' }];
  const { snapshot, diagnostics } = translate(input);
  assert.deepEqual(warnings(diagnostics), []);
  assert.deepEqual(snapshot.tls, { certificates: [{ name: 'default/chat-tls', hosts: ['chat.example.com'], cert: CERT_A, key: KEY_A }] });
});

test('TLS: missing, unparsable or mismatched Secrets leave the host on the default certificate', () => {
  const tlsFor = (name: string, secretName: string) => ingress(name, { host: `${name}.example.com`, paths: [{ service: 'chat', port: 80 }], tls: [{ hosts: [`${name}.example.com`], secretName }] });
  const input = resources(
    ingressClass(),
    service('chat'),
    tlsFor('missing', 'nope'),
    tlsFor('garbage', 'garbage-tls'),
    tlsFor('mismatch', 'mismatch-tls'),
    tlsSecret('garbage-tls', { cert: 'not a certificate' }),
    tlsSecret('mismatch-tls', { cert: CERT_A, key: KEY_B }),
  );
  const { snapshot, diagnostics } = translate(input);
  assert.equal(snapshot.tls, undefined);
  assert.deepEqual(warnings(diagnostics), [
    'default/garbage InvalidCertificate: Secret default/garbage-tls: tls.crt holds no PEM certificate; garbage.example.com uses the default certificate',
    'default/mismatch InvalidCertificate: Secret default/mismatch-tls: tls.key does not match the certificate in tls.crt; mismatch.example.com uses the default certificate',
    'default/missing MissingSecret: Secret default/nope not found; missing.example.com uses the default certificate',
  ]);
  // The routes are served all the same.
  assert.equal(snapshot.routes.length, 3);
});

test('--default-cert-secret becomes the default certificate; a missing one is a Warning on the Secret', () => {
  const input = resources(ingressClass(), tlsSecret('fallback', { namespace: 'wsgate', cert: CERT_B, key: KEY_B }));
  assert.deepEqual(translate(input, { defaultCertSecret: 'wsgate/fallback' }).snapshot.tls, { defaultCertificate: { name: 'wsgate/fallback', cert: CERT_B, key: KEY_B } });
  const missing = translate(input, { defaultCertSecret: 'wsgate/other' });
  assert.equal(missing.snapshot.tls, undefined);
  assert.deepEqual(missing.diagnostics, [
    {
      type: 'Warning',
      reason: 'MissingSecret',
      object: { kind: 'Secret', namespace: 'wsgate', name: 'other' },
      message: 'Secret wsgate/other not found (--default-cert-secret); a self-signed certificate is served instead',
    },
  ]);
});

test('conflict: the older Ingress keeps host+path+type; the newer gets Conflict naming it', () => {
  const older = ingress('older', { namespace: 'b', created: '2024-01-01T00:00:00Z', host: 'chat.example.com', paths: [{ path: '/ws', service: 'chat', port: 80 }] });
  const newer = ingress('newer', { namespace: 'a', created: '2024-06-01T00:00:00Z', host: 'chat.example.com', paths: [{ path: '/ws', service: 'chat', port: 80 }, { path: '/ws', pathType: 'Exact', service: 'chat', port: 80 }] });
  const { snapshot, diagnostics } = translate(resources(ingressClass(), newer, older, service('chat', { namespace: 'a' }), service('chat', { namespace: 'b' })));
  assert.deepEqual(snapshot.routes.map((r) => `${r.source?.namespace}/${r.source?.ingress} ${r.path} ${r.pathType}`), ['a/newer /ws Exact', 'b/older /ws Prefix']);
  assert.deepEqual(warnings(diagnostics), ['a/newer Conflict: chat.example.com/ws (Prefix) already served by older Ingress b/older; not served by this Ingress']);
  assert.deepEqual(snapshot.pools.map((p) => p.name), ['a/newer/chat:80', 'b/older/chat:80']);
});

test('conflict between Ingresses of the same age: namespace/name decides', () => {
  const first = ingress('a', { host: 'x.example.com', paths: [{ service: 'chat', port: 80 }] });
  const second = ingress('b', { host: 'x.example.com', paths: [{ service: 'chat', port: 80 }] });
  assert.deepEqual(served(resources(ingressClass(), second, first, service('chat'))), ['default/a x.example.com/']);
});

test('an invalid annotation: not served the first time; with lastGood the previous policy stays', () => {
  const good = ingress('chat', { annotations: { 'wsgate.io/idle-timeout': '10m' }, host: 'chat.example.com', paths: [{ service: 'chat', port: 80 }] });
  const bad = ingress('chat', { annotations: { 'wsgate.io/idle-timeout': 'forever' }, host: 'chat.example.com', paths: [{ path: '/v2', service: 'chat', port: 80 }] });

  const fresh = translate(resources(ingressClass(), bad, service('chat')));
  assert.deepEqual(fresh.snapshot.routes, []);
  assert.deepEqual(warnings(fresh.diagnostics), [
    'default/chat InvalidAnnotation: wsgate.io/idle-timeout: "forever" is not valid; accepted: a duration such as 500ms, 5s, 1m or 1h (combinations like 1m30s too), greater than zero; the Ingress is not served until this is fixed',
  ]);
  assert.equal(fresh.lastGood.policies.size, 0);

  const before = translate(resources(ingressClass(), good, service('chat')));
  const after = translate(resources(ingressClass(), bad, service('chat')), { lastGood: before.lastGood });
  // The spec's change (the new path) applies; the annotations stay as they last parsed.
  assert.deepEqual(after.snapshot.routes.map((r) => r.path), ['/v2']);
  assert.equal(after.snapshot.pools[0]!.idleTimeout, '10m');
  assert.match(warnings(after.diagnostics)[0]!, /"forever" is not valid.*; the Ingress keeps its last good annotations$/);
  assert.equal(after.lastGood.policies.get('uid-default-chat')?.idleTimeout, '10m', 'carried forward to the next translation');

  // A deleted and re-created Ingress (new uid) starts without a last good policy.
  const recreated = ingress('chat', { uid: 'new-uid', annotations: { 'wsgate.io/idle-timeout': 'forever' }, host: 'chat.example.com', paths: [{ service: 'chat', port: 80 }] });
  assert.deepEqual(translate(resources(ingressClass(), recreated, service('chat')), { lastGood: before.lastGood }).snapshot.routes, []);
});

test('lastGood forgets Ingresses that are gone', () => {
  const first = translate(resources(ingressClass(), chat(), service('chat')));
  assert.equal(first.lastGood.policies.size, 1);
  assert.equal(translate(resources(ingressClass()), { lastGood: first.lastGood }).lastGood.policies.size, 0);
});

test('annotations become pool settings and route policy', () => {
  const input = resources(
    ingressClass(),
    service('chat'),
    ingress('chat', {
      annotations: {
        'wsgate.io/load-balance': 'hash',
        'wsgate.io/hash-by': 'header:X-User',
        'wsgate.io/connect-timeout': '2s',
        'wsgate.io/upstream-tls': 'true',
        'wsgate.io/allowed-origins': 'https://app.example.com',
        'wsgate.io/max-connections': '100',
        'wsgate.io/max-message-size': '1Mi',
        'wsgate.io/allowed-source-ranges': '10.0.0.0/8',
      },
      host: 'chat.example.com',
      paths: [{ service: 'chat', port: 80 }],
    }),
  );
  const { snapshot } = translate(input);
  assert.deepEqual(snapshot.routes[0]!.policy, { allowedOrigins: ['https://app.example.com'], allowedSourceRanges: ['10.0.0.0/8'], maxConnections: 100, maxMessageSize: 1048576 });
  const { endpoints: _endpoints, ...settings } = snapshot.pools[0]!;
  assert.deepEqual(settings, {
    name: 'default/chat/chat:80',
    source: { namespace: 'default', service: 'chat' },
    balance: 'hash',
    hashBy: 'header:x-user',
    connectTimeout: '2s',
    handshakeTimeout: '10s',
    idleTimeout: '1h',
    drainTimeout: '30s',
    upstreamTls: true,
  });
});

test('events: Sync per served Ingress, IgnoredAnnotations listing the nginx ones lost, unknown wsgate.io keys', () => {
  const input = resources(
    ingressClass(),
    service('chat'),
    ingress('chat', {
      annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/', 'nginx.ingress.kubernetes.io/proxy-body-size': '8m', 'wsgate.io/idle-timout': '1m' },
      host: 'chat.example.com',
      paths: [{ path: '/ws', service: 'chat', port: 80 }],
    }),
  );
  const events = translate(input).diagnostics.map((d) => [d.type, d.reason, d.message]);
  assert.deepEqual(events, [
    ['Normal', 'IgnoredAnnotations', 'ingress-nginx annotations wsgate does not honour: nginx.ingress.kubernetes.io/proxy-body-size, nginx.ingress.kubernetes.io/rewrite-target'],
    ['Warning', 'InvalidAnnotation', events[1]![2]],
    ['Normal', 'Sync', 'serving 1 route: chat.example.com/ws (Prefix) -> chat:80'],
  ]);
  assert.match(String(events[1]![2]), /^wsgate\.io\/idle-timout is not a wsgate annotation and is ignored; accepted: wsgate\.io\/load-balance, /);
});

test('objects that are not ours produce no events at all', () => {
  const theirs = ingress('theirs', { className: 'nginx', annotations: { 'wsgate.io/idle-timeout': 'bad' }, host: 'x.example.com', paths: [{ service: 'missing', port: 80 }] });
  assert.deepEqual(translate(resources(ingressClass(), theirs)).diagnostics, []);
});

test('never throws on malformed objects', () => {
  const weird = resources(ingressClass());
  weird.ingresses.push({ kind: 'Ingress', metadata: { name: 'w', annotations: { 'wsgate.io/idle-timeout': 5 as unknown as string } }, spec: { ingressClassName: 'wsgate', rules: [{ host: 'bad host!', http: { paths: [] } }, { http: { paths: [{ pathType: 'Prefix', path: 'no-slash', backend: {} }] } }], tls: [{}] } });
  weird.endpointSlices.push({ addressType: 'IPv4', metadata: { labels: { 'kubernetes.io/service-name': 'x' } }, endpoints: [{ addresses: [] }, { addresses: ['not-an-ip'] }] });
  weird.secrets.push({ metadata: { name: 's' }, data: {} });
  assert.doesNotThrow(() => translate(weird, { defaultCertSecret: 'nonsense' }));
});

test('TLS host claimed with two Secrets: the older Ingress\'s certificate serves it', () => {
  const older = ingress('older', { created: '2024-01-01T00:00:00Z', host: 'chat.example.com', paths: [{ path: '/a', service: 'chat', port: 80 }], tls: [{ hosts: ['chat.example.com'], secretName: 'one' }] });
  const newer = ingress('newer', { created: '2024-02-01T00:00:00Z', host: 'chat.example.com', paths: [{ path: '/b', service: 'chat', port: 80 }], tls: [{ secretName: 'two' }] });
  const { snapshot, diagnostics } = translate(resources(ingressClass(), newer, older, service('chat'), tlsSecret('one'), tlsSecret('two', { cert: CERT_B, key: KEY_B })));
  assert.deepEqual(snapshot.tls?.certificates?.map((c) => [c.name, c.hosts]), [['default/one', ['chat.example.com']]]);
  assert.deepEqual(warnings(diagnostics), ['default/newer Conflict: TLS host chat.example.com is already served with Secret default/one by older Ingress default/older; default/two is not used for it']);
});

test('never throws, whatever the objects of our class hold', () => {
  const text = fc.oneof(fc.string(), fc.constantFrom('', '/', '/ws', 'chat.example.com', '*.example.com', 'http', 'Exact', 'Prefix', 'hash'));
  const maybe = <T,>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
  const backendArb = fc.record({ service: maybe(fc.record({ name: text, port: maybe(fc.record({ number: maybe(fc.integer()), name: maybe(text) })) })) });
  const ingressArb = fc.record({
    kind: fc.constant('Ingress'),
    metadata: fc.record({
      name: maybe(text),
      namespace: maybe(text),
      uid: maybe(text),
      creationTimestamp: maybe(fc.oneof(fc.date({ noInvalidDate: false }), text)),
      annotations: maybe(fc.dictionary(fc.constantFrom(...ANNOTATIONS.map((a) => a.key), 'nginx.ingress.kubernetes.io/x', 'wsgate.io/typo'), text)),
    }),
    spec: fc.record({
      ingressClassName: fc.constant('wsgate'),
      defaultBackend: maybe(backendArb),
      rules: maybe(fc.array(fc.record({ host: maybe(text), http: maybe(fc.record({ paths: fc.array(fc.record({ path: maybe(text), pathType: text, backend: backendArb })) })) }))),
      tls: maybe(fc.array(fc.record({ hosts: maybe(fc.array(text)), secretName: maybe(text) }))),
    }),
  });
  const serviceArb = fc.record({ kind: fc.constant('Service'), metadata: fc.record({ name: text, namespace: maybe(text) }), spec: maybe(fc.record({ ports: maybe(fc.array(fc.record({ name: maybe(text), port: fc.integer() }))) })) });
  const sliceArb = fc.record({
    kind: fc.constant('EndpointSlice'),
    addressType: fc.constantFrom('IPv4', 'IPv6', 'FQDN'),
    metadata: fc.record({ name: text, namespace: maybe(text), labels: maybe(fc.record({ 'kubernetes.io/service-name': text })) }),
    ports: maybe(fc.array(fc.record({ name: maybe(text), port: maybe(fc.integer()) }))),
    endpoints: maybe(fc.array(fc.record({ addresses: fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), text)), conditions: maybe(fc.record({ ready: maybe(fc.boolean()), terminating: maybe(fc.boolean()) })) }))),
  });
  const secretArb = fc.record({ kind: fc.constant('Secret'), type: maybe(text), metadata: fc.record({ name: text, namespace: maybe(text) }), data: maybe(fc.dictionary(fc.constantFrom('tls.crt', 'tls.key'), fc.base64String())) });
  fc.assert(
    fc.property(fc.array(ingressArb, { maxLength: 4 }), fc.array(serviceArb, { maxLength: 3 }), fc.array(sliceArb, { maxLength: 3 }), fc.array(secretArb, { maxLength: 2 }), (ingresses, services, endpointSlices, secrets) => {
      const input = { ingressClasses: [ingressClass()], ingresses, services, endpointSlices, secrets } as unknown as Resources;
      const { snapshot } = translate(input, { defaultCertSecret: 'a/b' });
      assert.ok(Array.isArray(snapshot.routes));
    }),
    { numRuns: 300 },
  );
});

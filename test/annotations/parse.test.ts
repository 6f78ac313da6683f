// How an Ingress's annotations combine (SPEC §6): defaults, wsgate.io over ingress-nginx aliases,
// the larger nginx proxy timeout, hash needing hash-by, and what is reported rather than read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIngressAnnotations } from '../../src/annotations/parse.ts';
import { POOL_DEFAULTS } from '../../src/config/snapshot.ts';

test('no annotations: the defaults of SPEC §6 and no limits', () => {
  const { policy, problems } = parseIngressAnnotations(undefined);
  assert.deepEqual(problems, []);
  assert.deepEqual(policy, { ...POOL_DEFAULTS });
});

test('annotations of other tools are neither read nor reported', () => {
  const result = parseIngressAnnotations({ 'kubernetes.io/ingress.class': 'wsgate', 'cert-manager.io/cluster-issuer': 'le' });
  assert.deepEqual(result.problems, []);
  assert.deepEqual(result.unknown, []);
  assert.deepEqual(result.ignored, []);
});

test('hash without hash-by is invalid, naming load-balance and what it needs', () => {
  const result = parseIngressAnnotations({ 'wsgate.io/load-balance': 'hash' });
  assert.equal(result.policy, undefined);
  assert.deepEqual(result.problems, [
    {
      key: 'wsgate.io/load-balance',
      value: 'hash',
      message: 'wsgate.io/load-balance: "hash" needs wsgate.io/hash-by; accepted: wsgate.io/hash-by set to header:NAME, cookie:NAME, query:NAME or client-ip',
    },
  ]);
});

test('an invalid hash-by is reported once, not again as a missing hash-by', () => {
  const result = parseIngressAnnotations({ 'wsgate.io/load-balance': 'hash', 'wsgate.io/hash-by': 'ip' });
  assert.deepEqual(result.problems.map((p) => p.key), ['wsgate.io/hash-by']);
});

test('the wsgate.io annotation wins over its alias, which is then not even parsed', () => {
  const result = parseIngressAnnotations({
    'wsgate.io/idle-timeout': '5m',
    'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
    'wsgate.io/hash-by': 'cookie:sid',
    // $request_uri is valid for nginx but not for wsgate: overriding it must not make the Ingress invalid.
    'nginx.ingress.kubernetes.io/upstream-hash-by': '$request_uri',
  });
  assert.deepEqual(result.problems, []);
  assert.equal(result.policy?.idleTimeout, '5m');
  assert.equal(result.policy?.hashBy, 'cookie:sid');
  assert.equal(result.policy?.balance, 'hash');
});

test('proxy-read-timeout and proxy-send-timeout: the larger becomes idle-timeout', () => {
  const both = parseIngressAnnotations({
    'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
    'nginx.ingress.kubernetes.io/proxy-send-timeout': '120',
  });
  assert.equal(both.policy?.idleTimeout, '1h');
  const sendOnly = parseIngressAnnotations({ 'nginx.ingress.kubernetes.io/proxy-send-timeout': '120' });
  assert.equal(sendOnly.policy?.idleTimeout, '2m');
});

test('nginx upstream-hash-by turns on hashing over nginx load-balance, but not over wsgate.io/load-balance', () => {
  const nginxOnly = parseIngressAnnotations({
    'nginx.ingress.kubernetes.io/load-balance': 'round_robin',
    'nginx.ingress.kubernetes.io/upstream-hash-by': '$arg_room',
  });
  assert.equal(nginxOnly.policy?.balance, 'hash');
  assert.equal(nginxOnly.policy?.hashBy, 'query:room');
  const wsgateBalance = parseIngressAnnotations({
    'wsgate.io/load-balance': 'round-robin',
    'nginx.ingress.kubernetes.io/upstream-hash-by': '$arg_room',
  });
  assert.equal(wsgateBalance.policy?.balance, 'round-robin');
});

test('every bad annotation is reported, sorted by key', () => {
  const result = parseIngressAnnotations({ 'wsgate.io/upstream-tls': 'yes', 'wsgate.io/connect-timeout': 'fast' });
  assert.deepEqual(result.problems.map((p) => p.key), ['wsgate.io/connect-timeout', 'wsgate.io/upstream-tls']);
});

test('other nginx annotations are listed as ignored, unknown wsgate.io keys as unknown; neither blocks', () => {
  const result = parseIngressAnnotations({
    'nginx.ingress.kubernetes.io/rewrite-target': '/',
    'nginx.ingress.kubernetes.io/proxy-buffering': 'on',
    'nginx.ingress.kubernetes.io/proxy-connect-timeout': '2',
    'wsgate.io/idle-timout': '5m',
  });
  assert.deepEqual(result.ignored, ['nginx.ingress.kubernetes.io/proxy-buffering', 'nginx.ingress.kubernetes.io/rewrite-target']);
  assert.deepEqual(result.unknown, ['wsgate.io/idle-timout']);
  assert.deepEqual(result.problems, []);
  assert.equal(result.policy?.connectTimeout, '2s');
});

test('ssl-redirect and force-ssl-redirect: booleans, with their ingress-nginx aliases, none of them ignored', () => {
  const native = parseIngressAnnotations({ 'wsgate.io/ssl-redirect': 'false', 'wsgate.io/force-ssl-redirect': ' true\n' });
  assert.deepEqual(native.problems, []);
  assert.equal(native.policy?.sslRedirect, false);
  assert.equal(native.policy?.forceSslRedirect, true);

  const aliases = parseIngressAnnotations({ 'nginx.ingress.kubernetes.io/ssl-redirect': 'false', 'nginx.ingress.kubernetes.io/force-ssl-redirect': 'true' });
  assert.deepEqual(aliases.ignored, []);
  assert.equal(aliases.policy?.sslRedirect, false);
  assert.equal(aliases.policy?.forceSslRedirect, true);

  // Absent: undefined in the policy; translate reads it as ingress-nginx's defaults (true / false).
  const none = parseIngressAnnotations({});
  assert.equal(none.policy?.sslRedirect, undefined);
  assert.equal(none.policy?.forceSslRedirect, undefined);
});

test('wsgate.io/ssl-redirect wins over the alias, which is then not parsed', () => {
  const result = parseIngressAnnotations({ 'wsgate.io/ssl-redirect': 'true', 'nginx.ingress.kubernetes.io/ssl-redirect': 'nonsense' });
  assert.deepEqual(result.problems, []);
  assert.equal(result.policy?.sslRedirect, true);
});

test('an ssl-redirect that is no boolean is invalid, naming the annotation and what is accepted', () => {
  const result = parseIngressAnnotations({ 'nginx.ingress.kubernetes.io/force-ssl-redirect': 'yes' });
  assert.equal(result.policy, undefined);
  assert.deepEqual(result.problems.map((p) => p.message), ['nginx.ingress.kubernetes.io/force-ssl-redirect: "yes" is not valid; accepted: true or false']);
});

test('cookie affinity: the ingress-nginx aliases are honoured, not ignored; wsgate.io wins; expires and max-age give the larger', () => {
  const result = parseIngressAnnotations({
    'nginx.ingress.kubernetes.io/affinity': 'cookie',
    'nginx.ingress.kubernetes.io/affinity-mode': 'persistent',
    'nginx.ingress.kubernetes.io/session-cookie-name': 'route',
    'nginx.ingress.kubernetes.io/session-cookie-max-age': '60',
    'nginx.ingress.kubernetes.io/session-cookie-expires': '172800',
    'nginx.ingress.kubernetes.io/session-cookie-path': '/socket.io',
    'nginx.ingress.kubernetes.io/session-cookie-samesite': 'none',
    'nginx.ingress.kubernetes.io/session-cookie-secure': 'true',
    'wsgate.io/session-cookie-name': 'SIO',
  });
  assert.deepEqual(result.ignored, []);
  assert.deepEqual(result.problems, []);
  const policy = result.policy!;
  assert.deepEqual(
    [policy.affinity, policy.affinityMode, policy.sessionCookieName, policy.sessionCookieMaxAge, policy.sessionCookiePath, policy.sessionCookieSameSite, policy.sessionCookieSecure],
    ['cookie', 'persistent', 'SIO', 172800, '/socket.io', 'None', true],
  );
  const bad = parseIngressAnnotations({ 'nginx.ingress.kubernetes.io/affinity-mode': 'sticky' });
  assert.deepEqual(bad.problems.map((p) => p.key), ['nginx.ingress.kubernetes.io/affinity-mode']);
});

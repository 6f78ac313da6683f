// One parser per annotation (SPEC §6): what each accepts, what it makes of it, and the exact
// message an operator reads for a bad value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIngressAnnotations } from '../../src/annotations/parse.ts';
import type { IngressPolicy, PolicyField } from '../../src/annotations/policy.ts';
import { POSITIVE_INTEGER_ACCEPTS as POSITIVE_ACCEPTS } from '../../src/grammar/number.ts';

interface Case {
  key: string;
  field: PolicyField;
  good: [string, unknown][];
  bad: [string, string][];
  /** Other annotations the key needs to be valid on its own (hash needs hash-by). */
  with?: Record<string, string>;
}

const DURATION = 'a duration such as 500ms, 5s, 1m or 1h (combinations like 1m30s too)';

const CASES: Case[] = [
  {
    key: 'wsgate.io/affinity',
    field: 'affinity',
    good: [['cookie', 'cookie']],
    bad: [['ip', 'wsgate.io/affinity: "ip" is not valid; accepted: cookie']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/affinity',
    field: 'affinity',
    good: [['cookie', 'cookie']],
    bad: [['ip', 'nginx.ingress.kubernetes.io/affinity: "ip" is not valid; accepted: cookie']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/affinity-mode',
    field: 'affinityMode',
    good: [['balanced', 'balanced'], ['persistent', 'persistent']],
    bad: [['sticky', 'nginx.ingress.kubernetes.io/affinity-mode: "sticky" is not valid; accepted: balanced or persistent']],
  },
  {
    key: 'wsgate.io/session-cookie-name',
    field: 'sessionCookieName',
    good: [['WSGATEAFFINITY', 'WSGATEAFFINITY'], ['sio_route', 'sio_route']],
    bad: [['a b', `wsgate.io/session-cookie-name: "a b" is not valid; accepted: a cookie name (letters, digits, ! # $ % & ' * + - . ^ _ ` + '`' + ` | ~)`], ['x=y', `wsgate.io/session-cookie-name: "x=y" is not valid; accepted: a cookie name (letters, digits, ! # $ % & ' * + - . ^ _ ` + '`' + ` | ~)`]],
  },
  {
    key: 'wsgate.io/session-cookie-max-age',
    field: 'sessionCookieMaxAge',
    good: [['3600', 3600]],
    bad: [['1h', 'wsgate.io/session-cookie-max-age: "1h" is not valid; accepted: ' + POSITIVE_ACCEPTS]],
  },
  {
    key: 'wsgate.io/session-cookie-path',
    field: 'sessionCookiePath',
    good: [['/', '/'], ['/socket.io/', '/socket.io/']],
    bad: [['/a;b', 'wsgate.io/session-cookie-path: "/a;b" is not valid; accepted: a path starting with / (no ; , or spaces)'], ['chat', 'wsgate.io/session-cookie-path: "chat" is not valid; accepted: a path starting with / (no ; , or spaces)']],
  },
  {
    key: 'wsgate.io/session-cookie-samesite',
    field: 'sessionCookieSameSite',
    good: [['Strict', 'Strict'], ['lax', 'Lax'], ['None', 'None']],
    bad: [['maybe', 'wsgate.io/session-cookie-samesite: "maybe" is not valid; accepted: Strict, Lax or None']],
  },
  {
    key: 'wsgate.io/session-cookie-secure',
    field: 'sessionCookieSecure',
    good: [['true', true], ['false', false]],
    bad: [['on', 'wsgate.io/session-cookie-secure: "on" is not valid; accepted: true or false']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/session-cookie-name',
    field: 'sessionCookieName',
    good: [['WSGATEAFFINITY', 'WSGATEAFFINITY'], ['sio_route', 'sio_route']],
    bad: [['a b', `nginx.ingress.kubernetes.io/session-cookie-name: "a b" is not valid; accepted: a cookie name (letters, digits, ! # $ % & ' * + - . ^ _ ` + '`' + ` | ~)`], ['x=y', `nginx.ingress.kubernetes.io/session-cookie-name: "x=y" is not valid; accepted: a cookie name (letters, digits, ! # $ % & ' * + - . ^ _ ` + '`' + ` | ~)`]],
  },
  {
    key: 'nginx.ingress.kubernetes.io/session-cookie-max-age',
    field: 'sessionCookieMaxAge',
    good: [['3600', 3600]],
    bad: [['1h', 'nginx.ingress.kubernetes.io/session-cookie-max-age: "1h" is not valid; accepted: ' + POSITIVE_ACCEPTS]],
  },
  {
    key: 'nginx.ingress.kubernetes.io/session-cookie-path',
    field: 'sessionCookiePath',
    good: [['/', '/'], ['/socket.io/', '/socket.io/']],
    bad: [['/a;b', 'nginx.ingress.kubernetes.io/session-cookie-path: "/a;b" is not valid; accepted: a path starting with / (no ; , or spaces)'], ['chat', 'nginx.ingress.kubernetes.io/session-cookie-path: "chat" is not valid; accepted: a path starting with / (no ; , or spaces)']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/session-cookie-samesite',
    field: 'sessionCookieSameSite',
    good: [['Strict', 'Strict'], ['lax', 'Lax'], ['None', 'None']],
    bad: [['maybe', 'nginx.ingress.kubernetes.io/session-cookie-samesite: "maybe" is not valid; accepted: Strict, Lax or None']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/session-cookie-secure',
    field: 'sessionCookieSecure',
    good: [['true', true], ['false', false]],
    bad: [['on', 'nginx.ingress.kubernetes.io/session-cookie-secure: "on" is not valid; accepted: true or false']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/session-cookie-expires',
    field: 'sessionCookieMaxAge',
    good: [['172800', 172800]],
    bad: [['tomorrow', 'nginx.ingress.kubernetes.io/session-cookie-expires: "tomorrow" is not valid; accepted: ' + POSITIVE_ACCEPTS]],
  },
  {
    key: 'wsgate.io/rebalance',
    field: 'rebalance',
    good: [['true', true], ['false', false]],
    bad: [['yes', 'wsgate.io/rebalance: "yes" is not valid; accepted: true or false']],
  },
  {
    key: 'wsgate.io/rebalance-rate',
    field: 'rebalanceRate',
    good: [['10', 10]],
    bad: [['0', 'wsgate.io/rebalance-rate: "0" is not valid; accepted: a whole number greater than zero']],
  },
  {
    key: 'wsgate.io/rebalance-threshold',
    field: 'rebalanceThreshold',
    good: [['1.5', 1.5], ['2', 2]],
    bad: [
      ['1', 'wsgate.io/rebalance-threshold: "1" is not valid (it must be greater than 1); accepted: a factor greater than 1 (1.5)'],
      ['150%', 'wsgate.io/rebalance-threshold: "150%" is not valid; accepted: a factor greater than 1 (1.5)'],
    ],
  },
  {
    key: 'wsgate.io/drain-spread',
    field: 'drainSpread',
    good: [['0s', '0ms'], ['20s', '20s']],
    bad: [['later', `wsgate.io/drain-spread: "later" is not valid; accepted: ${DURATION}; 0s sends them at once`]],
  },
  {
    key: 'wsgate.io/max-connections-per-endpoint',
    field: 'maxConnectionsPerEndpoint',
    good: [['100', 100]],
    bad: [['1.5', 'wsgate.io/max-connections-per-endpoint: "1.5" is not valid; accepted: a whole number greater than zero']],
  },
  {
    key: 'wsgate.io/max-messages-per-second',
    field: 'maxMessagesPerSecond',
    good: [['50', 50]],
    bad: [['0', 'wsgate.io/max-messages-per-second: "0" is not valid; accepted: a whole number greater than zero']],
  },
  {
    key: 'wsgate.io/message-burst',
    field: 'messageBurst',
    good: [['200', 200]],
    bad: [['-1', 'wsgate.io/message-burst: "-1" is not valid; accepted: a whole number greater than zero']],
  },
  {
    key: 'wsgate.io/message-rate-direction',
    field: 'messageRateDirection',
    good: [['client', 'client'], ['both', 'both']],
    bad: [['upstream', 'wsgate.io/message-rate-direction: "upstream" is not valid; accepted: client or both']],
  },
  {
    key: 'wsgate.io/max-connection-lifetime',
    field: 'maxConnectionLifetime',
    good: [['1h', '1h'], ['2s', '2s']],
    bad: [['forever', `wsgate.io/max-connection-lifetime: "forever" is not valid; accepted: ${DURATION}, greater than zero`]],
  },
  {
    key: 'wsgate.io/lifetime-jitter',
    field: 'lifetimeJitter',
    good: [['10%', 0.1], ['0%', 0], ['2.5%', 0.025]],
    bad: [
      ['0.1', 'wsgate.io/lifetime-jitter: "0.1" is not valid; accepted: a percentage from 0% to 99% (10%)'],
      ['100%', 'wsgate.io/lifetime-jitter: "100%" is not valid (it must be below 100%); accepted: a percentage from 0% to 99% (10%)'],
    ],
  },
  {
    key: 'wsgate.io/ping-interval',
    field: 'pingInterval',
    good: [['30s', '30s'], ['500ms', '500ms'], ['1m30s', '90s']],
    bad: [
      ['0s', `wsgate.io/ping-interval: "0s" is not valid (it must be greater than zero); accepted: ${DURATION}, greater than zero`],
      ['30', `wsgate.io/ping-interval: "30" is not valid; accepted: ${DURATION}, greater than zero`],
    ],
  },
  {
    key: 'wsgate.io/ping-timeout',
    field: 'pingTimeout',
    good: [['10s', '10s']],
    bad: [['soon', `wsgate.io/ping-timeout: "soon" is not valid; accepted: ${DURATION}, greater than zero`]],
  },
  {
    key: 'wsgate.io/load-balance',
    field: 'balance',
    with: { 'wsgate.io/hash-by': 'client-ip' },
    good: [['least-conn', 'least-conn'], ['round-robin', 'round-robin'], ['hash', 'hash'], [' round-robin ', 'round-robin']],
    bad: [
      ['roundrobin', 'wsgate.io/load-balance: "roundrobin" is not valid; accepted: least-conn, round-robin or hash (hash needs wsgate.io/hash-by)'],
      ['LEAST-CONN', 'wsgate.io/load-balance: "LEAST-CONN" is not valid; accepted: least-conn, round-robin or hash (hash needs wsgate.io/hash-by)'],
      ['', 'wsgate.io/load-balance: "" is not valid; accepted: least-conn, round-robin or hash (hash needs wsgate.io/hash-by)'],
    ],
  },
  {
    key: 'wsgate.io/hash-by',
    field: 'hashBy',
    good: [['client-ip', 'client-ip'], ['header:X-User-Id', 'header:x-user-id'], ['cookie:session', 'cookie:session'], ['query:room', 'query:room']],
    bad: [
      ['ip', 'wsgate.io/hash-by: "ip" is not valid; accepted: header:NAME, cookie:NAME, query:NAME or client-ip'],
      ['header:', 'wsgate.io/hash-by: "header:" is not valid (header: needs a name); accepted: header:NAME, cookie:NAME, query:NAME or client-ip'],
      ['header:x user', 'wsgate.io/hash-by: "header:x user" is not valid ("x user" is not a header name); accepted: header:NAME, cookie:NAME, query:NAME or client-ip'],
      ['body:x', 'wsgate.io/hash-by: "body:x" is not valid; accepted: header:NAME, cookie:NAME, query:NAME or client-ip'],
    ],
  },
  {
    key: 'wsgate.io/connect-timeout',
    field: 'connectTimeout',
    good: [['500ms', '500ms'], ['5s', '5s'], ['1m', '1m'], ['1m30s', '90s'], ['60s', '1m']],
    bad: [
      ['5', `wsgate.io/connect-timeout: "5" is not valid; accepted: ${DURATION}, greater than zero`],
      ['0s', `wsgate.io/connect-timeout: "0s" is not valid (it must be greater than zero); accepted: ${DURATION}, greater than zero`],
      ['-1s', `wsgate.io/connect-timeout: "-1s" is not valid; accepted: ${DURATION}, greater than zero`],
    ],
  },
  {
    key: 'wsgate.io/handshake-timeout',
    field: 'handshakeTimeout',
    good: [['2s', '2s'], ['1h', '1h']],
    bad: [['10 s', `wsgate.io/handshake-timeout: "10 s" is not valid; accepted: ${DURATION}, greater than zero`]],
  },
  {
    key: 'wsgate.io/idle-timeout',
    field: 'idleTimeout',
    good: [['10m', '10m'], ['3600s', '1h']],
    bad: [['1d', `wsgate.io/idle-timeout: "1d" is not valid; accepted: ${DURATION}, greater than zero`]],
  },
  {
    key: 'wsgate.io/drain-timeout',
    field: 'drainTimeout',
    good: [['0s', '0ms'], ['45s', '45s']],
    bad: [['soon', `wsgate.io/drain-timeout: "soon" is not valid; accepted: ${DURATION}; 0s closes at once`]],
  },
  {
    key: 'wsgate.io/allowed-origins',
    field: 'allowedOrigins',
    good: [
      ['https://app.example.com', ['https://app.example.com']],
      ['https://b.example.com, https://*.example.com', ['https://*.example.com', 'https://b.example.com']],
      ['HTTPS://App.Example.com:443/', ['https://app.example.com']],
      ['http://localhost:3000', ['http://localhost:3000']],
      ['*', undefined],
    ],
    bad: [
      ['app.example.com', 'wsgate.io/allowed-origins: "app.example.com" is not valid ("app.example.com" is not an origin); accepted: a comma list of full origins (https://app.example.com, https://*.example.com) or *'],
      ['https://app.example.com/chat', 'wsgate.io/allowed-origins: "https://app.example.com/chat" is not valid ("https://app.example.com/chat" is not an origin); accepted: a comma list of full origins (https://app.example.com, https://*.example.com) or *'],
      ['https://a.*.example.com', 'wsgate.io/allowed-origins: "https://a.*.example.com" is not valid ("https://a.*.example.com" is not an origin); accepted: a comma list of full origins (https://app.example.com, https://*.example.com) or *'],
      [',', 'wsgate.io/allowed-origins: "," is not valid (the list is empty); accepted: a comma list of full origins (https://app.example.com, https://*.example.com) or *'],
    ],
  },
  {
    key: 'wsgate.io/max-connections',
    field: 'maxConnections',
    good: [['1', 1], ['10000', 10000]],
    bad: [
      ['0', 'wsgate.io/max-connections: "0" is not valid; accepted: a whole number greater than zero'],
      ['1.5', 'wsgate.io/max-connections: "1.5" is not valid; accepted: a whole number greater than zero'],
      ['99999999999999999999', 'wsgate.io/max-connections: "99999999999999999999" is not valid (it is too large); accepted: a whole number greater than zero'],
    ],
  },
  {
    key: 'wsgate.io/max-connections-per-client',
    field: 'maxConnectionsPerClient',
    good: [['20', 20]],
    bad: [['many', 'wsgate.io/max-connections-per-client: "many" is not valid; accepted: a whole number greater than zero']],
  },
  {
    key: 'wsgate.io/max-message-size',
    field: 'maxMessageSize',
    good: [['65536', 65536], ['64Ki', 65536], ['1Mi', 1048576]],
    bad: [
      ['1MB', 'wsgate.io/max-message-size: "1MB" is not valid; accepted: a number of bytes greater than zero, optionally with Ki, Mi or Gi (64Ki)'],
      ['0', 'wsgate.io/max-message-size: "0" is not valid; accepted: a number of bytes greater than zero, optionally with Ki, Mi or Gi (64Ki)'],
    ],
  },
  {
    key: 'wsgate.io/ssl-redirect',
    field: 'sslRedirect',
    good: [['true', true], ['false', false], [' false\n', false]],
    bad: [['yes', 'wsgate.io/ssl-redirect: "yes" is not valid; accepted: true or false'], ['True', 'wsgate.io/ssl-redirect: "True" is not valid; accepted: true or false']],
  },
  {
    key: 'wsgate.io/force-ssl-redirect',
    field: 'forceSslRedirect',
    good: [['true', true], ['false', false], [' false\n', false]],
    bad: [['yes', 'wsgate.io/force-ssl-redirect: "yes" is not valid; accepted: true or false'], ['True', 'wsgate.io/force-ssl-redirect: "True" is not valid; accepted: true or false']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/ssl-redirect',
    field: 'sslRedirect',
    good: [['true', true], ['false', false], [' false\n', false]],
    bad: [['yes', 'nginx.ingress.kubernetes.io/ssl-redirect: "yes" is not valid; accepted: true or false'], ['True', 'nginx.ingress.kubernetes.io/ssl-redirect: "True" is not valid; accepted: true or false']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/force-ssl-redirect',
    field: 'forceSslRedirect',
    good: [['true', true], ['false', false], [' false\n', false]],
    bad: [['yes', 'nginx.ingress.kubernetes.io/force-ssl-redirect: "yes" is not valid; accepted: true or false'], ['True', 'nginx.ingress.kubernetes.io/force-ssl-redirect: "True" is not valid; accepted: true or false']],
  },
  {
    key: 'wsgate.io/upstream-tls',
    field: 'upstreamTls',
    good: [['true', true], ['false', false]],
    bad: [['yes', 'wsgate.io/upstream-tls: "yes" is not valid; accepted: true or false']],
  },
  {
    key: 'wsgate.io/upstream-tls-verify',
    field: 'upstreamTlsVerify',
    good: [['true', true], ['false', false]],
    bad: [['on', 'wsgate.io/upstream-tls-verify: "on" is not valid; accepted: true or false']],
  },
  {
    key: 'wsgate.io/upstream-tls-ca-secret',
    field: 'upstreamTlsCaSecret',
    good: [['backend-ca', 'backend-ca'], ['certs/backend-ca', 'certs/backend-ca'], ['certs/ca.v2', 'certs/ca.v2']],
    bad: [
      ['Backend-CA', 'wsgate.io/upstream-tls-ca-secret: "Backend-CA" is not valid; accepted: a Secret name, or NAMESPACE/NAME'],
      ['a/b/c', 'wsgate.io/upstream-tls-ca-secret: "a/b/c" is not valid; accepted: a Secret name, or NAMESPACE/NAME'],
      ['my.ns/ca', 'wsgate.io/upstream-tls-ca-secret: "my.ns/ca" is not valid; accepted: a Secret name, or NAMESPACE/NAME'],
    ],
  },
  {
    key: 'wsgate.io/upstream-tls-server-name',
    field: 'upstreamTlsServerName',
    good: [['echo.prod.svc', 'echo.prod.svc']],
    bad: [['*.prod.svc', 'wsgate.io/upstream-tls-server-name: "*.prod.svc" is not valid; accepted: a lowercase DNS name']],
  },
  {
    key: 'wsgate.io/allowed-source-ranges',
    field: 'allowedSourceRanges',
    good: [
      ['10.0.0.0/8', ['10.0.0.0/8']],
      ['10.0.0.0/8, 192.168.1.7, 2001:db8::/32', ['10.0.0.0/8', '192.168.1.7/32', '2001:db8::/32']],
      ['::1', ['::1/128']],
    ],
    bad: [
      ['10.0.0.0/33', 'wsgate.io/allowed-source-ranges: "10.0.0.0/33" is not valid ("10.0.0.0/33" has a prefix length outside 0-32); accepted: a comma list of CIDRs (10.0.0.0/8, 2001:db8::/32) or addresses'],
      ['10.0.0.0/8,office', 'wsgate.io/allowed-source-ranges: "10.0.0.0/8,office" is not valid ("office" is not a CIDR); accepted: a comma list of CIDRs (10.0.0.0/8, 2001:db8::/32) or addresses'],
    ],
  },
  {
    key: 'nginx.ingress.kubernetes.io/proxy-read-timeout',
    field: 'idleTimeout',
    good: [['3600', '1h'], ['90', '90s']],
    bad: [['60s', 'nginx.ingress.kubernetes.io/proxy-read-timeout: "60s" is not valid; accepted: a whole number of seconds greater than zero']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/proxy-send-timeout',
    field: 'idleTimeout',
    good: [['600', '10m']],
    bad: [['0', 'nginx.ingress.kubernetes.io/proxy-send-timeout: "0" is not valid; accepted: a whole number of seconds greater than zero']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/proxy-connect-timeout',
    field: 'connectTimeout',
    good: [['3', '3s']],
    bad: [['3.5', 'nginx.ingress.kubernetes.io/proxy-connect-timeout: "3.5" is not valid; accepted: a whole number of seconds greater than zero']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/upstream-hash-by',
    field: 'hashBy',
    good: [['$http_x_user_id', 'header:x-user-id'], ['$cookie_session_id', 'cookie:session_id'], ['$arg_room', 'query:room'], ['$remote_addr', 'client-ip']],
    bad: [['$request_uri', 'nginx.ingress.kubernetes.io/upstream-hash-by: "$request_uri" is not valid; accepted: $http_NAME, $cookie_NAME, $arg_NAME or $remote_addr']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/load-balance',
    field: 'balance',
    good: [['round_robin', 'round-robin'], ['ewma', 'least-conn']],
    bad: [['chash', 'nginx.ingress.kubernetes.io/load-balance: "chash" is not valid; accepted: round_robin or ewma']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/limit-connections',
    field: 'maxConnectionsPerClient',
    good: [['5', 5]],
    bad: [['-5', 'nginx.ingress.kubernetes.io/limit-connections: "-5" is not valid; accepted: a whole number greater than zero']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/backend-protocol',
    field: 'upstreamTls',
    good: [['HTTPS', true], ['HTTP', false], ['https', true]],
    bad: [['GRPC', 'nginx.ingress.kubernetes.io/backend-protocol: "GRPC" is not valid; accepted: HTTP or HTTPS']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/proxy-ssl-verify',
    field: 'upstreamTlsVerify',
    good: [['on', true], ['off', false]],
    bad: [['true', 'nginx.ingress.kubernetes.io/proxy-ssl-verify: "true" is not valid; accepted: on or off']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/proxy-ssl-secret',
    field: 'upstreamTlsCaSecret',
    good: [['certs/backend-ca', 'certs/backend-ca']],
    bad: [['backend-ca', 'nginx.ingress.kubernetes.io/proxy-ssl-secret: "backend-ca" is not valid; accepted: NAMESPACE/NAME of a Secret']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/proxy-ssl-name',
    field: 'upstreamTlsServerName',
    good: [['backend.internal', 'backend.internal']],
    bad: [['Backend', 'nginx.ingress.kubernetes.io/proxy-ssl-name: "Backend" is not valid; accepted: a lowercase DNS name']],
  },
  {
    key: 'nginx.ingress.kubernetes.io/whitelist-source-range',
    field: 'allowedSourceRanges',
    good: [['10.0.0.0/24,172.16.0.1', ['10.0.0.0/24', '172.16.0.1/32']]],
    bad: [['10.0.0.0/24;172.16.0.0/12', 'nginx.ingress.kubernetes.io/whitelist-source-range: "10.0.0.0/24;172.16.0.0/12" is not valid ("10.0.0.0/24;172.16.0.0/12" is not a CIDR); accepted: a comma list of CIDRs or addresses']],
  },
];

for (const c of CASES) {
  test(`${c.key}: accepted values`, () => {
    for (const [value, expected] of c.good) {
      const result = parseIngressAnnotations({ ...c.with, [c.key]: value });
      assert.deepEqual(result.problems, [], `${c.key}=${value}`);
      assert.deepEqual((result.policy as IngressPolicy)[c.field], expected, `${c.key}=${value}`);
    }
  });

  test(`${c.key}: a bad value is a problem naming key, value and what is accepted`, () => {
    for (const [value, message] of c.bad) {
      const result = parseIngressAnnotations({ ...c.with, [c.key]: value });
      assert.equal(result.policy, undefined, `${c.key}=${value} must not give a policy`);
      assert.deepEqual(result.problems, [{ key: c.key, value, message }]);
    }
  });
}

test('every annotation of the registry has parser cases here', async () => {
  const { ANNOTATIONS } = await import('../../src/annotations/registry.ts');
  assert.deepEqual(ANNOTATIONS.map((a) => a.key).sort(), CASES.map((c) => c.key).sort());
});

// The registry is the single source of the annotation docs: the generated table must list every
// annotation with its values and default, so the README cannot fall behind the parsers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANNOTATIONS, NGINX_ALIASES, WSGATE_ANNOTATIONS, annotationDocsMarkdown } from '../../src/annotations/registry.ts';

test('SPEC §6 annotations and aliases, each key once', () => {
  assert.deepEqual(
    WSGATE_ANNOTATIONS.map((a) => a.key.replace('wsgate.io/', '')),
    ['load-balance', 'hash-by', 'connect-timeout', 'handshake-timeout', 'idle-timeout', 'drain-timeout', 'allowed-origins', 'max-connections', 'max-connections-per-client', 'max-message-size', 'upstream-tls', 'upstream-tls-verify', 'upstream-tls-ca-secret', 'upstream-tls-server-name', 'allowed-source-ranges', 'ssl-redirect', 'force-ssl-redirect', 'ping-interval', 'ping-timeout', 'max-connection-lifetime', 'lifetime-jitter', 'max-messages-per-second', 'message-burst', 'message-rate-direction', 'max-connections-per-endpoint', 'drain-spread', 'rebalance', 'rebalance-rate', 'rebalance-threshold', 'affinity', 'session-cookie-name', 'session-cookie-max-age', 'session-cookie-path', 'session-cookie-samesite', 'session-cookie-secure'],
  );
  assert.deepEqual(
    NGINX_ALIASES.map((a) => a.key.replace('nginx.ingress.kubernetes.io/', '')).sort(),
    ['affinity', 'affinity-mode', 'backend-protocol', 'force-ssl-redirect', 'limit-connections', 'load-balance', 'proxy-connect-timeout', 'proxy-read-timeout', 'proxy-send-timeout', 'proxy-ssl-name', 'proxy-ssl-secret', 'proxy-ssl-verify', 'session-cookie-expires', 'session-cookie-max-age', 'session-cookie-name', 'session-cookie-path', 'session-cookie-samesite', 'session-cookie-secure', 'ssl-redirect', 'upstream-hash-by', 'whitelist-source-range'],
  );
  assert.equal(new Set(ANNOTATIONS.map((a) => a.key)).size, ANNOTATIONS.length);
  for (const alias of NGINX_ALIASES) {
    const target = WSGATE_ANNOTATIONS.find((a) => a.key === alias.aliasOf);
    assert.ok(target, `${alias.key} stands for a wsgate.io annotation`);
    // affinity-mode is read and checked but changes nothing (both its values behave alike).
    if (alias.field === 'affinityMode') continue;
    assert.equal(target.field, alias.field, `${alias.key} sets the field of ${alias.aliasOf}`);
  }
});

test('the docs table has a row per annotation with its accepted values and default', () => {
  const markdown = annotationDocsMarkdown();
  const rows = markdown.split('\n').filter((line) => line.startsWith('| `'));
  assert.equal(rows.length, ANNOTATIONS.length);
  assert.ok(rows.includes('| `connect-timeout` | a duration such as 500ms, 5s, 1m or 1h (combinations like 1m30s too), greater than zero | 5s | Time for one TCP (or TLS) connect attempt to an endpoint. |'));
  assert.ok(rows.includes('| `load-balance` | least-conn, round-robin or hash (hash needs wsgate.io/hash-by) | least-conn | How a new connection picks an endpoint; least-conn counts every worker\'s open connections. |'));
  assert.ok(rows.some((row) => row.startsWith('| `backend-protocol` | HTTP or HTTPS | `wsgate.io/upstream-tls` |')));
  assert.match(markdown, /IgnoredAnnotations/);
});

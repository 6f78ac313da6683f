// validateSnapshot on the Gateway API route fields: what the schema cannot say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateSnapshot } from '../../src/config/validate.ts';

function withRoute(extra: Record<string, unknown>): unknown {
  return {
    version: 1,
    routes: [{ host: 'a.example.com', path: '/', pathType: 'Prefix', pool: 'p', ...extra }],
    pools: [{ name: 'p', endpoints: [] }],
  };
}

function messages(doc: unknown): string[] {
  const result = validateSnapshot(doc);
  return result.ok ? [] : result.errors;
}

test('a weighted split names existing pools', () => {
  assert.deepEqual(messages(withRoute({ backends: [{ pool: 'p', weight: 1 }] })), []);
  assert.match(messages(withRoute({ backends: [{ pool: 'p', weight: 1 }, { pool: 'nope', weight: 1 }] })).join('\n'), /routes\[0\]\.backends\[1\]\.pool: "nope" is not a pool/);
});

test('header modifiers cannot split a head: names are tokens, values hold no CR, LF or NUL', () => {
  assert.deepEqual(messages(withRoute({ requestHeaders: { set: [{ name: 'X-Team', value: 'chat' }] } })), []);
  assert.match(messages(withRoute({ requestHeaders: { set: [{ name: 'X-A', value: 'a\r\nX-B: 1' }] } })).join('\n'), /requestHeaders\.set\[0\]\.value: a header value cannot hold CR, LF or NUL/);
  assert.match(messages(withRoute({ responseHeaders: { add: [{ name: 'X A', value: 'v' }] } })).join('\n'), /responseHeaders\.add\[0\]\.name: "X A" is not a header field name/);
});

test('redirect and rewrite hostnames are host names', () => {
  assert.deepEqual(messages(withRoute({ rewrite: { hostname: 'internal.example.com' } })), []);
  assert.match(messages(withRoute({ redirect: { statusCode: 302, hostname: 'evil.com/x' } })).join('\n'), /redirect\.hostname: "evil\.com\/x" is not a host name/);
});

test('routes differing only in listener or matches are not duplicates', () => {
  const doc = withRoute({}) as { routes: unknown[] };
  doc.routes.push({ host: 'a.example.com', path: '/', pathType: 'Prefix', pool: 'p', match: { headers: [{ name: 'x', value: '1' }] } });
  doc.routes.push({ host: 'a.example.com', path: '/', pathType: 'Prefix', pool: 'p', protocols: ['https'] });
  assert.deepEqual(messages(doc), []);
  doc.routes.push({ host: 'a.example.com', path: '/', pathType: 'Prefix', pool: 'p' });
  assert.match(messages(doc).join('\n'), /same host, path and pathType as routes\[0\]/);
});

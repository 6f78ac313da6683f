import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseOrigin, parseOrigin } from '../../src/grammar/origin.ts';

test('origins: http(s) only, case-folded, default port dropped, one trailing slash tolerated', () => {
  const rows: [string, string | undefined][] = [
    ['https://app.example.com', 'https://app.example.com'],
    ['HTTPS://App.Example.com:443', 'https://app.example.com'],
    ['http://a.test:80/', 'http://a.test'],
    ['http://a.test:8080', 'http://a.test:8080'],
    ['https://*.example.com', 'https://*.example.com'],
    ['http://[0:0::1]:3000', 'http://[::1]:3000'],
    ['http://10.0.0.1', 'http://10.0.0.1'],
    ['wss://app.example.com', undefined],
    ['ws://app.example.com', undefined],
    ['chrome-extension://abc', undefined],
    ['https://a.com/path', undefined],
    ['https://a.com?x', undefined],
    ['https://u@a.com', undefined],
    ['https://a.*.com', undefined],
    ['https://*.', undefined],
    ['https://a.com:0', undefined],
    ['https://a.com:08', undefined],
    ['https://a.com:65536', undefined],
    ['null', undefined],
    ['*', undefined],
    ['', undefined],
  ];
  for (const [text, expected] of rows) {
    const parsed = normaliseOrigin(text);
    assert.equal(parsed.ok ? parsed.value : undefined, expected, text);
    if (!parsed.ok) assert.equal(parsed.reason, `${JSON.stringify(text)} is not an origin`);
  }
});

test('a request Origin header never carries a wildcard', () => {
  assert.equal(parseOrigin('https://*.example.com', { wildcard: false }).ok, false);
  assert.deepEqual(parseOrigin('https://A.example.com', { wildcard: false }), { ok: true, value: { scheme: 'https', host: 'a.example.com', port: 443 } });
});

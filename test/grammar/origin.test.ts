import { test } from 'node:test';
import { normaliseOrigin, parseOrigin } from '../../src/grammar/origin.ts';
import { REFUSED, expectTable } from './support.ts';

test('allowed origins: http or https, case-folded, default port dropped, one trailing / tolerated', () => {
  expectTable(normaliseOrigin, [
    ['https://app.example.com', 'https://app.example.com'],
    ['https://App.Example.com:443', 'https://app.example.com'],
    ['HTTP://APP.EXAMPLE.COM:80', 'http://app.example.com'],
    ['http://app.example.com:443', 'http://app.example.com:443'],
    ['https://app.example.com/', 'https://app.example.com'],
    ['https://*.example.com:8443', 'https://*.example.com:8443'],
    ['https://*.a.b', 'https://*.a.b'],
    ['http://10.0.0.1:3000', 'http://10.0.0.1:3000'],
    ['http://[0:0::1]', 'http://[::1]'],
    ['http://[FD00::1]:80', 'http://[fd00::1]'],
    ['wss://app.example.com', REFUSED],
    ['ftp://app.example.com', REFUSED],
    ['https://a.*.b', REFUSED],
    ['https://*', REFUSED],
    ['https://*.', REFUSED],
    ['https://*.10.0.0.1', REFUSED],
    ['https://app.example.com/chat', REFUSED],
    ['https://app.example.com//', REFUSED],
    ['https://app.example.com?x', REFUSED],
    ['https://app.example.com#x', REFUSED],
    ['https://user@app.example.com', REFUSED],
    ['https://app.example.com:0', REFUSED],
    ['https://app.example.com:00443', REFUSED],
    ['https://app.example.com:65536', REFUSED],
    ['https://[::g]', REFUSED],
    ['https://256.1.1.1', REFUSED],
    ['https://a_b.example.com', REFUSED],
    [`https://${'a'.repeat(64)}.com`, REFUSED],
    [' https://app.example.com', REFUSED],
    ['https://', REFUSED],
    ['app.example.com', REFUSED],
    ['null', REFUSED],
    ['*', REFUSED],
  ]);
});

test('a request Origin is read by the same rule, without wildcards', () => {
  expectTable((text) => parseOrigin(text, { wildcard: false }), [
    ['https://app.example.com:443', { scheme: 'https', host: 'app.example.com' }],
    ['http://localhost:3000', { scheme: 'http', host: 'localhost', port: 3000 }],
    ['https://*.example.com', REFUSED],
    ['null', REFUSED],
  ]);
});

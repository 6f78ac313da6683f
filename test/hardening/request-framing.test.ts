// Strict request framing, driven through `wsgate proxy` over raw TCP (issue 8, defects 2-5 and 7).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { exchangeHead, getHead, startNamedUpstream, startWsgateProxy, upgradeHead, type NamedUpstream, type WsgateUnderTest } from './differential-support.ts';

const HEADER_TIMEOUT_MS = 2000;
let a: NamedUpstream;
let c: NamedUpstream;
let wsgate: WsgateUnderTest;

before(async () => {
  [a, c] = await Promise.all([startNamedUpstream('a'), startNamedUpstream('c')]);
  const source = (name: string): { namespace: string; ingress: string } => ({ namespace: 'hardening', ingress: name });
  const pool = (name: string, port: number): unknown => ({ name, source: { namespace: 'hardening', service: name }, endpoints: [{ address: '127.0.0.1', port, state: 'ready' }] });
  wsgate = await startWsgateProxy(
    {
      version: 1,
      routes: [
        { host: 'other.test', path: '/', pathType: 'Prefix', pool: 'a', source: source('other') },
        { host: '', path: '/', pathType: 'Prefix', pool: 'c', source: source('default') },
      ],
      pools: [pool('a', a.port), pool('c', c.port)],
    },
    ['--header-timeout', `${HEADER_TIMEOUT_MS}ms`],
  );
});

after(async () => {
  await wsgate?.stop();
  await Promise.allSettled([a?.close(), c?.close()]);
});

const port = (): number => wsgate.ports.http;
const withHeader = (head: string, line: string): string => head.replace('\r\n', `\r\n${line}\r\n`);

test('a well-formed upgrade and GET are routed (control)', async () => {
  assert.equal((await exchangeHead(port(), upgradeHead('/x'))).status, 101);
  assert.equal((await exchangeHead(port(), getHead('/x'))).status, 200);
});

test('two Host headers: 400', async () => {
  assert.equal((await exchangeHead(port(), withHeader(upgradeHead('/x'), 'Host: other.test'))).status, 400);
  assert.equal((await exchangeHead(port(), withHeader(getHead('/x'), 'Host: other.test'))).status, 400);
});

test('CONNECT: 400', async () => {
  const verdict = await exchangeHead(port(), 'CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n');
  assert.equal(verdict.status, 400);
});

test('absolute-form: routed by its authority, forwarded in origin-form with that Host', async () => {
  for (const head of [upgradeHead('http://other.test/x?q=1', 'localhost'), getHead('http://other.test/x?q=1', 'localhost')]) {
    const verdict = await exchangeHead(port(), head);
    assert.equal(verdict.upstream, 'a', JSON.stringify(verdict));
    assert.equal(verdict.path, '/x?q=1');
    assert.equal(verdict.host, 'other.test');
  }
});

test('encoded / in the path: 400', async () => {
  assert.equal((await exchangeHead(port(), upgradeHead('/a%2fb'))).status, 400);
  assert.equal((await exchangeHead(port(), getHead('/a%2Fb'))).status, 400);
});

/** Connects, stays silent for `silentMs`, then drips one byte a second; resolves with the ms until the proxy cut it. */
function slowloris(silentMs: number, limitMs: number): Promise<number> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port(), '127.0.0.1');
    const bytes = 'GET / HTTP/1.1\r\nHost: localhost\r\nX-Drip: ' + 'a'.repeat(100);
    let sent = 0;
    let drip: NodeJS.Timeout | undefined;
    const begin = setTimeout(() => {
      drip = setInterval(() => {
        if (!socket.destroyed) socket.write(bytes[sent++ % bytes.length]!);
      }, 1000);
    }, silentMs);
    const limit = setTimeout(() => socket.destroy(), limitMs);
    const done = (): void => {
      clearTimeout(begin);
      clearTimeout(limit);
      clearInterval(drip);
      resolve(Date.now() - started);
    };
    socket.on('close', done);
    socket.on('error', () => {});
  });
}

// The deadline is one timer per connection, exact to the event loop; what these bounds leave is
// for a loaded test machine. The defect they catch held the connection for about twice the
// timeout, well past 1.5x; `npm run soak` checks the 10% bound over 2,000 such connections.
const CUT_BOUND_MS = HEADER_TIMEOUT_MS * 1.5;

test('the header timeout counts from accept: a silent-then-dripping client is cut at the timeout, not twice it', async () => {
  const elapsed = await slowloris(HEADER_TIMEOUT_MS * 0.9, HEADER_TIMEOUT_MS * 3);
  assert.ok(elapsed >= HEADER_TIMEOUT_MS * 0.95 && elapsed <= CUT_BOUND_MS, `cut after ${elapsed} ms`);
});

test('a silent client is cut at the header timeout', async () => {
  const elapsed = await slowloris(HEADER_TIMEOUT_MS * 3, HEADER_TIMEOUT_MS * 3);
  assert.ok(elapsed >= HEADER_TIMEOUT_MS * 0.95 && elapsed <= CUT_BOUND_MS, `cut after ${elapsed} ms`);
});

function refusedOrClosed(status: number): boolean {
  return status === 0 || (status >= 400 && status < 500);
}

test('Content-Length with Transfer-Encoding: 400', async () => {
  const head = 'POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
  assert.equal((await exchangeHead(port(), head)).status, 400);
});

test('differing duplicate Content-Length: 400', async () => {
  const head = 'POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!';
  assert.equal((await exchangeHead(port(), head)).status, 400);
});

test('obs-fold: 400', async () => {
  assert.equal((await exchangeHead(port(), withHeader(getHead('/x'), 'X-Folded: a\r\n b'))).status, 400);
  assert.equal((await exchangeHead(port(), withHeader(upgradeHead('/x'), 'X-Folded: a\r\n\tb'))).status, 400);
});

test('CR, LF or NUL inside a header value: 400', async () => {
  for (const value of ['a\rb', 'a\x00b', 'a\nb']) {
    const verdict = await exchangeHead(port(), withHeader(upgradeHead('/x'), `X-Odd: ${value}`));
    assert.equal(verdict.status, 400, JSON.stringify(value));
  }
});

test('an oversized chunk extension on a proxied body is refused', async () => {
  const before = a.seen.length + c.seen.length;
  const head = `POST /x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5;${'e'.repeat(20_000)}\r\nhello\r\n0\r\n\r\n`;
  const verdict = await exchangeHead(port(), head);
  assert.ok(refusedOrClosed(verdict.status), JSON.stringify(verdict));
  assert.notEqual(verdict.status, 200);
  assert.ok(a.seen.length + c.seen.length - before <= 1);
});

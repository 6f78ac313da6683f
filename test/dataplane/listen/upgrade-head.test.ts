// The TLS listener's own head parse (listen/upgrade-head.ts) against node:http's parser: whatever
// it accepts, Node's parser must read as the same WebSocket upgrade (method, target, version,
// headers, raw headers and where the early data starts); whatever is unusual, it must leave to
// Node. Node is asked for real: each accepted head goes to an http.Server on loopback configured
// as the data plane's listeners are.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http, { type IncomingMessage } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { isWebSocketRequest } from '../../../src/dataplane/handshake/checks.ts';
import { FAST_HEAD_MAX_BYTES, FAST_HEAD_MAX_FIELDS, parseUpgradeHead } from '../../../src/dataplane/listen/upgrade-head.ts';

interface NodeReading {
  method: string | undefined;
  url: string | undefined;
  httpVersion: string;
  headers: Record<string, unknown>;
  rawHeaders: string[];
  early: string;
}

const BROWSER_HEAD =
  'GET /chat/room-1?token=a%20b&x=1 HTTP/1.1\r\n' +
  'Host: app.example.test\r\n' +
  'Connection: Upgrade\r\n' +
  'Pragma: no-cache\r\n' +
  'Cache-Control: no-cache\r\n' +
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36\r\n' +
  'Upgrade: websocket\r\n' +
  'Origin: https://app.example.test\r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  'Accept-Encoding: gzip, deflate, br, zstd\r\n' +
  'Accept-Language: en-US,en;q=0.9\r\n' +
  'Cookie: session=abc; theme=dark\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
  'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' +
  '\r\n';

let server: http.Server;
let port: number;
const readings: Array<(reading: NodeReading | string) => void> = [];

before(async () => {
  // As src/dataplane/listen/server.ts configures its listeners.
  server = http.createServer({ maxHeaderSize: 16 * 1024, requireHostHeader: false, shouldUpgradeCallback: (req: IncomingMessage) => isWebSocketRequest(req.headers) });
  const report = (reading: NodeReading | string): void => readings.shift()?.(reading);
  server.on('upgrade', (req: IncomingMessage, socket: Socket, early: Buffer) => {
    report({ method: req.method, url: req.url, httpVersion: req.httpVersion, headers: { ...req.headers }, rawHeaders: req.rawHeaders, early: early.toString('latin1') });
    socket.destroy();
  });
  server.on('request', (req: IncomingMessage) => {
    report(`not an upgrade: ${req.method} ${req.url}`);
    req.socket.destroy();
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    report(`refused: ${error.code}`);
    socket.destroy();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(() => server.close());

/** What node:http reads of `bytes`, sent in one write. */
function nodeReads(bytes: Buffer): Promise<NodeReading | string> {
  return new Promise((resolve) => {
    readings.push(resolve);
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.on('error', () => {});
  });
}

/** Asserts that node:http reads `bytes` as the fast parse did, when the fast parse accepts them; true if it did. */
async function agreesWithNode(bytes: Buffer): Promise<boolean> {
  const fast = parseUpgradeHead(bytes);
  if (fast === undefined) return false;
  const node = await nodeReads(bytes);
  const what = JSON.stringify(bytes.toString('latin1'));
  assert.equal(typeof node, 'object', `the fast parse accepted ${what}, node:http: ${String(node)}`);
  assert.deepEqual(
    { method: fast.method, url: fast.url, httpVersion: fast.httpVersion, headers: { ...fast.headers }, rawHeaders: fast.rawHeaders, early: bytes.subarray(fast.length).toString('latin1') },
    node,
    what,
  );
  return true;
}

const head = (text: string): Buffer => Buffer.from(text, 'latin1');
const withLine = (line: string): Buffer => head(BROWSER_HEAD.replace('\r\n\r\n', `\r\n${line}\r\n\r\n`));

describe('heads the fast parse takes, read as node:http reads them', () => {
  test("a browser's handshake", async () => {
    assert.ok(await agreesWithNode(head(BROWSER_HEAD)));
  });

  test('early data after the head starts where node:http says', async () => {
    assert.ok(await agreesWithNode(Buffer.concat([head(BROWSER_HEAD), Buffer.from([0x81, 0x85, 1, 2, 3, 4, 0x69, 0x67, 0x6f, 0x68, 0x6e])])));
  });

  for (const [name, line] of [
    ['optional whitespace around a value', 'X-Spaced: \t padded value \t '],
    ['an empty value', 'X-Empty:'],
    ['a value with every visible character', `X-All: ${Array.from({ length: 94 }, (_, i) => String.fromCharCode(0x21 + i)).join('')}`],
    ['a name with every token character', "X-!#$%&'*+-.^_`|~09az: 1"],
    ['upper-case names', 'X-UPPER-CASE: Kept As Sent'],
  ] as const) {
    test(name, async () => {
      assert.ok(await agreesWithNode(withLine(line)));
    });
  }

  test('Upgrade and Connection as lists, in any case', async () => {
    const bytes = head(BROWSER_HEAD.replace('Connection: Upgrade', 'Connection: keep-alive, UPGRADE').replace('Upgrade: websocket', 'Upgrade: WebSocket'));
    assert.ok(await agreesWithNode(bytes));
  });

  test('a target with every character of its class', async () => {
    assert.ok(await agreesWithNode(head(BROWSER_HEAD.replace('/chat/room-1?token=a%20b&x=1', "/a-._~!$&'()*+,;=:@/%41?q=/?&"))));
  });

  test('no Host, no key: still an upgrade, for the pipeline to refuse as before', async () => {
    assert.ok(await agreesWithNode(head('GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')));
  });
});

describe('heads the fast parse leaves to node:http', () => {
  const cases: Array<[string, Buffer]> = [
    ['another method', head(BROWSER_HEAD.replace('GET ', 'POST '))],
    ['a lower-case method', head(BROWSER_HEAD.replace('GET ', 'get '))],
    ['HTTP/1.0', head(BROWSER_HEAD.replace('HTTP/1.1', 'HTTP/1.0'))],
    ['HTTP/2.0', head(BROWSER_HEAD.replace('HTTP/1.1', 'HTTP/2.0'))],
    ['two spaces in the request line', head(BROWSER_HEAD.replace('GET /', 'GET  /'))],
    ['absolute-form', head(BROWSER_HEAD.replace('GET /chat', 'GET http://other.test/chat'))],
    ['asterisk-form', head(BROWSER_HEAD.replace('GET /chat/room-1?token=a%20b&x=1', 'GET *'))],
    ['a fragment', head(BROWSER_HEAD.replace('x=1', 'x=1#frag'))],
    ['a backslash in the target', head(BROWSER_HEAD.replace('/chat/', '/chat\\'))],
    ['a byte over 0x7e in the target', head(BROWSER_HEAD.replace('/chat/', '/ch\u00e9t/'))],
    ['a second Host', withLine('Host: other.test')],
    ['a second Upgrade', withLine('Upgrade: h2c')],
    ['a repeated field in another case', withLine('cookie: more=1')],
    ['Content-Length', withLine('Content-Length: 5')],
    ['Transfer-Encoding', withLine('Transfer-Encoding: chunked')],
    ['obs-fold', withLine('X-Folded: a\r\n continued')],
    ['a space before the colon', withLine('X-Space : 1')],
    ['an empty name', withLine(': 1')],
    ['a NUL in a value', withLine('X-Nul: a\u0000b')],
    ['DEL in a value', withLine('X-Del: a\u007fb')],
    ['obs-text in a value', withLine('X-Latin: caf\u00e9')],
    ['a bare CR in a value', withLine('X-Cr: a\rb')],
    ['a bare LF line end', head(BROWSER_HEAD.replace('Pragma: no-cache\r\n', 'Pragma: no-cache\n'))],
    ['a bare LF at the end of the head', head(BROWSER_HEAD.replace(/\r\n\r\n$/, '\r\n\n'))],
    ['no Upgrade: websocket', head(BROWSER_HEAD.replace('Upgrade: websocket', 'Upgrade: h2c'))],
    ['no Connection: upgrade', head(BROWSER_HEAD.replace('Connection: Upgrade', 'Connection: keep-alive'))],
    ['a head not complete yet', head(BROWSER_HEAD.slice(0, -2))],
    ['a head cut in its request line', head(BROWSER_HEAD.slice(0, 20))],
    ['a head over the fast size', withLine(`X-Big: ${'a'.repeat(FAST_HEAD_MAX_BYTES)}`)],
    ['more fields than the fast count', head(BROWSER_HEAD.replace('\r\n\r\n', `\r\n${Array.from({ length: FAST_HEAD_MAX_FIELDS }, (_, i) => `X-F${i}: ${i}`).join('\r\n')}\r\n\r\n`))],
    ['a TLS record (not HTTP at all)', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0, 0, 0, 0, 0, 0, 0])],
    ['nothing', Buffer.alloc(0)],
  ];
  for (const [name, bytes] of cases) {
    test(name, () => {
      assert.equal(parseUpgradeHead(bytes), undefined);
    });
  }
});

// Mutations of a browser's head: one to three bytes inserted, replaced or removed, from bytes that
// matter to HTTP framing. Any the fast parse accepts must be read by node:http identically, so no
// head can mean one thing to the router and another to the parser the rest of wsgate trusts.
test('mutated heads: whatever the fast parse accepts, node:http reads the same', async () => {
  const interesting = [0x20, 0x09, 0x0d, 0x0a, 0x3a, 0x2c, 0x3b, 0x00, 0x7f, 0x80, 0xff, 0x61, 0x2f, 0x25, 0x23, 0x3f, 0x22, 0x5c, 0x2e];
  let seed = Number(process.env.UPGRADE_HEAD_SEED ?? Date.now() % 2 ** 31);
  console.log(`upgrade-head mutation seed: ${seed} (replay with UPGRADE_HEAD_SEED=${seed})`);
  const random = (n: number): number => {
    // xorshift32: a reproducible sequence from the seed.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const base = head(BROWSER_HEAD);
  let accepted = 0;
  for (let i = 0; i < 400; i++) {
    let bytes = Buffer.from(base);
    for (let edits = 1 + random(3); edits > 0; edits--) {
      const at = random(bytes.length);
      const byte = Buffer.from([interesting[random(interesting.length)]!]);
      const kind = random(3);
      bytes = kind === 0 ? Buffer.concat([bytes.subarray(0, at), byte, bytes.subarray(at)])
        : kind === 1 ? Buffer.concat([bytes.subarray(0, at), byte, bytes.subarray(at + 1)])
          : Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    }
    if (await agreesWithNode(bytes)) accepted++;
  }
  // Most single-byte edits inside a value keep the head valid: a run that compared nothing is broken.
  assert.ok(accepted > 40, `only ${accepted} of 400 mutated heads were compared`);
});

// PROXY protocol v1/v2 (haproxy's proxy-protocol.txt) in front of real http and https servers on
// 127.0.0.1, and the parser on its own: split at every byte, random input, random valid headers.
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { clientAddressOf, parseProxyHeader, requireProxyProtocol, type ProxyProtocolOptions } from '../../../src/dataplane/listen/proxyprotocol.ts';
import { makeCert, type TestCertificate } from '../../support/certs.ts';

// ---------------------------------------------------------------------------------------------
// Header builders

function v1(protocol: 'TCP4' | 'TCP6' | 'UNKNOWN', source = '', destination = '', sourcePort = 0, destinationPort = 0): Buffer {
  if (protocol === 'UNKNOWN') return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  return Buffer.from(`PROXY ${protocol} ${source} ${destination} ${sourcePort} ${destinationPort}\r\n`, 'latin1');
}

const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

interface V2Header {
  command: 'local' | 'proxy';
  family: 'unspec' | 'inet' | 'inet6' | 'unix';
  source?: string;
  destination?: string;
  sourcePort?: number;
  destinationPort?: number;
  /** Raw TLV bytes after the address block, which a receiver skips. */
  tlvs?: Buffer;
}

function v2(header: V2Header): Buffer {
  const familyByte = { unspec: 0x00, inet: 0x11, inet6: 0x21, unix: 0x31 }[header.family];
  let block: Buffer;
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(header.sourcePort ?? 0, 0);
  ports.writeUInt16BE(header.destinationPort ?? 0, 2);
  if (header.family === 'inet') block = Buffer.concat([ipv4Bytes(header.source ?? '0.0.0.0'), ipv4Bytes(header.destination ?? '0.0.0.0'), ports]);
  else if (header.family === 'inet6') block = Buffer.concat([ipv6Bytes(header.source ?? '::'), ipv6Bytes(header.destination ?? '::'), ports]);
  else if (header.family === 'unix') block = Buffer.alloc(216);
  else block = Buffer.alloc(0);
  block = Buffer.concat([block, header.tlvs ?? Buffer.alloc(0)]);
  const fixed = Buffer.alloc(4);
  fixed[0] = header.command === 'local' ? 0x20 : 0x21;
  fixed[1] = familyByte;
  fixed.writeUInt16BE(block.length, 2);
  return Buffer.concat([SIGNATURE, fixed, block]);
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

/** Expands any IPv6 spelling (`::`, an embedded dotted IPv4 tail) to its 16 bytes. */
function ipv6Bytes(address: string): Buffer {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -dotted[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const groups = [...headGroups, ...zeros, ...tailGroups];
  assert.equal(groups.length, 8, `bad test address ${address}`);
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}

/**
 * What a client address should read as, computed apart from the module: libuv's spelling
 * (net.SocketAddress), an IPv4-mapped address as its IPv4 client, a dotted IPv4-compatible tail in hex.
 */
function expectedIPv6(address: string): string {
  const spelled = new net.SocketAddress({ address, family: 'ipv6' }).address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(spelled);
  if (mapped) return mapped[1]!;
  const compatible = /^::(\d+\.\d+\.\d+\.\d+)$/.exec(spelled);
  if (compatible) {
    const bytes = ipv4Bytes(compatible[1]!);
    return `::${bytes.readUInt16BE(0).toString(16)}:${bytes.readUInt16BE(2).toString(16)}`;
  }
  return spelled;
}

// ---------------------------------------------------------------------------------------------
// Servers and clients

interface Harness {
  port: number;
  rejects: string[];
  /** Sockets the server's own 'connection' listeners received: only after a valid header. */
  handedOver: number;
  requests: number;
  close(): Promise<void>;
}

interface Echo {
  client: string;
  url: string;
  body: string;
}

/** Answers every request with the client address it sees and the request it got. */
function echo(req: IncomingMessage, res: ServerResponse, harness: Harness): void {
  harness.requests++;
  let body = '';
  req.setEncoding('latin1');
  req.on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    const answer: Echo = { client: clientAddressOf(req.socket), url: req.url ?? '', body };
    res.setHeader('connection', 'close');
    res.end(JSON.stringify(answer));
  });
}

async function start(server: http.Server, options: Partial<ProxyProtocolOptions> = {}): Promise<Harness> {
  const harness: Harness = { port: 0, rejects: [], handedOver: 0, requests: 0, close: async () => {} };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => echo(req, res, harness));
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.end(`HTTP/1.1 101 Switching Protocols\r\nX-Client: ${clientAddressOf(socket)}\r\nX-Head: ${head.toString('latin1')}\r\n\r\n`);
  });
  // Registered before requireProxyProtocol, so it counts what the server's owners are handed.
  server.on('connection', () => harness.handedOver++);
  requireProxyProtocol(server, { trustedCidrs: ['127.0.0.1/32'], headerTimeoutMs: 10_000, ...options }, (socket, reason, kind) => {
    // Still open, so the handler can log the peer.
    assert.equal(socket.remoteAddress, '127.0.0.1');
    harness.rejects.push(`${kind}: ${reason}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  harness.port = (server.address() as AddressInfo).port;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  harness.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return harness;
}

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Everything the server sends until it closes; `closedByServer` is false if the guard fired first. */
function readAll(socket: Socket | tls.TLSSocket): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    // A guard against a hang, not a speed requirement: the tests that need a close fail without it.
    const guard = setTimeout(() => {
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByServer: false });
    }, 20_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(guard);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByServer: true });
    });
  });
}

/** Writes each part as its own write, yielding in between so they tend to arrive as separate reads. */
async function writeParts(socket: Socket, parts: Buffer[]): Promise<void> {
  for (const part of parts) {
    if (part.length === 0) continue;
    await new Promise<void>((resolve) => socket.write(part, () => resolve()));
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
}

function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => Math.max(0, Math.min(bytes.length, cut))))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    parts.push(bytes.subarray(from, point));
    from = point;
  }
  parts.push(bytes.subarray(from));
  return parts;
}

const POST = Buffer.from('POST /chat?room=1 HTTP/1.1\r\nHost: chat.example.com\r\nContent-Length: 11\r\n\r\nhello world', 'latin1');

/** Writes `parts` over one TCP connection and reads until the server closes; parses the echo if any. */
async function exchange(port: number, parts: Buffer[]): Promise<{ echo: Echo | undefined; text: string; closedByServer: boolean }> {
  const socket = await connect(port);
  const done = readAll(socket);
  await writeParts(socket, parts);
  const result = await done;
  const body = result.text.split('\r\n\r\n')[1];
  return { ...result, echo: body ? (JSON.parse(body) as Echo) : undefined };
}

/**
 * TLS after the header over one TCP connection. The transport hands TLS's first write (the
 * ClientHello) to the socket in the same write as the header, so the server reads both in one
 * chunk and must keep what follows the header.
 */
async function tlsExchange(port: number, header: Buffer, request: Buffer): Promise<{ echo: Echo | undefined; text: string }> {
  const raw = await connect(port);
  let pending: Buffer | undefined = header;
  const transport = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      const bytes = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
      pending = undefined;
      raw.write(bytes, callback);
    },
    final(callback) {
      raw.end();
      callback();
    },
  });
  raw.on('data', (chunk: Buffer) => transport.push(chunk));
  raw.on('end', () => transport.push(null));
  raw.on('close', () => transport.destroy());
  raw.on('error', () => {});
  const secure = tls.connect({ socket: transport, rejectUnauthorized: false, servername: 'localhost' });
  const done = readAll(secure);
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('error', reject);
  });
  secure.write(request);
  const result = await done;
  raw.destroy();
  const body = result.text.split('\r\n\r\n')[1];
  return { text: result.text, echo: body ? (JSON.parse(body) as Echo) : undefined };
}

// ---------------------------------------------------------------------------------------------

describe('PROXY protocol in front of an http server', () => {
  let trusted: Harness;
  let untrusted: Harness;

  before(async () => {
    trusted = await start(http.createServer());
    untrusted = await start(http.createServer(), { trustedCidrs: ['10.0.0.0/8'] });
  });
  after(async () => {
    await trusted.close();
    await untrusted.close();
  });

  const cases: [string, Buffer, string][] = [
    ['v1 TCP4', v1('TCP4', '203.0.113.7', '10.0.0.1', 51000, 80), '203.0.113.7'],
    ['v1 TCP6', v1('TCP6', '2001:DB8:0:0::7', '2001:db8::1', 51000, 80), '2001:db8::7'],
    ['v1 TCP6 with an IPv4-mapped source', v1('TCP6', '::ffff:198.51.100.9', '::1', 1, 2), '198.51.100.9'],
    ['v2 IPv4', v2({ command: 'proxy', family: 'inet', source: '198.51.100.20', destination: '10.1.1.1', sourcePort: 40000, destinationPort: 443 }), '198.51.100.20'],
    ['v2 IPv6', v2({ command: 'proxy', family: 'inet6', source: '2001:db8:85a3::8a2e:370:7334', destination: '2001:db8::1', sourcePort: 1234, destinationPort: 80 }), '2001:db8:85a3::8a2e:370:7334'],
    ['v2 IPv4 with TLVs', v2({ command: 'proxy', family: 'inet', source: '192.0.2.44', tlvs: Buffer.from('0500044142434404000100', 'hex') }), '192.0.2.44'],
  ];
  for (const [name, header, client] of cases) {
    it(`${name}: the request sees the header's source and arrives intact`, async () => {
      const { echo: answer } = await exchange(trusted.port, [Buffer.concat([header, POST])]);
      assert.deepEqual(answer, { client, url: '/chat?room=1', body: 'hello world' });
    });
  }

  const peerCases: [string, Buffer][] = [
    ['v2 LOCAL', v2({ command: 'local', family: 'inet', source: '192.0.2.1' })],
    ['v2 PROXY AF_UNSPEC', v2({ command: 'proxy', family: 'unspec' })],
    ['v2 PROXY AF_UNIX', v2({ command: 'proxy', family: 'unix' })],
    ['v1 UNKNOWN', v1('UNKNOWN')],
  ];
  for (const [name, header] of peerCases) {
    it(`${name}: the TCP peer is the client`, async () => {
      const { echo: answer } = await exchange(trusted.port, [Buffer.concat([header, POST])]);
      assert.deepEqual(answer, { client: '127.0.0.1', url: '/chat?room=1', body: 'hello world' });
    });
  }

  it('the header and the request split at every byte still arrive as one request', async () => {
    const header = v2({ command: 'proxy', family: 'inet', source: '198.51.100.77', sourcePort: 9, destinationPort: 80 });
    const whole = Buffer.concat([header, POST]);
    for (let cut = 1; cut < header.length + 4; cut++) {
      const { echo: answer } = await exchange(trusted.port, [whole.subarray(0, cut), whole.subarray(cut)]);
      assert.deepEqual(answer, { client: '198.51.100.77', url: '/chat?room=1', body: 'hello world' }, `cut at ${cut}`);
    }
  });

  it('a v1 header sent one byte at a time', async () => {
    const header = v1('TCP4', '192.0.2.200', '10.0.0.1', 5, 6);
    const parts = [...header].map((byte) => Buffer.from([byte]));
    const { echo: answer } = await exchange(trusted.port, [...parts, POST]);
    assert.equal(answer?.client, '192.0.2.200');
    assert.equal(answer?.body, 'hello world');
  });

  it('the socket of a WebSocket upgrade carries the client address, and the bytes after the head', async () => {
    const upgrade = Buffer.from('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nEARLY', 'latin1');
    const { text } = await exchange(trusted.port, [Buffer.concat([v1('TCP4', '203.0.113.50', '10.0.0.1', 1, 2), upgrade])]);
    assert.match(text, /^HTTP\/1\.1 101 /);
    assert.match(text, /\r\nX-Client: 203\.0\.113\.50\r\n/);
    assert.match(text, /\r\nX-Head: EARLY\r\n/);
  });

  it('a peer outside the trusted CIDRs is the client itself, header or not', async () => {
    const { echo: answer } = await exchange(untrusted.port, [Buffer.concat([v1('TCP4', '203.0.113.7', '10.0.0.1', 1, 2), POST])]);
    assert.deepEqual(answer, { client: '127.0.0.1', url: '/chat?room=1', body: 'hello world' });
  });

  it('an untrusted peer still has to send a header', async () => {
    const before = { rejects: untrusted.rejects.length, requests: untrusted.requests };
    const result = await exchange(untrusted.port, [POST]);
    assert.equal(result.closedByServer, true);
    assert.equal(result.text, '');
    assert.equal(untrusted.requests, before.requests);
    assert.match(untrusted.rejects.at(-1) ?? '', /^malformed: malformed PROXY header: /);
    assert.equal(untrusted.rejects.length, before.rejects + 1);
  });

  const malformed: [string, Buffer][] = [
    ['no header: a plain request', POST],
    ['v1 with a bad protocol', Buffer.from('PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n', 'latin1')],
    ['v1 TCP4 with an IPv6 address', v1('TCP4', '2001:db8::1', '10.0.0.1', 1, 2)],
    ['v1 TCP6 with an IPv4 address', v1('TCP6', '192.0.2.1', '2001:db8::1', 1, 2)],
    ['v1 with a port over 65535', v1('TCP4', '192.0.2.1', '10.0.0.1', 65536, 2)],
    ['v1 with a missing field', Buffer.from('PROXY TCP4 192.0.2.1 10.0.0.1 1\r\n', 'latin1')],
    ['v1 with a zone in the address', v1('TCP6', 'fe80::1%eth0', 'fe80::2', 1, 2)],
    ['v1 with no CRLF in 107 bytes', Buffer.from(`PROXY UNKNOWN ${'x'.repeat(120)}\r\n`, 'latin1')],
    ['v1 ending in a bare LF', Buffer.from('PROXY TCP4 192.0.2.1 10.0.0.1 1 2\n', 'latin1')],
    ['v2 version 1', Buffer.concat([SIGNATURE, Buffer.from([0x11, 0x11, 0, 12]), Buffer.alloc(12)])],
    ['v2 unknown command', Buffer.concat([SIGNATURE, Buffer.from([0x22, 0x11, 0, 12]), Buffer.alloc(12)])],
    ['v2 unknown family', Buffer.concat([SIGNATURE, Buffer.from([0x21, 0x41, 0, 12]), Buffer.alloc(12)])],
    ['v2 unknown transport', Buffer.concat([SIGNATURE, Buffer.from([0x21, 0x13, 0, 12]), Buffer.alloc(12)])],
    ['v2 AF_INET with a short block', Buffer.concat([SIGNATURE, Buffer.from([0x21, 0x11, 0, 8]), Buffer.alloc(8)])],
    ['v2 AF_INET6 with a short block', Buffer.concat([SIGNATURE, Buffer.from([0x21, 0x21, 0, 12]), Buffer.alloc(12)])],
    ['a broken v2 signature', Buffer.concat([Buffer.from('0d0a0d0a000d0a5155495420', 'hex'), Buffer.from([0x21, 0x11, 0, 12]), Buffer.alloc(12)])],
  ];
  for (const [name, bytes] of malformed) {
    it(`${name}: the connection is closed unanswered and the reason reported`, async () => {
      const before = { rejects: trusted.rejects.length, requests: trusted.requests, handedOver: trusted.handedOver };
      const result = await exchange(trusted.port, [Buffer.concat([bytes, POST])]);
      assert.equal(result.closedByServer, true);
      assert.equal(result.text, '');
      assert.equal(trusted.requests, before.requests);
      assert.equal(trusted.handedOver, before.handedOver);
      assert.equal(trusted.rejects.length, before.rejects + 1);
      assert.match(trusted.rejects.at(-1) ?? '', /^malformed: malformed PROXY header: /);
    });
  }

  it('a peer that leaves before sending anything is closed without a report (load balancer health checks)', async () => {
    const before = trusted.rejects.length;
    const socket = await connect(trusted.port);
    const done = readAll(socket);
    socket.end();
    assert.equal((await done).closedByServer, true);
    // The report, if any, is made before the close; a later request proves the server moved on.
    await exchange(trusted.port, [Buffer.concat([v1('UNKNOWN'), POST])]);
    assert.equal(trusted.rejects.length, before);
  });
});

describe('PROXY protocol with keep-alive', () => {
  it('pipelined requests in the header chunk and a later one on the same connection are all answered', async () => {
    const server = http.createServer((req, res) => res.end(`${req.url} from ${clientAddressOf(req.socket)};`));
    requireProxyProtocol(server, { trustedCidrs: ['127.0.0.1'], headerTimeoutMs: 10_000 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const socket = await connect((server.address() as AddressInfo).port);
    const get = (path: string, close = false): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(Buffer.concat([v2({ command: 'proxy', family: 'inet', source: '192.0.2.61' }), Buffer.from(get('/one') + get('/two'), 'latin1')]));
    while (!text.includes('/two from')) await new Promise((resolve) => setTimeout(resolve, 5));
    socket.write(get('/three', true));
    await closed;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const bodies = text.match(/\/\w+ from [\d.]+;/g);
    assert.deepEqual(bodies, ['/one from 192.0.2.61;', '/two from 192.0.2.61;', '/three from 192.0.2.61;']);
  });
});

describe('PROXY protocol header timeout', () => {
  let harness: Harness;
  before(async () => {
    harness = await start(http.createServer({ headersTimeout: 500, requestTimeout: 0, connectionsCheckingInterval: 50 }), { headerTimeoutMs: 200 });
  });
  after(() => harness.close());

  it('a header not complete in time closes the connection', async () => {
    const result = await exchange(harness.port, [Buffer.from('PROXY TCP4 192.0.2.', 'latin1')]);
    assert.equal(result.closedByServer, true);
    assert.equal(result.text, '');
    assert.match(harness.rejects.at(-1) ?? '', /^timeout: PROXY header not complete within 200 ms$/);
  });

  it("the server's own request head timeout still applies after the header", async () => {
    // Node tracks connections from 'listening' on: a server fed sockets without listening itself
    // would wait for this head forever.
    const result = await exchange(harness.port, [v1('TCP4', '192.0.2.9', '10.0.0.1', 1, 2), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n', 'latin1')]);
    assert.equal(result.closedByServer, true);
    assert.match(result.text, /^HTTP\/1\.1 408 /);
  });
});

describe('PROXY protocol in front of an https server', () => {
  let harness: Harness;
  let untrusted: Harness;
  let cert: TestCertificate;
  const request = Buffer.from('POST /secure HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n\r\nping', 'latin1');

  before(async () => {
    cert = await makeCert({ hosts: ['localhost'] });
    harness = await start(https.createServer({ key: cert.key, cert: cert.cert }));
    untrusted = await start(https.createServer({ key: cert.key, cert: cert.cert }), { trustedCidrs: ['10.0.0.0/8'] });
  });
  after(async () => {
    await harness.close();
    await untrusted.close();
  });

  const cases: [string, Buffer, string][] = [
    ['v1 TCP4', v1('TCP4', '203.0.113.7', '10.0.0.1', 51000, 443), '203.0.113.7'],
    ['v1 TCP6', v1('TCP6', '2001:db8::beef', '2001:db8::1', 51000, 443), '2001:db8::beef'],
    ['v2 IPv4', v2({ command: 'proxy', family: 'inet', source: '198.51.100.20', destination: '10.1.1.1', sourcePort: 40000, destinationPort: 443 }), '198.51.100.20'],
    ['v2 IPv6', v2({ command: 'proxy', family: 'inet6', source: '2001:db8::20', destination: '2001:db8::1', sourcePort: 40000, destinationPort: 443 }), '2001:db8::20'],
    ['v2 LOCAL', v2({ command: 'local', family: 'inet', source: '198.51.100.20' }), '127.0.0.1'],
  ];
  for (const [name, header, client] of cases) {
    it(`${name}: clientAddressOf the request's TLSSocket is ${client}`, async () => {
      const { echo: answer } = await tlsExchange(harness.port, header, request);
      assert.deepEqual(answer, { client, url: '/secure', body: 'ping' });
    });
  }

  it('the header alone, then TLS in later writes', async () => {
    const raw = await connect(harness.port);
    await writeParts(raw, [v1('TCP4', '192.0.2.33', '10.0.0.1', 1, 2)]);
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false, servername: 'localhost' });
    const done = readAll(secure);
    secure.write(request);
    const result = await done;
    assert.equal((JSON.parse(result.text.split('\r\n\r\n')[1] ?? '') as Echo).client, '192.0.2.33');
  });

  it('an untrusted peer: the TCP peer is the client', async () => {
    const { echo: answer } = await tlsExchange(untrusted.port, v1('TCP4', '203.0.113.7', '10.0.0.1', 1, 2), request);
    assert.equal(answer?.client, '127.0.0.1');
  });

  it('TLS without a header is closed before any handshake', async () => {
    const raw = await connect(harness.port);
    const secure = tls.connect({ socket: raw, rejectUnauthorized: false, servername: 'localhost' });
    const failed = await new Promise<boolean>((resolve) => {
      secure.once('secureConnect', () => resolve(false));
      secure.once('error', () => resolve(true));
      secure.once('close', () => resolve(true));
    });
    secure.destroy();
    assert.equal(failed, true);
    assert.match(harness.rejects.at(-1) ?? '', /^malformed: malformed PROXY header: /);
  });
});

describe('clientAddressOf', () => {
  it('is the TCP peer for a socket no PROXY server handed over', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = await connect((server.address() as AddressInfo).port);
    const socket = await accepted;
    assert.equal(clientAddressOf(socket), '127.0.0.1');
    client.destroy();
    socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe('requireProxyProtocol', () => {
  it('refuses a bad trusted CIDR and a second installation', () => {
    assert.throws(() => requireProxyProtocol(http.createServer(), { trustedCidrs: ['10.0.0.0/33'], headerTimeoutMs: 1000 }), /not a CIDR/);
    const server = http.createServer();
    requireProxyProtocol(server, { trustedCidrs: [], headerTimeoutMs: 1000 });
    assert.throws(() => requireProxyProtocol(server, { trustedCidrs: [], headerTimeoutMs: 1000 }), /already installed/);
  });
});

// ---------------------------------------------------------------------------------------------
// The parser alone

type Parse = ReturnType<typeof parseProxyHeader>;

/** Whether a parse that says complete is a well-formed header by an independent reading of the spec. */
function wellFormed(bytes: Buffer, length: number): boolean {
  const header = bytes.subarray(0, length);
  if (header.subarray(0, 12).equals(SIGNATURE)) {
    return length === 16 + header.readUInt16BE(14) && (header[12] === 0x20 || header[12] === 0x21);
  }
  const line = header.toString('latin1');
  return (
    length <= 107 &&
    (/^PROXY UNKNOWN[^\r]*\r\n$/.test(line) ||
      /^PROXY TCP4 (\d+\.){3}\d+ (\d+\.){3}\d+ \d{1,5} \d{1,5}\r\n$/.test(line) ||
      /^PROXY TCP6 [0-9a-fA-F:.]+ [0-9a-fA-F:.]+ \d{1,5} \d{1,5}\r\n$/.test(line))
  );
}

/** Feeding a prefix gives a consistent answer: incomplete until the verdict, then that verdict. */
function assertMonotone(bytes: Buffer): Parse {
  const whole = parseProxyHeader(bytes);
  let verdictAt = bytes.length + 1;
  for (let n = 0; n <= bytes.length; n++) {
    const partial = parseProxyHeader(bytes.subarray(0, n));
    if (partial.kind !== 'incomplete') {
      verdictAt = Math.min(verdictAt, n);
      assert.deepEqual(partial, whole, `prefix of ${n} bytes`);
    } else {
      assert.ok(n < verdictAt, `incomplete again at ${n} bytes after a verdict at ${verdictAt}`);
    }
  }
  return whole;
}

const ipv6Arbitrary = fc.ipV6().filter((address) => !address.includes('%'));

const validHeader: fc.Arbitrary<{ header: Buffer; source: string | undefined }> = fc.oneof(
  fc.record({ source: fc.ipV4(), destination: fc.ipV4(), ports: fc.tuple(fc.nat(65535), fc.nat(65535)) }).map(({ source, destination, ports }) => ({
    header: v1('TCP4', source, destination, ports[0], ports[1]),
    source,
  })),
  fc.record({ source: ipv6Arbitrary, destination: ipv6Arbitrary, ports: fc.tuple(fc.nat(65535), fc.nat(65535)) }).map(({ source, destination, ports }) => ({
    header: v1('TCP6', source, destination, ports[0], ports[1]),
    source: expectedIPv6(source),
  })),
  fc.record({ source: fc.ipV4(), tlvs: fc.uint8Array({ maxLength: 40 }) }).map(({ source, tlvs }) => ({
    header: v2({ command: 'proxy', family: 'inet', source, tlvs: Buffer.from(tlvs) }),
    source,
  })),
  fc.record({ source: ipv6Arbitrary, tlvs: fc.uint8Array({ maxLength: 40 }) }).map(({ source, tlvs }) => ({
    header: v2({ command: 'proxy', family: 'inet6', source, tlvs: Buffer.from(tlvs) }),
    source: expectedIPv6(source),
  })),
  fc.constantFrom<V2Header['family']>('unspec', 'inet', 'inet6', 'unix').map((family) => ({ header: v2({ command: 'local', family }), source: undefined })),
  fc.constant({ header: v1('UNKNOWN'), source: undefined }),
);

describe('parseProxyHeader', () => {
  it('random bytes never throw, never pass a malformed header, and parse the same split anywhere', () => {
    const nearlyHeaders = fc.oneof(
      fc.uint8Array({ maxLength: 160 }),
      fc.uint8Array({ maxLength: 140 }).map((rest) => Buffer.concat([Buffer.from('PROXY ', 'latin1'), rest])),
      fc.uint8Array({ maxLength: 80 }).map((rest) => Buffer.concat([SIGNATURE, rest])),
      fc.tuple(fc.constantFrom('TCP4 ', 'TCP6 ', 'UNKNOWN', 'TCP4 1.2.3.4 5.6.7.8 '), fc.string({ maxLength: 60 })).map(([proto, rest]) => Buffer.from(`PROXY ${proto}${rest}\r\n`, 'latin1')),
    );
    fc.assert(
      fc.property(nearlyHeaders, (array) => {
        const bytes = Buffer.from(array);
        const result = assertMonotone(bytes);
        if (result.kind === 'complete') {
          assert.ok(wellFormed(bytes, result.length), `accepted ${bytes.subarray(0, result.length).toString('hex')}`);
          if (result.source !== undefined) assert.ok(net.isIP(result.source) !== 0, `source ${result.source}`);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('random valid headers, with trailing bytes, parse to their source address and length', () => {
    fc.assert(
      fc.property(validHeader, fc.uint8Array({ maxLength: 20 }), ({ header, source }, trailing) => {
        const bytes = Buffer.concat([header, trailing]);
        const result = assertMonotone(bytes);
        assert.deepEqual(result, source === undefined ? { kind: 'complete', length: header.length } : { kind: 'complete', length: header.length, source });
      }),
      { numRuns: 300 },
    );
  });

  it('a truncated valid header is incomplete, never accepted', () => {
    fc.assert(
      fc.property(validHeader, fc.nat(), ({ header }, cut) => {
        const result = parseProxyHeader(header.subarray(0, cut % header.length));
        assert.equal(result.kind, 'incomplete');
      }),
    );
  });
});

describe('PROXY protocol over real sockets, random input', () => {
  let harness: Harness;
  before(async () => {
    harness = await start(http.createServer(), { headerTimeoutMs: 300 });
  });
  after(() => harness.close());

  it('random valid headers split at random points reach the server with their address and the request intact', async () => {
    await fc.assert(
      fc.asyncProperty(validHeader, fc.array(fc.nat(200), { maxLength: 4 }), async ({ header, source }, cuts) => {
        const whole = Buffer.concat([header, POST]);
        const { echo: answer } = await exchange(harness.port, splitAt(whole, cuts));
        assert.deepEqual(answer, { client: source ?? '127.0.0.1', url: '/chat?room=1', body: 'hello world' });
      }),
      { numRuns: 25 },
    );
  });

  it('random bytes are never handed to the server', async () => {
    const handedOver = harness.handedOver;
    const requests = harness.requests;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 120 }),
          fc.uint8Array({ maxLength: 60 }).map((rest) => Buffer.concat([Buffer.from('PROXY ', 'latin1'), rest])),
          fc.uint8Array({ maxLength: 40 }).map((rest) => Buffer.concat([SIGNATURE, rest])),
        ),
        async (array) => {
          const bytes = Buffer.from(array);
          fc.pre(parseProxyHeader(bytes).kind !== 'complete');
          const result = await exchange(harness.port, [bytes]);
          assert.equal(result.closedByServer, true);
          assert.equal(result.text, '');
        },
      ),
      { numRuns: 25 },
    );
    assert.equal(harness.handedOver, handedOver);
    assert.equal(harness.requests, requests);
  });
});

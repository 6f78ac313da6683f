import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net, { type Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, WebSocketServer, type RawData, type ServerOptions, type ClientOptions } from 'ws';
import { readHead, startUpgradePair, type PairOptions, type UpgradePair } from '../../support/upgrade-pair.ts';

// --- peers -------------------------------------------------------------------------------------

interface Upstream {
  readonly port: number;
  /** The next server-side WebSocket, in order of connection. */
  next(): Promise<WebSocket>;
}

/** A real `ws` server; `onConnection` decides its behaviour (echo by default). */
async function wsUpstream(t: TestContext, onConnection: (ws: WebSocket) => void = echo, options: ServerOptions = {}): Promise<Upstream> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, ...options });
  const queue = new Queue<WebSocket>();
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    onConnection(ws);
    queue.push(ws);
  });
  await once(wss, 'listening');
  t.after(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  });
  return { port: (wss.address() as net.AddressInfo).port, next: () => queue.shift() };
}

function echo(ws: WebSocket): void {
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (!isBinary && data.toString() === 'fragmented please') {
      ws.send('frag', { fin: false });
      ws.send('ment', { fin: true });
      return;
    }
    ws.send(data as Buffer, { binary: isBinary });
  });
}

async function proxyTo(t: TestContext, upstreamPort: number, options: PairOptions = {}): Promise<UpgradePair> {
  const pair = await startUpgradePair(upstreamPort, options);
  t.after(() => pair.close());
  return pair;
}

async function wsClient(t: TestContext, port: number, options: ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false, ...options });
  ws.on('error', () => {});
  t.after(() => ws.terminate());
  await once(ws, 'open');
  return ws;
}

/** Every message a WebSocket receives, as it arrives. */
function messages(ws: WebSocket): Queue<{ data: Buffer; isBinary: boolean }> {
  const queue = new Queue<{ data: Buffer; isBinary: boolean }>();
  ws.on('message', (data: RawData, isBinary: boolean) => queue.push({ data: data as Buffer, isBinary }));
  return queue;
}

function closeEvent(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
}

class Queue<T> {
  private readonly items: T[] = [];
  private readonly takers: Array<(item: T) => void> = [];
  readonly all: T[] = [];
  push(item: T): void {
    this.all.push(item);
    const taker = this.takers.shift();
    if (taker) taker(item);
    else this.items.push(item);
  }
  shift(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    return new Promise((resolve) => this.takers.push(resolve));
  }
}

// Raw peers, for what `ws` will not do: half-close, stalling mid-frame, never reading.

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

async function rawClient(t: TestContext, port: number): Promise<{ socket: Socket; rest: Buffer }> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  await once(socket, 'connect');
  const key = randomBytes(16).toString('base64');
  socket.write(`GET / HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const { head, rest } = await readHead(socket);
  assert.match(head.toString(), /^HTTP\/1\.1 101 /);
  return { socket, rest };
}

async function rawUpstream(t: TestContext): Promise<{ port: number; next(): Promise<{ socket: Socket; rest: Buffer }> }> {
  const queue = new Queue<{ socket: Socket; rest: Buffer }>();
  const sockets = new Set<Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    readHead(socket).then(({ head, rest }) => {
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head.toString())?.[1] ?? '';
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      queue.push({ socket, rest });
    }, () => socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as net.AddressInfo).port, next: () => queue.shift() };
}

/** A frame as a peer writes it (RFC 6455 §5.2); clients mask. */
function encodeFrame(opcode: number, payload: Buffer, masked: boolean): Buffer {
  const long = payload.length >= 126;
  const head = Buffer.alloc(2 + (long ? 2 : 0) + (masked ? 4 : 0));
  head[0] = 0x80 | opcode;
  head[1] = (masked ? 0x80 : 0) | (long ? 126 : payload.length);
  if (long) head.writeUInt16BE(payload.length, 2);
  if (!masked) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  key.copy(head, head.length - 4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ key[i % 4]!;
  return Buffer.concat([head, body]);
}

/** Collect what a raw socket receives until it ends or closes. */
function collect(socket: Socket, already: Buffer = Buffer.alloc(0)): Promise<Buffer> {
  const chunks: Buffer[] = [already];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.resume();
  return new Promise((resolve) => {
    const done = (): void => resolve(Buffer.concat(chunks));
    socket.once('end', done);
    socket.once('close', done);
  });
}

/** Poll until `read()` stops changing: the flow it measures is stuck. */
async function untilSteady(read: () => number): Promise<void> {
  let last = -1;
  let steady = 0;
  while (steady < 8) {
    await sleep(50);
    const now = read();
    steady = now === last && now > 0 ? steady + 1 : 0;
    last = now;
  }
}

// --- data --------------------------------------------------------------------------------------

test('echo: text, binary, 1 MiB and fragmented messages arrive intact both ways', async (t) => {
  const upstream = await wsUpstream(t);
  const pair = await proxyTo(t, upstream.port);
  const client = await wsClient(t, pair.port);
  const received = messages(client);
  const connection = await pair.nextConnection();

  client.send('hello');
  assert.deepEqual(await received.shift(), { data: Buffer.from('hello'), isBinary: false });
  const binary = randomBytes(100);
  client.send(binary);
  assert.deepEqual(await received.shift(), { data: binary, isBinary: true });
  const large = randomBytes(1024 * 1024);
  client.send(large);
  assert.deepEqual(await received.shift(), { data: large, isBinary: true });
  // Fragmented toward the upstream (3 frames, one message), and back from it (2 frames).
  client.send('fragmented', { fin: false });
  client.send(' ', { fin: false });
  client.send('please', { fin: true });
  assert.deepEqual(await received.shift(), { data: Buffer.from('fragment'), isBinary: false });

  client.close(1000);
  const result = await connection.result;
  assert.equal(result.code, 1000);
  assert.equal(result.side, 'client');
  assert.equal(result.messagesUp, 4);
  assert.equal(result.messagesDown, 4);
});

test('permessage-deflate negotiated end to end: compressed bytes pass untouched', async (t) => {
  const upstream = await wsUpstream(t, echo, { perMessageDeflate: { threshold: 0 } });
  const pair = await proxyTo(t, upstream.port);
  const client = await wsClient(t, pair.port, { perMessageDeflate: { threshold: 0 } });
  const server = await upstream.next();
  assert.match(client.extensions, /permessage-deflate/);
  assert.match(server.extensions, /permessage-deflate/);
  const received = messages(client);
  const text = 'all work and no play '.repeat(10_000);
  client.send(text);
  const echoed = await received.shift();
  assert.equal(echoed.data.toString(), text);
  // What crossed the proxy is the compressed form: far smaller than the 210 KB message.
  assert.ok(pair.traffic.bytesUp < 20_000, `bytesUp ${pair.traffic.bytesUp}`);
  assert.ok(pair.traffic.bytesDown < 20_000, `bytesDown ${pair.traffic.bytesDown}`);
  assert.equal(pair.traffic.messagesUp, 1);
  assert.equal(pair.traffic.messagesDown, 1);
});

test('traffic counters: wire bytes after the handshake and whole messages, live and in the result', async (t) => {
  const upstream = await wsUpstream(t);
  const pair = await proxyTo(t, upstream.port);
  const client = await wsClient(t, pair.port);
  const received = messages(client);
  const connection = await pair.nextConnection();
  const sizes = [5, 200, 70_000];
  for (const size of sizes) {
    client.send(Buffer.alloc(size, 1));
    await received.shift();
  }
  // Client frames are masked (+4); lengths over 125 take 2 more bytes, over 65535 take 8.
  const header = (size: number): number => 2 + (size > 65535 ? 8 : size > 125 ? 2 : 0);
  const up = sizes.reduce((sum, size) => sum + size + header(size) + 4, 0);
  const down = sizes.reduce((sum, size) => sum + size + header(size), 0);
  assert.deepEqual(pair.traffic, { bytesUp: up, bytesDown: down, messagesUp: 3, messagesDown: 3 });

  client.close(1000);
  const result = await connection.result;
  // The close frames: masked 1000 up (2 + 4 + 2), its unmasked echo down (2 + 2).
  assert.equal(result.bytesUp, up + 8);
  assert.equal(result.bytesDown, down + 4);
  assert.equal(result.messagesUp, 3);
  assert.equal(result.messagesDown, 3);
  assert.deepEqual(pair.traffic, { bytesUp: up + 8, bytesDown: down + 4, messagesUp: 3, messagesDown: 3 });
});

// --- closing -----------------------------------------------------------------------------------

test('close 4000 from the client is reported as client, and reaches the upstream', async (t) => {
  const upstream = await wsUpstream(t);
  const pair = await proxyTo(t, upstream.port);
  const client = await wsClient(t, pair.port);
  const server = await upstream.next();
  const connection = await pair.nextConnection();
  const serverClosed = closeEvent(server);
  const clientClosed = closeEvent(client);
  client.close(4000, 'bye');
  assert.deepEqual(await serverClosed, { code: 4000, reason: 'bye' });
  assert.equal((await clientClosed).code, 4000);
  const result = await connection.result;
  assert.equal(result.code, 4000);
  assert.equal(result.side, 'client');
  assert.ok(connection.client.destroyed && connection.upstream.destroyed);
});

test('close 4001 from the upstream is reported as upstream, and reaches the client', async (t) => {
  const upstream = await wsUpstream(t);
  const pair = await proxyTo(t, upstream.port);
  const client = await wsClient(t, pair.port);
  const server = await upstream.next();
  const connection = await pair.nextConnection();
  const clientClosed = closeEvent(client);
  server.close(4001, 'later');
  assert.deepEqual(await clientClosed, { code: 4001, reason: 'later' });
  const result = await connection.result;
  assert.equal(result.code, 4001);
  assert.equal(result.side, 'upstream');
});

test('upstream lost mid-stream: the client gets 1014, the report says 1006 upstream', async (t) => {
  const upstream = await wsUpstream(t);
  const pair = await proxyTo(t, upstream.port);
  const client = await wsClient(t, pair.port);
  const received = messages(client);
  const server = await upstream.next();
  const connection = await pair.nextConnection();
  const clientClosed = closeEvent(client);
  server.send('before');
  assert.equal((await received.shift()).data.toString(), 'before');
  server.terminate();
  assert.equal((await clientClosed).code, 1014);
  const result = await connection.result;
  assert.deepEqual([result.code, result.side], [1006, 'upstream']);
});

test('upstream lost in the middle of a frame: no boundary, so the client connection is closed without a close frame', async (t) => {
  const upstream = await rawUpstream(t);
  const pair = await proxyTo(t, upstream.port);
  const { socket, rest } = await rawClient(t, pair.port);
  const server = await upstream.next();
  const connection = await pair.nextConnection();
  const received = collect(socket, rest);
  const whole = encodeFrame(0x2, Buffer.alloc(1000, 7), false);
  server.socket.write(whole.subarray(0, 500));
  await untilSteady(() => connection.client.bytesWritten);
  server.socket.destroy();
  const bytes = await received;
  assert.deepEqual(bytes, whole.subarray(0, 500), 'only the partial frame, no close frame after it');
  const result = await connection.result;
  assert.deepEqual([result.code, result.side], [1006, 'upstream']);
});

test('client lost: reported 1006 client, and the upstream sees its TCP end', async (t) => {
  const upstream = await wsUpstream(t);
  const pair = await proxyTo(t, upstream.port);
  const client = await wsClient(t, pair.port);
  const server = await upstream.next();
  const connection = await pair.nextConnection();
  const serverClosed = closeEvent(server);
  client.terminate();
  // ws reports 1006 when the TCP connection ends without a close frame.
  assert.equal((await serverClosed).code, 1006);
  const result = await connection.result;
  assert.deepEqual([result.code, result.side], [1006, 'client']);
});

test('connection reset by the client (ECONNRESET) is handled: 1006 client, the upstream sees its TCP end', async (t) => {
  const upstream = await wsUpstream(t);
  const pair = await proxyTo(t, upstream.port);
  const { socket } = await rawClient(t, pair.port);
  const server = await upstream.next();
  const connection = await pair.nextConnection();
  const serverClosed = closeEvent(server);
  socket.resetAndDestroy();
  assert.equal((await serverClosed).code, 1006);
  const result = await connection.result;
  assert.deepEqual([result.code, result.side], [1006, 'client']);
});

test('connection reset by the upstream (ECONNRESET) is handled: the client gets 1014, reported 1006 upstream', async (t) => {
  const upstream = await rawUpstream(t);
  const pair = await proxyTo(t, upstream.port);
  const client = await wsClient(t, pair.port);
  const received = messages(client);
  const server = await upstream.next();
  const connection = await pair.nextConnection();
  const clientClosed = closeEvent(client);
  server.socket.write(encodeFrame(0x1, Buffer.from('before'), false));
  assert.equal((await received.shift()).data.toString(), 'before');
  server.socket.resetAndDestroy();
  assert.equal((await clientClosed).code, 1014);
  const result = await connection.result;
  assert.deepEqual([result.code, result.side], [1006, 'upstream']);
});

test('relay.close(): 1001 to both sides (masked toward the upstream, which ws requires), reported 1001 proxy', async (t) => {
  const upstream = await wsUpstream(t);
  const pair = await proxyTo(t, upstream.port);
  const client = await wsClient(t, pair.port);
  const server = await upstream.next();
  const connection = await pair.nextConnection();
  const serverClosed = closeEvent(server);
  const clientClosed = closeEvent(client);
  connection.relay.close();
  assert.equal((await serverClosed).code, 1001);
  assert.equal((await clientClosed).code, 1001);
  const result = await connection.result;
  assert.deepEqual([result.code, result.side], [1001, 'proxy']);
  assert.equal(connection.relay.ended, true);
});

test('relay.close() during a large frame waits for its end: the client gets the whole message, then 1001', async (t) => {
  const upstream = await wsUpstream(t);
  const pair = await proxyTo(t, upstream.port);
  const client = await wsClient(t, pair.port);
  const received = messages(client);
  const server = await upstream.next();
  const connection = await pair.nextConnection();
  const clientClosed = closeEvent(client);
  const large = randomBytes(4 * 1024 * 1024);
  connection.upstream.once('data', () => connection.relay.close());
  server.send(large);
  assert.equal((await clientClosed).code, 1001);
  assert.equal(received.all.length, 1);
  assert.deepEqual(received.all[0]!.data, large);
  const result = await connection.result;
  assert.deepEqual([result.code, result.side], [1001, 'proxy']);
});

test('no frame boundary within closeTimeoutMs: both connections are destroyed', async (t) => {
  const upstream = await rawUpstream(t);
  const pair = await proxyTo(t, upstream.port, { closeTimeoutMs: 200 });
  const { socket, rest } = await rawClient(t, pair.port);
  const server = await upstream.next();
  const connection = await pair.nextConnection();
  const received = collect(socket, rest);
  const whole = encodeFrame(0x2, Buffer.alloc(1000, 7), false);
  server.socket.write(whole.subarray(0, 500)); // and stalls
  await untilSteady(() => connection.client.bytesWritten);
  connection.relay.close();
  const result = await connection.result;
  assert.deepEqual([result.code, result.side], [1001, 'proxy']);
  assert.deepEqual(await received, whole.subarray(0, 500), 'no close frame inside a frame');
});

test('idle timeout: 1001 to both sides', async (t) => {
  const upstream = await wsUpstream(t);
  const pair = await proxyTo(t, upstream.port, { idleTimeoutMs: 300 });
  const client = await wsClient(t, pair.port);
  const server = await upstream.next();
  const connection = await pair.nextConnection();
  const serverClosed = closeEvent(server);
  const clientClosed = closeEvent(client);
  assert.equal((await clientClosed).code, 1001);
  assert.equal((await serverClosed).code, 1001);
  const result = await connection.result;
  assert.deepEqual([result.code, result.side], [1001, 'proxy']);
});

/**
 * Sends a message from `sender` every 40 ms for `forMs`, then stops; resolves with how many were
 * sent, when the last one was, and whether the connection was open throughout.
 */
async function talkFor(sender: WebSocket, forMs: number): Promise<{ sent: number; lastSentAt: number; openThroughout: boolean }> {
  const until = performance.now() + forMs;
  let lastSentAt = performance.now();
  let sent = 0;
  while (performance.now() < until) {
    if (sender.readyState !== WebSocket.OPEN) return { sent, lastSentAt, openThroughout: false };
    sender.send('tick');
    sent++;
    lastSentAt = performance.now();
    await sleep(40);
  }
  return { sent, lastSentAt, openThroughout: sender.readyState === WebSocket.OPEN };
}

for (const talker of ['client', 'upstream'] as const) {
  test(`idle timeout: a connection where only the ${talker} talks is not idle, and is cut only a whole timeout after it stops`, async (t) => {
    const idleMs = 400;
    // No echo: bytes flow in one direction only.
    const upstream = await wsUpstream(t, () => {});
    const pair = await proxyTo(t, upstream.port, { idleTimeoutMs: idleMs });
    const client = await wsClient(t, pair.port);
    const server = await upstream.next();
    const connection = await pair.nextConnection();
    const clientClosed = closeEvent(client);
    const closedAt = clientClosed.then(() => performance.now());
    const { sent, lastSentAt, openThroughout } = await talkFor(talker === 'client' ? client : server, idleMs * 3);
    assert.equal(openThroughout, true, `one-way traffic for ${idleMs * 3} ms kept the connection open`);
    assert.equal((await clientClosed).code, 1001);
    // The lower bound only: the sweep may be late on a loaded machine, never early.
    assert.ok((await closedAt) - lastSentAt >= idleMs, `cut ${((await closedAt) - lastSentAt).toFixed(0)} ms after the last byte, not before ${idleMs}`);
    const result = await connection.result;
    assert.deepEqual([result.code, result.side], [1001, 'proxy']);
    assert.deepEqual([result.messagesUp, result.messagesDown], talker === 'client' ? [sent, 0] : [0, sent]);
  });
}

test('idle timeout off (0): a silent connection stays open', async (t) => {
  const upstream = await wsUpstream(t);
  const pair = await proxyTo(t, upstream.port, { idleTimeoutMs: 0 });
  const client = await wsClient(t, pair.port);
  await upstream.next();
  await sleep(300);
  assert.equal(client.readyState, WebSocket.OPEN);
  const received = messages(client);
  client.send('still there');
  assert.equal((await received.shift()).data.toString(), 'still there');
});

test('maxMessageSize from the client: it gets 1009, the upstream 1001 and never the oversized message', async (t) => {
  const upstream = await wsUpstream(t);
  const pair = await proxyTo(t, upstream.port, { maxMessageSize: 1000 });
  const client = await wsClient(t, pair.port);
  const received = messages(client);
  const server = await upstream.next();
  const serverReceived = messages(server);
  const connection = await pair.nextConnection();
  const serverClosed = closeEvent(server);
  const clientClosed = closeEvent(client);
  client.send(Buffer.alloc(1000, 1)); // at the limit: passes
  assert.equal((await received.shift()).data.length, 1000);
  client.send(Buffer.alloc(1001, 2));
  assert.equal((await clientClosed).code, 1009);
  assert.equal((await serverClosed).code, 1001);
  assert.equal(serverReceived.all.length, 1);
  assert.equal(serverReceived.all[0]!.data.length, 1000);
  const result = await connection.result;
  assert.deepEqual([result.code, result.side], [1009, 'proxy']);
  assert.equal(result.messagesUp, 1);
});

test('maxMessageSize from the upstream: it gets 1009, the client 1001 and never the oversized message', async (t) => {
  const upstream = await wsUpstream(t, (ws) => ws.on('message', () => ws.send(Buffer.alloc(5000))));
  const pair = await proxyTo(t, upstream.port, { maxMessageSize: 4999 });
  const client = await wsClient(t, pair.port);
  const received = messages(client);
  const server = await upstream.next();
  const connection = await pair.nextConnection();
  const serverClosed = closeEvent(server);
  const clientClosed = closeEvent(client);
  client.send('go');
  assert.equal((await clientClosed).code, 1001);
  assert.equal((await serverClosed).code, 1009);
  assert.equal(received.all.length, 0);
  const result = await connection.result;
  assert.deepEqual([result.code, result.side], [1009, 'proxy']);
});

test('half-close passes through: the client ends, the upstream still answers and then ends', async (t) => {
  const upstream = await rawUpstream(t);
  const pair = await proxyTo(t, upstream.port);
  const { socket, rest } = await rawClient(t, pair.port);
  const server = await upstream.next();
  const connection = await pair.nextConnection();
  const clientReceived = collect(socket, rest);

  const last = encodeFrame(0x1, Buffer.from('last words'), true);
  const serverGot = new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [server.rest];
    server.socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    server.socket.once('end', () => resolve(Buffer.concat(chunks)));
    server.socket.resume();
  });
  socket.end(last);
  assert.deepEqual(await serverGot, last, 'the frame, untouched, then FIN');

  const reply = encodeFrame(0x1, Buffer.from('still here'), false);
  server.socket.end(reply);
  assert.deepEqual(await clientReceived, reply);
  const result = await connection.result;
  assert.deepEqual([result.code, result.side], [1006, 'client']);
  assert.equal(result.messagesUp, 1);
  assert.equal(result.messagesDown, 1);
});

// --- backpressure ------------------------------------------------------------------------------

test('a client that never reads does not make the proxy buffer: the upstream is held back', async (t) => {
  const messageSize = 60_000;
  const count = 1600; // 96 MB: far beyond what the kernel's socket buffers can absorb
  const frameSize = messageSize + 4;
  const upstream = await wsUpstream(t, (ws) => {
    const payload = Buffer.alloc(messageSize, 3);
    for (let i = 0; i < count; i++) ws.send(payload);
  });
  const pair = await proxyTo(t, upstream.port);
  const { socket, rest } = await rawClient(t, pair.port); // paused: never reads for now
  const server = await upstream.next();
  const connection = await pair.nextConnection();

  await untilSteady(() => connection.upstream.bytesRead);
  const heldByProxy = connection.upstream.bytesRead - (connection.client.bytesWritten - connection.client.writableLength);
  assert.ok(connection.client.writableLength <= 1024 * 1024, `client writableLength ${connection.client.writableLength}`);
  assert.ok(heldByProxy <= 1024 * 1024, `proxy holds ${heldByProxy} bytes`);
  assert.ok(server.bufferedAmount > 0, 'the upstream is the one left holding its data');
  assert.ok(connection.upstream.bytesRead < count * frameSize);

  // Nothing was lost: once the client reads, every byte arrives.
  let total = rest.length;
  socket.on('data', (chunk: Buffer) => {
    total += chunk.length;
    if (total === count * frameSize) socket.destroy();
  });
  socket.resume();
  await once(socket, 'close');
  assert.equal(total, count * frameSize);
});

test('an upstream that never reads does not make the proxy buffer: the client is held back', async (t) => {
  const upstream = await rawUpstream(t);
  const pair = await proxyTo(t, upstream.port);
  const client = await wsClient(t, pair.port);
  await upstream.next(); // and never read from it
  const connection = await pair.nextConnection();
  const payload = Buffer.alloc(60_000, 4);
  for (let i = 0; i < 1600; i++) client.send(payload);

  await untilSteady(() => connection.client.bytesRead);
  const heldByProxy = connection.client.bytesRead - (connection.upstream.bytesWritten - connection.upstream.writableLength);
  assert.ok(connection.upstream.writableLength <= 1024 * 1024, `upstream writableLength ${connection.upstream.writableLength}`);
  assert.ok(heldByProxy <= 1024 * 1024, `proxy holds ${heldByProxy} bytes`);
  assert.ok(client.bufferedAmount > 0, 'the client is the one left holding its data');
});

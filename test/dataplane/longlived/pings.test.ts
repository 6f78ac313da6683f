// SPEC §6 ping-interval / ping-timeout through a real proxy: ws clients and ws upstreams on
// loopback; the proxy's pings, the pongs it swallows, and the cut of a side that stops answering.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import {
  closed, connect, endpoint, eventually, metricValue, nextMessage, pool, route, scrape, snapshot, startTestProxy, startUpstream,
  type TestProxy, type TestUpstream,
} from '../../support/proxy.ts';
import { OPCODE_PING, OPCODE_PONG, framesOf } from './frames-of.ts';

const INTERVAL_MS = 300;
const TIMEOUT_MS = 300;

describe('proxy pings', () => {
  let upstream: TestUpstream;
  let proxy: TestProxy;
  /** Bytes each upstream connection read after its handshake, by request path. */
  const received = new Map<string, Buffer[]>();
  const serverSide = new Map<string, WebSocket>();

  before(async () => {
    upstream = await startUpstream('echo', (ws, req) => {
      const path = req.url ?? '';
      serverSide.set(path, ws);
      const chunks: Buffer[] = [];
      received.set(path, chunks);
      // Before ws's own listener, which unmasks payloads in place.
      (ws as unknown as { _socket: Socket })._socket.prependListener('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    const policy = { pingInterval: `${INTERVAL_MS}ms`, pingTimeout: `${TIMEOUT_MS}ms` };
    proxy = await startTestProxy(snapshot(
      [route('/', 'echo', { source: { namespace: 'ns', ingress: 'pinged' }, policy })],
      [pool('echo', [endpoint(upstream.port)], { source: { namespace: 'ns', service: 'echo' } })],
    ));
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  const metric = async (name: string, labels: Record<string, string>): Promise<number> =>
    metricValue(await scrape(proxy.adminPort), name, { namespace: 'ns', ingress: 'pinged', service: 'echo', ...labels });

  test('a client that answers keeps its connection, and no pong reaches the upstream (byte for byte)', async () => {
    const ws = await connect(proxy.wsUrl('/answers'), { perMessageDeflate: false });
    const sent: Buffer[] = [];
    const socket = (ws as unknown as { _socket: Socket })._socket;
    const write = socket.write.bind(socket);
    socket.write = ((chunk: Buffer, ...rest: unknown[]) => {
      sent.push(Buffer.from(chunk));
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof socket.write;
    let pingsSeen = 0;
    ws.on('ping', () => pingsSeen++);
    // Quiet long enough for several rounds of pings, with a message now and then.
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, (INTERVAL_MS + TIMEOUT_MS) * 1.5));
      ws.send(`hello ${i}`);
      assert.equal(await nextMessage(ws), `hello ${i}`);
    }
    assert.ok(pingsSeen >= 2, `the client was pinged (${pingsSeen})`);
    assert.equal(ws.readyState, ws.OPEN, 'still open');
    const clientFrames = framesOf(Buffer.concat(sent));
    assert.ok(clientFrames.some((f) => f.opcode === OPCODE_PONG), 'the client answered with pongs');
    const expected = Buffer.concat(clientFrames.filter((f) => f.opcode !== OPCODE_PONG).map((f) => f.bytes));
    await eventually(() => Buffer.concat(received.get('/answers') ?? []).length >= expected.length, 'the upstream read it all');
    const gotFrames = framesOf(Buffer.concat(received.get('/answers')!));
    assert.equal(gotFrames.filter((f) => f.opcode === OPCODE_PONG).length, 0, 'no pong forwarded to the upstream');
    // The upstream, quiet between echoes, was pinged by the proxy too: those pings are the proxy's own.
    const got = Buffer.concat(gotFrames.filter((f) => f.opcode !== OPCODE_PING).map((f) => f.bytes));
    assert.ok(got.equals(expected), 'the upstream read exactly what the client sent, pongs excepted');
    ws.close(1000);
    await closed(ws);
    assert.equal(await metric('wsgate_ping_timeouts_total', { side: 'client' }), 0);
  });

  test('the upstream is pinged when it is silent, and its pongs never reach the client', async () => {
    const ws = await connect(proxy.wsUrl('/upstream-pinged'), { perMessageDeflate: false });
    await eventually(() => serverSide.has('/upstream-pinged'), 'upstream saw it');
    let upstreamPings = 0;
    serverSide.get('/upstream-pinged')!.on('ping', () => upstreamPings++);
    const clientFrames: Buffer[] = [];
    (ws as unknown as { _socket: Socket })._socket.on('data', (chunk: Buffer) => clientFrames.push(Buffer.from(chunk)));
    await eventually(() => upstreamPings >= 2, 'two pings reached the upstream', 5000);
    const opcodes = framesOf(Buffer.concat(clientFrames)).map((f) => f.opcode);
    assert.ok(opcodes.every((op) => op === OPCODE_PING), `the client saw only the proxy's pings: ${opcodes.join(',')}`);
    ws.close(1000);
    await closed(ws);
  });

  test('a client that stops answering is cut after interval + timeout: 1006 client, the upstream gets 1001', async () => {
    const before = await metric('wsgate_close_codes_total', { code: '1006', side: 'client' });
    const ws = await connect(proxy.wsUrl('/silent'), { autoPong: false });
    await eventually(() => serverSide.has('/silent'), 'upstream saw it');
    const upstreamClose = new Promise<number>((resolve) => serverSide.get('/silent')!.once('close', (code) => resolve(code)));
    const started = performance.now();
    const result = await closed(ws);
    const elapsed = performance.now() - started;
    assert.equal(result.code, 1006, 'the client\'s TCP was cut without a close frame');
    assert.ok(elapsed >= INTERVAL_MS + TIMEOUT_MS - 50, `not before interval + timeout (${Math.round(elapsed)} ms)`);
    assert.ok(elapsed < INTERVAL_MS + TIMEOUT_MS + 3000, `soon after interval + timeout (${Math.round(elapsed)} ms)`);
    assert.equal(await upstreamClose, 1001, 'the upstream was told the client is gone');
    await eventually(async () => (await metric('wsgate_ping_timeouts_total', { side: 'client' })) === 1, 'ping timeout counted');
    assert.equal(await metric('wsgate_close_codes_total', { code: '1006', side: 'client' }), before + 1);
  });

  test('an upstream that stops answering is cut: the client gets 1014, counted 1006 upstream', async () => {
    const ws = await connect(proxy.wsUrl('/upstream-silent'));
    await eventually(() => serverSide.has('/upstream-silent'), 'upstream saw it');
    // ws answers pings from inside its receiver; pausing the socket stops it reading them.
    (serverSide.get('/upstream-silent')! as unknown as { _socket: Socket })._socket.pause();
    const result = await closed(ws);
    assert.equal(result.code, 1014);
    await eventually(async () => (await metric('wsgate_ping_timeouts_total', { side: 'upstream' })) === 1, 'ping timeout counted');
    await eventually(async () => (await metric('wsgate_close_codes_total', { code: '1006', side: 'upstream' })) === 1, '1006 upstream');
  });
});

// README: the pongs count as bytes for idle-timeout, so answering peers are not idle.
describe('proxy pings and the idle timeout', () => {
  const IDLE_MS = 500;
  let upstream: TestUpstream;
  let proxy: TestProxy;

  before(async () => {
    upstream = await startUpstream('echo', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    proxy = await startTestProxy(snapshot(
      [route('/', 'echo', { source: { namespace: 'ns', ingress: 'pinged-idle' }, policy: { pingInterval: '100ms', pingTimeout: '2s' } })],
      [pool('echo', [endpoint(upstream.port)], { source: { namespace: 'ns', service: 'echo' }, idleTimeout: `${IDLE_MS}ms` })],
    ));
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  test('peers that only answer pings are not idle', async () => {
    const ws = await connect(proxy.wsUrl('/quiet'), { perMessageDeflate: false });
    let pings = 0;
    ws.on('ping', () => pings++);
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 3));
    assert.equal(ws.readyState, ws.OPEN, `open after ${IDLE_MS * 3} ms without a data frame`);
    assert.ok(pings >= 2, `pinged (${pings})`);
    ws.send('still here');
    assert.equal(await nextMessage(ws), 'still here');
    ws.close(1000);
    await closed(ws);
  });
});

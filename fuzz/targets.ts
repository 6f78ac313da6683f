// What the fuzzers aim at: a real `wsgate proxy` in front of a raw recording upstream on
// 127.0.0.1. The upstream does the handshake by hand and then records every byte it receives and
// echoes each frame back unmasked, so a fuzzer can compare bytes exactly in both directions.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { startWsgateProxy, type WsgateUnderTest } from '../test/hardening/differential-support.ts';

export interface RecordingUpstream {
  port: number;
  /** Raw bytes received after the handshake, per connection, keyed by its X-Fuzz-Id header. */
  received: Map<string, Buffer[]>;
  close(): Promise<void>;
}

export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const received = new Map<string, Buffer[]>();
  const upgraded = new Set<Socket>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  server.on('upgrade', (req, socket: Socket, rest: Buffer) => {
    const id = String(req.headers['x-fuzz-id'] ?? 'anonymous');
    const chunks: Buffer[] = [];
    received.set(id, chunks);
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.on('error', () => {});
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    socket.on('end', () => socket.destroy());
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    let pending = Buffer.alloc(0);
    const take = (data: Buffer): void => {
      chunks.push(data);
      pending = Buffer.concat([pending, data]);
      for (;;) {
        const frame = unmaskOne(pending);
        if (frame === undefined) break;
        pending = pending.subarray(frame.consumed);
        socket.write(frame.unmasked);
      }
    };
    if (rest.length > 0) take(rest);
    socket.on('data', take);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
      }),
  };
}

/** The first complete frame of `buffer` re-encoded without a mask, or undefined when incomplete. */
export function unmaskOne(buffer: Buffer): { unmasked: Buffer; consumed: number } | undefined {
  if (buffer.length < 2) return undefined;
  const masked = (buffer[1]! & 0x80) !== 0;
  let length = buffer[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return undefined;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return undefined;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  const maskAt = offset;
  if (masked) offset += 4;
  if (buffer.length < offset + length) return undefined;
  const payload = Buffer.from(buffer.subarray(offset, offset + length));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= buffer[maskAt + (i % 4)]!;
  return { unmasked: encodeFrame(buffer[0]!, payload), consumed: offset + length };
}

/** One frame; masked with `mask` when given (client to server). */
export function encodeFrame(firstByte: number, payload: Buffer, mask?: Buffer): Buffer {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + (mask ? 4 : 0));
  head[0] = firstByte;
  head[1] = (mask ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) head.writeUInt16BE(length, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(length), 2);
  if (!mask) return Buffer.concat([head, payload]);
  mask.copy(head, 2 + lengthBytes);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i % 4]!;
  return Buffer.concat([head, body]);
}

export interface FuzzTarget {
  upstream: RecordingUpstream;
  wsgate: WsgateUnderTest;
  stop(): Promise<void>;
}

export async function startFuzzTarget(headerTimeout = '1s'): Promise<FuzzTarget> {
  const upstream = await startRecordingUpstream();
  const wsgate = await startWsgateProxy({
    version: 1,
    routes: [{ host: '', path: '/', pathType: 'Prefix', pool: 'echo', source: { namespace: 'fuzz', ingress: 'echo' } }],
    pools: [{ name: 'echo', source: { namespace: 'fuzz', service: 'echo' }, endpoints: [{ address: '127.0.0.1', port: upstream.port, state: 'ready' }] }],
  }, ['--header-timeout', headerTimeout]);
  return {
    upstream,
    wsgate,
    stop: async () => {
      await wsgate.stop();
      await upstream.close();
    },
  };
}

// Frame sequences from fast-check: data frames fragmented at random, control frames interleaved,
// masked as a client must, written in random chunks. Every byte must reach the upstream as sent
// and come back (unmasked by the upstream) as the upstream wrote it.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import fc from 'fast-check';
import { encodeFrame, type FuzzTarget } from './targets.ts';

export interface FrameCase {
  frames: { first: number; payload: Buffer }[];
  cuts: number[];
}

const payload = (max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((bytes) => Buffer.from(bytes));
const control = fc.tuple(fc.constantFrom(0x89, 0x8a), payload(125)).map(([first, body]) => ({ first, payload: body }));

/** One message: a binary (or ASCII text) message in 1..4 fragments, controls in between. */
const message = fc
  .tuple(fc.constantFrom(0x1, 0x2), fc.array(payload(70_000).map((b) => b.subarray(0, b.length % 3 === 0 ? b.length : Math.min(b.length, 300))), { minLength: 1, maxLength: 4 }), fc.array(control, { maxLength: 2 }))
  .map(([opcode, parts, controls]) => {
    const frames: { first: number; payload: Buffer }[] = [];
    parts.forEach((part, i) => {
      const body = opcode === 0x1 ? Buffer.from(part.map((byte) => 0x20 + (byte % 0x5f))) : part;
      frames.push({ first: (i === parts.length - 1 ? 0x80 : 0) | (i === 0 ? opcode : 0), payload: body });
      const interleaved = controls[i];
      if (interleaved && i < parts.length - 1) frames.push(interleaved);
    });
    return frames;
  });

export const frameCase: fc.Arbitrary<FrameCase> = fc.record({
  frames: fc.array(message, { minLength: 1, maxLength: 5 }).map((messages) => messages.flat()),
  cuts: fc.array(fc.nat(), { maxLength: 8 }),
});

export function handshake(id: string): string {
  return `GET /fuzz HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nX-Fuzz-Id: ${id}\r\n\r\n`;
}

/** Opens a raw WebSocket through the proxy; resolves with the socket once the 101 head is in. */
export function openRaw(port: number, id: string): Promise<{ socket: net.Socket; after: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(handshake(id)));
    let head = Buffer.alloc(0);
    const onData = (data: Buffer): void => {
      head = Buffer.concat([head, data]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      if (!head.subarray(0, 12).toString('latin1').includes(' 101')) reject(new Error(`no 101: ${head.subarray(0, end).toString('latin1')}`));
      else resolve({ socket, after: head.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

let counter = 0;

/** Runs one case; resolves with the bytes relayed, or throws naming what differed. */
export async function runFrameCase(target: FuzzTarget, one: FrameCase, limitMs = 10_000): Promise<number> {
  const id = `frames-${process.pid}-${counter++}`;
  const { socket, after } = await openRaw(target.wsgate.ports.http, id);
  const sent = Buffer.concat(one.frames.map((f) => encodeFrame(f.first, f.payload, randomBytes(4))));
  const expectedBack = Buffer.concat(one.frames.map((f) => encodeFrame(f.first, f.payload)));
  const back: Buffer[] = [after];
  socket.on('data', (data: Buffer) => back.push(data));
  const cuts = [...new Set(one.cuts.map((c) => c % sent.length))].sort((x, y) => x - y);
  let from = 0;
  for (const cut of [...cuts, sent.length]) {
    if (cut > from) socket.write(sent.subarray(from, cut));
    from = cut;
  }
  const deadline = Date.now() + limitMs;
  try {
    while (Date.now() < deadline && Buffer.concat(back).length < expectedBack.length && !socket.destroyed) await new Promise((r) => setTimeout(r, 5));
    const got = Buffer.concat(back);
    const upstreamGot = Buffer.concat(target.upstream.received.get(id) ?? []);
    if (!upstreamGot.equals(sent)) throw new Error(`upstream received ${upstreamGot.length} bytes differing from the ${sent.length} sent`);
    if (!got.equals(expectedBack)) throw new Error(`client got ${got.length} bytes back differing from the ${expectedBack.length} expected`);
    return sent.length + got.length;
  } finally {
    socket.destroy();
    target.upstream.received.delete(id);
  }
}

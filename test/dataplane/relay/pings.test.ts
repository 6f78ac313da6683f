// catchPong at the byte level (SPEC §6 ping-interval): the proxy's pong is dropped from the
// stream it arrives in, every other byte passes in order, whatever the chunking; a pong split
// across reads passes through (an unsolicited pong is harmless, RFC 6455 §5.5.3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { FrameScanner } from '../../../src/dataplane/relay/frames.ts';
import { catchPong, encodePingFrame, type PingDirection } from '../../../src/dataplane/relay/pings.ts';

/** A masked pong echoing the payload of the proxy's ping, as a ws client answers it. */
function pongFor(ping: Buffer): Buffer {
  const payload = ping.subarray(2);
  const key = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ key[i & 3]!));
  return Buffer.concat([Buffer.from([0x8a, 0x80 | payload.length]), key, masked]);
}

function text(body: string): Buffer {
  const payload = Buffer.from(body);
  const key = Buffer.from([1, 2, 3, 4]);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), key, Buffer.from(payload.map((b, i) => b ^ key[i & 3]!))]);
}

function direction(): PingDirection & { forwarded: Buffer[] } {
  const scanner = new FrameScanner();
  const forwarded: Buffer[] = [];
  const d = {
    scanner,
    sink: undefined as unknown as Socket,
    towardUpstream: true,
    writable: true,
    proxyCode: 0,
    bytes: 0,
    pongWanted: true,
    pongsCaught: 0,
    forwarded,
    onData: (chunk: Buffer): void => {
      if (d.pongWanted && catchPong(d, chunk)) return;
      forwarded.push(Buffer.from(scanner.scan(chunk)));
    },
  };
  return d;
}

const ping = encodePingFrame(false);
const before = text('before the pong');
const after = text('after');
const stream = Buffer.concat([before, pongFor(ping), after]);
const withoutPong = Buffer.concat([before, after]);

test('a pong in the middle of a chunk is dropped; the frames around it pass byte for byte', () => {
  const d = direction();
  d.onData(stream);
  assert.deepEqual(Buffer.concat(d.forwarded), withoutPong);
  assert.equal(d.pongsCaught, 1);
  assert.equal(d.pongWanted, false);
});

test('split at every byte: either the pong is dropped or it passes whole, and nothing else changes', () => {
  for (let cut = 1; cut < stream.length; cut++) {
    const d = direction();
    d.onData(stream.subarray(0, cut));
    d.onData(stream.subarray(cut));
    const out = Buffer.concat(d.forwarded);
    if (d.pongsCaught === 1) assert.deepEqual(out, withoutPong, `cut at ${cut}`);
    else assert.deepEqual(out, stream, `cut at ${cut}: passed through`);
  }
});

test('a pong with another payload (the application\'s own) is not ours: it passes', () => {
  const d = direction();
  const other = Buffer.concat([Buffer.from([0x8a, 0x84, 0, 0, 0, 0]), Buffer.from('mine')]);
  d.onData(Buffer.concat([other, after]));
  assert.deepEqual(Buffer.concat(d.forwarded), Buffer.concat([other, after]));
  assert.equal(d.pongsCaught, 0);
});

test('the ping toward the upstream is masked and carries the same payload', () => {
  const masked = encodePingFrame(true);
  assert.equal(masked[0], 0x89);
  assert.equal(masked[1]! & 0x80, 0x80);
  const key = masked.subarray(2, 6);
  const payload = Buffer.from(masked.subarray(6).map((b, i) => b ^ key[i & 3]!));
  assert.deepEqual(payload, ping.subarray(2));
});

// Proxy pings (SPEC §6 ping-interval / ping-timeout): a side silent for the interval gets a ping
// from the proxy at a frame boundary; its pong is consumed here and never forwarded; no pong (and
// no other byte) within the timeout means the side is gone. RFC 6455 §5.5.2/§5.5.3: a peer
// answers a ping with a pong echoing its payload, and a stray pong needs no answer, so a pong this
// module cannot pick out of the stream (split across reads, see catchPong) is forwarded harmlessly.
//
// Cost: nothing on the relay's hot path but one boolean test (Direction.pongWanted, true only
// between a ping and its pong); the clock is read once per sweep of the shared sweeper.
import { randomBytes, randomFillSync } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FrameScanner } from './frames.ts';
import { sharedSweeper, type Sweepable, type Sweeper } from './sweeper.ts';

const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;

/** Recognisable in a capture ("wsgt"), and random per process so a peer cannot guess it ahead. */
const PING_PAYLOAD: Buffer = Buffer.concat([Buffer.from('wsgt'), randomBytes(4)]);
const PAYLOAD_LENGTH = PING_PAYLOAD.length;

/** What pings need of one relay direction (relay.ts's Direction). */
export interface PingDirection {
  readonly scanner: FrameScanner;
  readonly sink: Socket;
  readonly towardUpstream: boolean;
  readonly writable: boolean;
  readonly proxyCode: number;
  /** Bytes forwarded from the source: any of them proves the source alive. */
  readonly bytes: number;
  /** A ping went out toward this direction's source: look for its pong in what it sends. */
  pongWanted: boolean;
  /** Pongs caught and consumed from this direction's source. */
  pongsCaught: number;
  /** Forward a chunk read from the source (the relay's normal path). */
  readonly onData: (chunk: Buffer) => void;
}

/** A ping frame carrying PING_PAYLOAD; masked toward the upstream (RFC 6455 §5.3). */
export function encodePingFrame(masked: boolean): Buffer {
  if (!masked) {
    const frame = Buffer.allocUnsafe(2 + PAYLOAD_LENGTH);
    frame[0] = 0x80 | OPCODE_PING;
    frame[1] = PAYLOAD_LENGTH;
    PING_PAYLOAD.copy(frame, 2);
    return frame;
  }
  const frame = Buffer.allocUnsafe(6 + PAYLOAD_LENGTH);
  frame[0] = 0x80 | OPCODE_PING;
  frame[1] = 0x80 | PAYLOAD_LENGTH;
  randomFillSync(frame, 2, 4);
  for (let i = 0; i < PAYLOAD_LENGTH; i++) frame[6 + i] = PING_PAYLOAD[i]! ^ frame[2 + (i & 3)]!;
  return frame;
}

/** Whether the complete frame at `pos` (header length `headerLength`) is a pong echoing our ping. */
function isOurPong(chunk: Buffer, pos: number, headerLength: number): boolean {
  const b0 = chunk[pos]!;
  const b1 = chunk[pos + 1]!;
  if (b0 !== (0x80 | OPCODE_PONG) || (b1 & 0x7f) !== PAYLOAD_LENGTH) return false;
  const masked = (b1 & 0x80) !== 0;
  const keyAt = pos + 2;
  const payloadAt = pos + headerLength;
  for (let i = 0; i < PAYLOAD_LENGTH; i++) {
    const byte = masked ? chunk[payloadAt + i]! ^ chunk[keyAt + (i & 3)]! : chunk[payloadAt + i]!;
    if (byte !== PING_PAYLOAD[i]) return false;
  }
  return true;
}

/**
 * Called instead of the normal path while a pong is wanted: finds our pong among the complete
 * frames of `chunk` (walking headers from the scanner's next frame boundary), forwards what is
 * around it and drops the pong itself. False when the chunk holds none: forward it as usual.
 */
export function catchPong(d: PingDirection, chunk: Buffer): boolean {
  let pos = d.scanner.bytesToBoundary;
  const n = chunk.length;
  // -1: a header is held back across reads; the pong, if it is that frame, goes through.
  if (pos < 0) return false;
  while (pos + 2 <= n) {
    const b1 = chunk[pos + 1]!;
    const len7 = b1 & 0x7f;
    const headerLength = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((b1 & 0x80) !== 0 ? 4 : 0);
    if (pos + headerLength > n) return false;
    let length = len7;
    if (len7 === 126) length = chunk.readUInt16BE(pos + 2);
    else if (len7 === 127) length = chunk.readUInt32BE(pos + 2) * 0x1_0000_0000 + chunk.readUInt32BE(pos + 6);
    const frameEnd = pos + headerLength + length;
    if (frameEnd > n) return false;
    if (isOurPong(chunk, pos, headerLength)) {
      d.pongWanted = false;
      d.pongsCaught++;
      // The scanner is at a boundary after `before` and never sees the pong: its state stays true.
      if (pos !== 0) d.onData(chunk.subarray(0, pos));
      if (frameEnd !== n) d.onData(chunk.subarray(frameEnd));
      return true;
    }
    pos = frameEnd;
  }
  return false;
}

export type PingSide = 'client' | 'upstream';

/** One side of a connection as the keepalive watches it. */
class SideWatch {
  readonly side: PingSide;
  /** Reads what the side sends. */
  readonly from: PingDirection;
  /** Writes to the side. */
  readonly via: PingDirection;
  lastBytes: number;
  lastPongs = 0;
  quietSince: number;
  /** When the unanswered ping went out; -1 when none is outstanding. */
  pingSentAt = -1;
  lastPingAt = -1;

  constructor(side: PingSide, from: PingDirection, via: PingDirection, now: number) {
    this.side = side;
    this.from = from;
    this.via = via;
    this.lastBytes = from.bytes;
    this.quietSince = now;
  }
}

export interface KeepaliveOptions {
  intervalMs: number;
  timeoutMs: number;
}

/** The pings of one relayed connection; registered with the sweeper from start to end. */
export class Keepalive implements Sweepable {
  readonly resolutionMs: number;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #client: SideWatch;
  readonly #upstream: SideWatch;
  readonly #onTimeout: (side: PingSide) => void;
  readonly #sweeper: Sweeper;
  #stopped = false;

  /** `up` reads the client and writes to the upstream; `down` the other way round. */
  constructor(options: KeepaliveOptions, up: PingDirection, down: PingDirection, onTimeout: (side: PingSide) => void, sweeper: Sweeper = sharedSweeper) {
    const now = performance.now();
    this.#intervalMs = options.intervalMs;
    this.#timeoutMs = options.timeoutMs;
    // The cut comes at most two ticks after interval + timeout.
    this.resolutionMs = Math.min(options.intervalMs, options.timeoutMs) / 10;
    this.#client = new SideWatch('client', up, down, now);
    this.#upstream = new SideWatch('upstream', down, up, now);
    this.#onTimeout = onTimeout;
    this.#sweeper = sweeper;
    sweeper.add(this);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#client.from.pongWanted = false;
    this.#upstream.from.pongWanted = false;
    this.#sweeper.delete(this);
  }

  sweep(now: number): void {
    if (this.#check(this.#client, now)) this.#check(this.#upstream, now);
  }

  /** False when the side timed out (the connection is closing: nothing more to check). */
  #check(w: SideWatch, now: number): boolean {
    const from = w.from;
    if (from.pongsCaught !== w.lastPongs || from.bytes !== w.lastBytes) {
      w.lastPongs = from.pongsCaught;
      w.lastBytes = from.bytes;
      w.quietSince = now;
      w.pingSentAt = -1;
    }
    // A side that talks but never answers: stop looking for a pong that is not coming.
    if (from.pongWanted && w.pingSentAt < 0 && now - w.lastPingAt >= this.#timeoutMs) from.pongWanted = false;
    if (w.pingSentAt >= 0) {
      if (now - w.pingSentAt < this.#timeoutMs) return true;
      this.stop();
      this.#onTimeout(w.side);
      return false;
    }
    if (now - w.quietSince >= this.#intervalMs && canInject(w.via, w.from)) {
      w.via.sink.write(encodePingFrame(w.via.towardUpstream));
      from.pongWanted = true;
      w.pingSentAt = now;
      w.lastPingAt = now;
    }
    return true;
  }
}

/**
 * A frame may be written toward `via`'s sink now: it takes writes, the bytes it was given end at a
 * frame boundary, and no close went either way (RFC 6455 §5.5.1: nothing follows a close).
 */
function canInject(via: PingDirection, from: PingDirection): boolean {
  const scanner = via.scanner;
  return via.writable && via.proxyCode === 0 && !scanner.stopped && scanner.atBoundary && !scanner.closeForwarded && !from.scanner.closeReceived;
}

// The little of RFC 6455 the load generator and the upstream need: the opening handshake
// (§4.1, §4.2.2), pre-built frames (§5.2) and a frame counter that walks headers without
// touching payloads, so neither end of the bench spends per-message JS work on the data.
import { createHash, randomBytes } from 'node:crypto';

const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const OPCODE_TEXT = 0x1;
export const OPCODE_BINARY = 0x2;
export const OPCODE_CLOSE = 0x8;

/** RFC 6455 §4.2.2: the server proves it read the key. */
export function acceptFor(key: string): string {
  return createHash('sha1').update(key + HANDSHAKE_GUID).digest('base64');
}

export function newKey(): string {
  return randomBytes(16).toString('base64');
}

export function upgradeRequest(host: string, path: string, key: string): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
  );
}

export function switchingProtocols(key: string): string {
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`;
}

function headerLength(payloadLength: number, masked: boolean): number {
  const lengthBytes = payloadLength < 126 ? 0 : payloadLength < 65536 ? 2 : 8;
  return 2 + lengthBytes + (masked ? 4 : 0);
}

/** One frame, written into `target` at `offset`; returns the offset after it. */
function writeFrame(target: Buffer, offset: number, opcode: number, payload: Buffer, masked: boolean): number {
  const n = payload.length;
  target[offset++] = 0x80 | opcode;
  const maskBit = masked ? 0x80 : 0;
  if (n < 126) {
    target[offset++] = maskBit | n;
  } else if (n < 65536) {
    target[offset++] = maskBit | 126;
    target.writeUInt16BE(n, offset);
    offset += 2;
  } else {
    target[offset++] = maskBit | 127;
    target.writeBigUInt64BE(BigInt(n), offset);
    offset += 8;
  }
  if (!masked) {
    payload.copy(target, offset);
    return offset + n;
  }
  const mask = randomBytes(4);
  mask.copy(target, offset);
  offset += 4;
  for (let i = 0; i < n; i++) target[offset + i] = payload[i]! ^ mask[i & 3]!;
  return offset + n;
}

export function frameSize(payloadLength: number, masked: boolean): number {
  return headerLength(payloadLength, masked) + payloadLength;
}

/** `count` complete binary frames back to back, as a client (masked) or a server sends them. */
export function frameBatch(payloadLength: number, count: number, masked: boolean): Buffer {
  const payload = Buffer.alloc(payloadLength, 0x61);
  const batch = Buffer.allocUnsafe(frameSize(payloadLength, masked) * count);
  let offset = 0;
  for (let i = 0; i < count; i++) offset = writeFrame(batch, offset, OPCODE_BINARY, payload, masked);
  return batch;
}

export function closeFrame(code: number, masked: boolean): Buffer {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code, 0);
  const frame = Buffer.allocUnsafe(frameSize(2, masked));
  writeFrame(frame, 0, OPCODE_CLOSE, payload, masked);
  return frame;
}

/**
 * Counts frames in a byte stream cut anywhere, reading only headers and skipping payloads.
 * A frame whose mask bit is not what the sender's role requires is counted as malformed, so
 * the far end can tell that a proxy kept the bytes intact.
 */
export class FrameCounter {
  dataFrames = 0;
  closeFrames = 0;
  malformed = 0;
  bytes = 0;
  private skip = 0;
  /** What the frame whose payload is being skipped counts as once it is complete. */
  private counting: 'data' | 'close' | null = null;
  private readonly pending = Buffer.alloc(14);
  private pendingLength = 0;
  private readonly expectMasked: boolean;

  constructor(expectMasked: boolean) {
    this.expectMasked = expectMasked;
  }

  /** Returns the number of data frames completed by this chunk. */
  push(chunk: Buffer): number {
    this.bytes += chunk.length;
    const before = this.dataFrames;
    let at = 0;
    while (at < chunk.length) {
      if (this.skip > 0) {
        const step = Math.min(this.skip, chunk.length - at);
        this.skip -= step;
        at += step;
        if (this.skip === 0) this.complete();
        continue;
      }
      if (this.pendingLength > 0 || chunk.length - at < 14) {
        // A header may straddle chunks: gather up to 14 bytes, parse once complete.
        const take = Math.min(14 - this.pendingLength, chunk.length - at);
        chunk.copy(this.pending, this.pendingLength, at, at + take);
        const used = this.parseHeader(this.pending, 0, this.pendingLength + take);
        if (used === 0) {
          this.pendingLength += take;
          at += take;
        } else {
          at += used - this.pendingLength;
          this.pendingLength = 0;
        }
        continue;
      }
      at += this.parseHeader(chunk, at, chunk.length);
    }
    return this.dataFrames - before;
  }

  /** Parses one header at `from`; returns its length, or 0 when `end` comes first. */
  private parseHeader(buf: Buffer, from: number, end: number): number {
    if (end - from < 2) return 0;
    const first = buf[from]!;
    const second = buf[from + 1]!;
    const masked = (second & 0x80) !== 0;
    let length = second & 0x7f;
    let size = 2;
    if (length === 126) size += 2;
    else if (length === 127) size += 8;
    if (masked) size += 4;
    if (end - from < size) return 0;
    if (length === 126) length = buf.readUInt16BE(from + 2);
    else if (length === 127) length = Number(buf.readBigUInt64BE(from + 2));
    if (masked !== this.expectMasked) this.malformed++;
    const opcode = first & 0x0f;
    this.counting = opcode === OPCODE_CLOSE ? 'close' : (first & 0x80) !== 0 && opcode < 0x8 ? 'data' : null;
    this.skip = length;
    if (length === 0) this.complete();
    return size;
  }

  /** A frame counts once its last payload byte has arrived. */
  private complete(): void {
    if (this.counting === 'data') this.dataFrames++;
    else if (this.counting === 'close') this.closeFrames++;
    this.counting = null;
  }
}

/** Splits an HTTP head off the first bytes of a connection; null until the head is complete. */
export function splitHead(buffered: Buffer): { head: string; rest: Buffer } | null {
  const end = buffered.indexOf('\r\n\r\n');
  if (end < 0) return null;
  return { head: buffered.subarray(0, end).toString('latin1'), rest: buffered.subarray(end + 4) };
}

export function headerValue(head: string, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === wanted) return line.slice(colon + 1).trim();
  }
  return undefined;
}

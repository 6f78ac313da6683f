// Passive WebSocket frame-header scanner for one direction of a relayed connection (RFC 6455 §5.2).
//
// The relay forwards bytes untouched; this only reads frame headers in place as chunks pass, to
// learn message counts, the first close code, frame boundaries (where the proxy may inject its own
// close frame) and oversized frames (whose header must never be forwarded). It never copies
// payload: a chunk made of whole frames comes back as the very same Buffer. The only copying is a
// header split across chunks (at most 14 bytes held back, then prepended to the next bytes).
import { randomFillSync } from 'node:crypto';
import { CLOSE_NO_STATUS, CLOSE_PROTOCOL_ERROR } from './close-codes.ts';

const EMPTY = Buffer.alloc(0);

/** The largest frame header: 2 bytes, a 64-bit extended length, a 4-byte masking key. */
export const MAX_HEADER_LENGTH = 14;

const OPCODE_CLOSE = 0x8;

/** Header length from its second byte (RFC 6455 §5.2: MASK bit and the 7-bit payload length). */
function headerLength(secondByte: number): number {
  const len7 = secondByte & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((secondByte & 0x80) !== 0 ? 4 : 0);
}

export class FrameScanner {
  /** Payload length above which a frame is oversized (Infinity: no limit). */
  readonly maxPayload: number;
  /** Whole data messages returned so far (a fragmented message counts once, control frames never). */
  messages = 0;
  /** Status code of the first close frame seen (returned or discarded); 0 until one is seen. */
  closeCode = 0;
  /** A close frame has been returned in full, so the receiving peer has been told. */
  closeForwarded = false;
  /** A close frame has been scanned in full (returned or discarded): the sender is done. */
  closeReceived = false;
  /** A frame header announced a payload over maxPayload; returned bytes stop before that header. */
  oversize = false;
  /** Nothing more will be returned: oversize, or a requested stop reached its frame boundary. */
  stopped = false;

  #stopRequested = false;
  #inPayload = false;
  #remaining = 0;
  #fin = false;
  #opcode = 0;
  // Only the first two masking-key bytes matter: they unmask the 2-byte close status (§5.3).
  #mask0 = 0;
  #mask1 = 0;
  #codeBytesRead = 0;
  #partialCode = 0;
  readonly #held = Buffer.allocUnsafe(MAX_HEADER_LENGTH);
  #heldLength = 0;

  constructor(maxPayload: number = Infinity) {
    this.maxPayload = maxPayload;
  }

  /** The bytes returned so far end at a frame boundary (held-back partial headers were not returned). */
  get atBoundary(): boolean {
    return !this.#inPayload;
  }

  /**
   * Where in the next chunk the next frame header starts: the current payload's remaining bytes
   * (0 at a boundary), or -1 while a partial header is held back (proxy pings' pong finder).
   */
  get bytesToBoundary(): number {
    return this.#inPayload ? this.#remaining : this.#heldLength !== 0 ? -1 : 0;
  }

  /**
   * Return bytes up to the end of the current frame, then stop. Takes effect at once when already at
   * a boundary (check `stopped`). After stopping, chunks are still scanned so a later close frame
   * from the peer is noticed, but nothing is returned.
   */
  stopAtNextBoundary(): void {
    this.#stopRequested = true;
    if (!this.#inPayload) this.stopped = true;
  }

  /**
   * Scan one chunk; return the bytes that may be forwarded now. That is the chunk itself when it
   * ends at a frame boundary or mid-payload; a shorter view when a header is incomplete, oversized or
   * a stop was reached; a new buffer only when a previously held header is prepended.
   */
  scan(chunk: Buffer): Buffer {
    const n = chunk.length;
    let pos = 0;
    // Where the forwardable bytes end within this chunk; -1 while nothing has cut them short.
    let end = this.stopped ? 0 : -1;
    let prefixLength = 0;

    if (this.#heldLength !== 0) {
      const heldBefore = this.#heldLength;
      pos = this.#completeHeldHeader(chunk);
      if (pos < 0) return EMPTY;
      this.#heldLength = 0;
      this.#beginFrame(this.#held, 0);
      // The held header starts before this chunk: an oversized frame returns nothing of it.
      end = this.#afterHeader(0, end);
      if (!this.stopped) prefixLength = heldBefore;
      if (this.#remaining === 0) end = this.#afterFrame(pos, end);
    }

    let holdFrom = -1;
    while (pos < n) {
      const available = n - pos;
      if (this.#inPayload) {
        if (this.#opcode === OPCODE_CLOSE && this.closeCode === 0) this.#readCloseCode(chunk, pos, available);
        if (available < this.#remaining) {
          this.#remaining -= available;
          break;
        }
        pos += this.#remaining;
        this.#remaining = 0;
      } else {
        if (available < 2 || available < headerLength(chunk[pos + 1]!)) {
          holdFrom = pos;
          if (end === -1) end = pos;
          break;
        }
        const length = this.#beginFrame(chunk, pos);
        end = this.#afterHeader(pos, end);
        pos += length;
        if (this.#remaining !== 0) continue;
      }
      end = this.#afterFrame(pos, end);
    }

    let out: Buffer;
    if (end === -1) end = n;
    if (prefixLength !== 0) {
      out = Buffer.concat([this.#held.subarray(0, prefixLength), chunk.subarray(0, end)], prefixLength + end);
    } else {
      out = end === n ? chunk : end === 0 ? EMPTY : chunk.subarray(0, end);
    }
    // Only now: the prefix above may still be reading the previously held bytes.
    if (holdFrom !== -1) {
      chunk.copy(this.#held, 0, holdFrom, n);
      this.#heldLength = n - holdFrom;
    }
    return out;
  }

  /**
   * A header starting at `headerStart` was read: an oversized frame stops the output before its
   * header (which is never forwarded). Returns the new end of the forwardable bytes.
   */
  #afterHeader(headerStart: number, end: number): number {
    if (this.stopped || this.#remaining <= this.maxPayload) return end;
    this.oversize = true;
    this.stopped = true;
    return headerStart;
  }

  /** A frame ended at `pos`: a requested stop takes effect there. Returns the new end. */
  #afterFrame(pos: number, end: number): number {
    this.#endFrame();
    if (!this.#stopRequested || this.stopped) return end;
    this.stopped = true;
    return pos;
  }

  /** Move header bytes from the chunk into `held`; the count taken, or -1 if still incomplete. */
  #completeHeldHeader(chunk: Buffer): number {
    const held = this.#held;
    const n = chunk.length;
    let h = this.#heldLength;
    let i = 0;
    while (h < 2 && i < n) held[h++] = chunk[i++]!;
    if (h >= 2) {
      const need = headerLength(held[1]!);
      while (h < need && i < n) held[h++] = chunk[i++]!;
      if (h === need) {
        this.#heldLength = h;
        return i;
      }
    }
    this.#heldLength = h;
    return -1;
  }

  /** Read a complete header at `offset`; returns its length. */
  #beginFrame(buf: Buffer, offset: number): number {
    const b0 = buf[offset]!;
    const b1 = buf[offset + 1]!;
    this.#fin = (b0 & 0x80) !== 0;
    this.#opcode = b0 & 0x0f;
    let length = b1 & 0x7f;
    let p = offset + 2;
    if (length === 126) {
      length = (buf[p]! << 8) | buf[p + 1]!;
      p += 2;
    } else if (length === 127) {
      // 2^53 and beyond lose precision, which only matters for frames nobody can send.
      length = buf.readUInt32BE(p) * 0x1_0000_0000 + buf.readUInt32BE(p + 4);
      p += 8;
    }
    if ((b1 & 0x80) !== 0) {
      this.#mask0 = buf[p]!;
      this.#mask1 = buf[p + 1]!;
      p += 4;
    } else {
      this.#mask0 = 0;
      this.#mask1 = 0;
    }
    this.#remaining = length;
    this.#inPayload = true;
    if (this.#opcode === OPCODE_CLOSE && this.closeCode === 0) {
      this.#codeBytesRead = 0;
      this.#partialCode = 0;
      if (length === 0) this.closeCode = CLOSE_NO_STATUS;
      else if (length === 1) this.closeCode = CLOSE_PROTOCOL_ERROR;
    }
    return p - offset;
  }

  #readCloseCode(chunk: Buffer, pos: number, available: number): void {
    let i = 0;
    while (this.#codeBytesRead < 2 && i < available) {
      const key = this.#codeBytesRead === 0 ? this.#mask0 : this.#mask1;
      this.#partialCode = (this.#partialCode << 8) | (chunk[pos + i]! ^ key);
      this.#codeBytesRead++;
      i++;
    }
    if (this.#codeBytesRead === 2) this.closeCode = this.#partialCode;
  }

  #endFrame(): void {
    this.#inPayload = false;
    if (this.#opcode >= 0x8) {
      if (this.#opcode === OPCODE_CLOSE) {
        this.closeReceived = true;
        if (!this.stopped) this.closeForwarded = true;
      }
    } else if (this.#fin && !this.stopped) {
      this.messages++;
    }
  }
}

/**
 * A close frame carrying `code` (RFC 6455 §5.5.1). Frames toward a server must be masked with a
 * fresh random key (§5.3); frames toward a client must not be.
 */
export function encodeCloseFrame(code: number, masked: boolean): Buffer {
  if (!masked) {
    const frame = Buffer.allocUnsafe(4);
    frame[0] = 0x80 | OPCODE_CLOSE;
    frame[1] = 2;
    frame.writeUInt16BE(code, 2);
    return frame;
  }
  const frame = Buffer.allocUnsafe(8);
  frame[0] = 0x80 | OPCODE_CLOSE;
  frame[1] = 0x80 | 2;
  randomFillSync(frame, 2, 4);
  frame[6] = (code >> 8) ^ frame[2]!;
  frame[7] = (code & 0xff) ^ frame[3]!;
  return frame;
}

/** Status code of an (unmasked) close payload: 1005 when it carries none, 1002 when it is malformed. */
export function closeCodeFromPayload(payload: Uint8Array): number {
  if (payload.length === 0) return CLOSE_NO_STATUS;
  if (payload.length === 1) return CLOSE_PROTOCOL_ERROR;
  return (payload[0]! << 8) | payload[1]!;
}

// Test helper: split captured WebSocket wire bytes into frames (RFC 6455 §5.2), so a test can
// compare what one side sent with what the other received, frame by frame and byte for byte.
export interface WireFrame {
  opcode: number;
  bytes: Buffer;
}

export function framesOf(wire: Buffer): WireFrame[] {
  const frames: WireFrame[] = [];
  let pos = 0;
  while (pos + 2 <= wire.length) {
    const b1 = wire[pos + 1]!;
    let length = b1 & 0x7f;
    let header = 2;
    if (length === 126) {
      length = wire.readUInt16BE(pos + 2);
      header += 2;
    } else if (length === 127) {
      length = Number(wire.readBigUInt64BE(pos + 2));
      header += 8;
    }
    if ((b1 & 0x80) !== 0) header += 4;
    const end = pos + header + length;
    if (end > wire.length) throw new Error(`truncated frame at ${pos}`);
    frames.push({ opcode: wire[pos]! & 0x0f, bytes: wire.subarray(pos, end) });
    pos = end;
  }
  if (pos !== wire.length) throw new Error(`trailing ${wire.length - pos} bytes`);
  return frames;
}

export const OPCODE_PING = 0x9;
export const OPCODE_PONG = 0xa;

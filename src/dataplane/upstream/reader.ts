// Reading a plain (ws) upstream socket into one reused buffer (issue 9: the per-chunk path).
//
// A net.Socket made with `onread` reads into the buffer it was given and calls back with the
// byte count: no Buffer allocated per read and none of the Readable machinery ('data' events,
// push, the flowing state). Every upstream socket reads into the same 64 KiB here; that is safe
// because each read is handed on synchronously and the buffer is only read again at the next
// read. So whoever takes a chunk must copy what it keeps past its own call: the handshake
// exchange copies the answer head, the relay writes the chunk to a TLS socket that encrypts it at
// once, and copies it whenever the write would be queued instead (relay.ts, Direction.onData).
//
// pause() and resume() work as with 'data' (they stop and restart reading); 'end', 'close' and
// 'error' are emitted as usual.
import type { Socket } from 'node:net';

export type ChunkHandler = (chunk: Buffer) => void;

const READ_BUFFER_BYTES = 64 * 1024;
const shared = Buffer.allocUnsafe(READ_BUFFER_BYTES);
const kReader = Symbol('wsgate.upstreamReader');

class SharedBufferReader {
  handler: ChunkHandler | undefined;
  /** What was read while nobody listened (copies), handed to the next handler first. */
  pending: Buffer[] | undefined;
  readonly onread = {
    buffer: shared,
    // true: keep reading (flow control is the handler's pause() and resume()).
    callback: (bytes: number, buffer: Uint8Array): boolean => {
      const chunk = (buffer as Buffer).subarray(0, bytes);
      const handler = this.handler;
      if (handler !== undefined) handler(chunk);
      else (this.pending ??= []).push(Buffer.from(chunk));
      return true;
    },
  };
}

type ReaderSocket = Socket & { [kReader]?: SharedBufferReader };

/** The `onread` option of a net.connect() whose socket is then given to adoptSharedReader(). */
export function sharedReadOption(): { reader: SharedBufferReader; onread: SharedBufferReader['onread'] } {
  const reader = new SharedBufferReader();
  return { reader, onread: reader.onread };
}

export function adoptSharedReader(socket: Socket, reader: SharedBufferReader): void {
  (socket as ReaderSocket)[kReader] = reader;
}

/** The socket reads into the shared buffer: a chunk given to a handler is only valid during its call. */
export function readsShared(socket: Socket): boolean {
  return (socket as ReaderSocket)[kReader] !== undefined;
}

/** Chunks of `socket` to `handler`: through its shared-buffer reader, else its 'data' events. */
export function onChunks(socket: Socket, handler: ChunkHandler): void {
  const reader = (socket as ReaderSocket)[kReader];
  if (reader === undefined) {
    socket.on('data', handler);
    return;
  }
  reader.handler = handler;
  const pending = reader.pending;
  reader.pending = undefined;
  if (pending !== undefined) for (const chunk of pending) if (reader.handler === handler) handler(chunk);
}

export function offChunks(socket: Socket, handler: ChunkHandler): void {
  const reader = (socket as ReaderSocket)[kReader];
  if (reader === undefined) socket.removeListener('data', handler);
  else if (reader.handler === handler) reader.handler = undefined;
}

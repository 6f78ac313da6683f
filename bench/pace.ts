// A reader that takes bytes at a fixed average rate: it pauses the socket whenever it is ahead
// of schedule, so the sender (through the proxy) meets backpressure, as a slow client would.
import type { Socket } from 'node:net';

export interface PacedReader {
  readonly bytes: number;
  stop(): void;
}

export function paceReads(socket: Socket, bytesPerSecond: number, onBytes: (bytes: number) => void = () => {}): PacedReader {
  // The schedule starts with the first byte, so time spent connected but idle earns no burst.
  let started = -1;
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  socket.on('data', (chunk: Buffer) => {
    if (started < 0) started = performance.now();
    bytes += chunk.length;
    onBytes(chunk.length);
    const aheadMs = started + (bytes / bytesPerSecond) * 1000 - performance.now();
    if (aheadMs > 1 && !stopped) {
      socket.pause();
      timer = setTimeout(() => {
        timer = undefined;
        if (!stopped) socket.resume();
      }, aheadMs);
    }
  });
  socket.resume();
  return {
    get bytes() {
      return bytes;
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

// The bench's upstream, a child process pinned beside the load generator: a raw-socket WebSocket
// server whose behaviour the request path picks. It answers the 101 itself and never decodes a
// payload, so the proxy under test, not this program, is what the numbers measure.
//   /sink         counts the client's frames (validated at the far end), discards the bytes
//   /echo?size=N  answers every client frame with one pre-built N-byte frame (ping-pong)
//   /flood?size=N after the client's first frame, writes N-byte frames as fast as TCP takes them
//   /slowsink?rate=B  counts the client's frames like /sink, reading at most B bytes a second
//   /idle         holds the connection
// The parent asks for counters over IPC: { cmd: 'stats' } -> UpstreamStats.
import { createServer, type Socket } from 'node:net';
import { paceReads } from './pace.ts';
import { closeFrame, frameBatch, FrameCounter, headerValue, splitHead, switchingProtocols } from './wsproto.ts';

export interface UpstreamStats {
  handshakes: number;
  open: number;
  dataFrames: number;
  malformedFrames: number;
  closeFrames: number;
  bytesIn: number;
  floodBytesOut: number;
}

const stats: UpstreamStats = { handshakes: 0, open: 0, dataFrames: 0, malformedFrames: 0, closeFrames: 0, bytesIn: 0, floodBytesOut: 0 };
const serverClose = closeFrame(1000, false);
const echoFrames = new Map<number, Buffer>();
const floodBatches = new Map<number, Buffer>();

function cached(cache: Map<number, Buffer>, size: number, count: number): Buffer {
  let frames = cache.get(size);
  if (!frames) cache.set(size, (frames = frameBatch(size, count, false)));
  return frames;
}

function serveUpgraded(socket: Socket, path: string, first: Buffer): void {
  const url = new URL(path, 'http://upstream');
  const mode = url.pathname;
  const size = Number(url.searchParams.get('size') ?? '32');
  const counter = new FrameCounter(true);
  let flooding = false;
  let closed = false;

  const flood = (): void => {
    const batch = cached(floodBatches, size, Math.max(1, Math.floor(262144 / size)));
    while (!closed) {
      stats.floodBytesOut += batch.length;
      if (!socket.write(batch)) return void socket.once('drain', flood);
    }
  };

  const onData = (chunk: Buffer): void => {
    const closesBefore = counter.closeFrames;
    const malformedBefore = counter.malformed;
    const completed = counter.push(chunk);
    stats.bytesIn += chunk.length;
    stats.dataFrames += completed;
    stats.malformedFrames += counter.malformed - malformedBefore;
    if (completed > 0) {
      if (mode === '/echo') {
        const answer = cached(echoFrames, size, 1);
        for (let i = 0; i < completed; i++) socket.write(answer);
      } else if (mode === '/flood' && !flooding) {
        flooding = true;
        flood();
      }
    }
    if (counter.closeFrames > closesBefore) {
      stats.closeFrames += counter.closeFrames - closesBefore;
      // RFC 6455 §5.5.1: answer the close, then the server ends TCP first.
      closed = true;
      socket.end(serverClose);
    }
  };
  if (mode === '/slowsink') paceReads(socket, Number(url.searchParams.get('rate') ?? 1048576));
  socket.on('data', onData);
  if (first.length > 0) onData(first);
}

const server = createServer({ noDelay: true }, (socket) => {
  stats.open++;
  let buffered: Buffer = Buffer.alloc(0);
  socket.on('error', () => {});
  socket.once('close', () => stats.open--);
  const onHead = (chunk: Buffer): void => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const split = splitHead(buffered);
    if (!split) return;
    socket.off('data', onHead);
    const key = headerValue(split.head, 'sec-websocket-key');
    const path = split.head.split(' ')[1] ?? '/';
    if (!key) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    stats.handshakes++;
    socket.write(switchingProtocols(key));
    serveUpgraded(socket, path, split.rest);
  };
  socket.on('data', onHead);
});

server.listen({ host: '127.0.0.1', port: 0, backlog: 8192 }, () => {
  const address = server.address();
  process.send!({ ready: typeof address === 'object' && address ? address.port : 0 });
});

process.on('message', (message: { cmd: string; id: number }) => {
  if (message.cmd === 'stats') process.send!({ id: message.id, stats });
  else if (message.cmd === 'exit') process.exit(0);
});
process.on('disconnect', () => process.exit(0));

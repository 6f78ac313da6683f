// The load generator's connections: a raw TCP or TLS socket, a real opening handshake (the
// answer's Sec-WebSocket-Accept checked), then pre-built masked frames written in bulk.
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { acceptFor, newKey, splitHead, headerValue, upgradeRequest } from './wsproto.ts';

export interface Endpoint {
  /** wss through a proxy, ws for the direct path. */
  tls: boolean;
  port: number;
}

export const BENCH_HOST = 'bench.local';
/** The key-exchange groups the load generator offers (see connectRaw). */
export const BENCH_GROUPS = process.env.BENCH_GROUPS ?? 'X25519';

export interface OpenSocket {
  socket: Socket | TLSSocket;
  /** Bytes that arrived behind the 101 head. */
  rest: Buffer;
}

/** TLS session resumption: the session to offer, and where the server's next ticket lands. */
export interface SessionSlot {
  session?: Buffer;
}

function connectRaw(endpoint: Endpoint, resume?: SessionSlot): Promise<Socket | TLSSocket> {
  return new Promise((resolve, reject) => {
    let socket: Socket | TLSSocket;
    if (endpoint.tls) {
      // X25519 only, as every target then agrees on the same key exchange: Node 24's OpenSSL would
      // otherwise pick the post-quantum hybrid X25519MLKEM768 with wsgate, which Debian's nginx and
      // HAProxy (OpenSSL 3.0) cannot offer, and a handshake would cost wsgate more crypto than them.
      // BENCH_GROUPS=X25519MLKEM768:X25519 measures what a modern browser gets from wsgate.
      const tls = tlsConnect({ host: '127.0.0.1', port: endpoint.port, servername: BENCH_HOST, rejectUnauthorized: false, ecdhCurve: BENCH_GROUPS, ...(resume?.session ? { session: resume.session } : {}) });
      // TLS 1.3 tickets arrive after the handshake; keep the latest for the next connection.
      if (resume) tls.on('session', (session: Buffer) => (resume.session = session));
      socket = tls;
    } else {
      socket = tcpConnect({ host: '127.0.0.1', port: endpoint.port });
    }
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.once(endpoint.tls ? 'secureConnect' : 'connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

export async function openWebSocket(endpoint: Endpoint, path: string, resume?: SessionSlot): Promise<OpenSocket> {
  const socket = await connectRaw(endpoint, resume);
  const key = newKey();
  socket.write(upgradeRequest(BENCH_HOST, path, key));
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    const onEnd = (): void => fail(new Error(`connection closed during the handshake for ${path}`));
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const split = splitHead(buffered);
      if (!split) return;
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('end', onEnd);
      const status = split.head.slice(0, split.head.indexOf('\r\n'));
      if (!/^HTTP\/1\.1 101 /.test(status)) return fail(new Error(`handshake for ${path}: ${status}`));
      if (headerValue(split.head, 'sec-websocket-accept') !== acceptFor(key)) return fail(new Error(`handshake for ${path}: wrong Sec-WebSocket-Accept`));
      socket.on('error', () => {});
      resolve({ socket, rest: split.rest });
    };
    socket.on('data', onData);
    socket.on('error', fail);
    socket.on('end', onEnd);
  });
}

/** Writes `batch` `times` times, waiting for 'drain' whenever the socket asks. */
export async function writeRepeated(socket: Socket, batch: Buffer, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    if (!socket.write(batch)) await new Promise((resolve) => socket.once('drain', resolve));
  }
}

/** Runs `task(i)` for i in [0, count) with at most `parallel` in flight. */
export async function runParallel(count: number, parallel: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane));
}

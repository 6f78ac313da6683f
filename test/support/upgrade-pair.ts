// Test-only stand-in for the proxy's handshake: a TCP listener that passes the client's upgrade
// request head to an upstream on 127.0.0.1, passes the 101 response head back, then hands both
// sockets to Relay with whatever each side sent past its head. No checks, no routing: it exists
// so relay behaviour can be tested with real `ws` peers on both ends. Its sockets keep Node's
// default allowHalfOpen (false): the relay must cope with that itself.
import net, { type Socket } from 'node:net';
import { Relay, type RelayOptions, type RelayResult, type TrafficCounters } from '../../src/dataplane/relay/relay.ts';

export interface RelayedConnection {
  readonly relay: Relay;
  /** The proxy's socket facing the client. */
  readonly client: Socket;
  /** The proxy's socket facing the upstream. */
  readonly upstream: Socket;
  /** Settles when the relay calls onEnd. */
  readonly result: Promise<RelayResult>;
}

export interface UpgradePair {
  readonly port: number;
  readonly traffic: TrafficCounters;
  /** The next relayed connection, in the order the handshakes completed. */
  nextConnection(): Promise<RelayedConnection>;
  /** Stop listening and destroy whatever is still open. */
  close(): Promise<void>;
}

export type PairOptions = Partial<RelayOptions>;

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD = 16 * 1024;

function ignore(): void {}

export function newTraffic(): TrafficCounters {
  return { bytesUp: 0, bytesDown: 0, messagesUp: 0, messagesDown: 0 };
}

/** Read up to the end of an HTTP head; the socket is left paused with no 'data' listener. */
export function readHead(socket: Socket): Promise<{ head: Buffer; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const at = buffered.indexOf(HEAD_END);
      if (at < 0) {
        if (buffered.length > MAX_HEAD) fail(new Error('head too large'));
        return;
      }
      cleanup();
      socket.pause();
      resolve({ head: buffered.subarray(0, at + 4), rest: buffered.subarray(at + 4) });
    };
    const fail = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onEnd = (): void => fail(new Error('connection ended before the head was complete'));
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', fail);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', fail);
  });
}

export async function startUpgradePair(upstreamPort: number, options: PairOptions = {}): Promise<UpgradePair> {
  const traffic = options.traffic ?? newTraffic();
  const relayOptions: RelayOptions = { idleTimeoutMs: 60_000, ...options, traffic };
  const sockets = new Set<Socket>();
  const ready: RelayedConnection[] = [];
  const waiting: Array<(connection: RelayedConnection) => void> = [];

  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A handshake that fails in a test shows up in the test's own assertions, not as a crash.
    socket.on('error', ignore);
  };

  const handshake = async (client: Socket): Promise<void> => {
    track(client);
    const request = await readHead(client);
    const upstream = net.connect({ host: '127.0.0.1', port: upstreamPort });
    track(upstream);
    await new Promise<void>((resolve, reject) => {
      upstream.once('error', reject);
      upstream.once('connect', () => {
        upstream.off('error', reject);
        resolve();
      });
    });
    upstream.write(request.head);
    const response = await readHead(upstream);
    client.write(response.head);
    if (!response.head.toString('latin1').startsWith('HTTP/1.1 101')) {
      client.end();
      upstream.end();
      return;
    }
    let settle!: (result: RelayResult) => void;
    const result = new Promise<RelayResult>((resolve) => (settle = resolve));
    const relay = new Relay(client, upstream, relayOptions, settle);
    // From here socket errors are the relay's to handle: a missing handler must crash the test.
    client.off('error', ignore);
    upstream.off('error', ignore);
    const connection: RelayedConnection = { relay, client, upstream, result };
    relay.start(request.rest, response.rest);
    const taker = waiting.shift();
    if (taker) taker(connection);
    else ready.push(connection);
  };

  const server = net.createServer((client) => {
    handshake(client).catch(() => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');

  return {
    port: address.port,
    traffic,
    nextConnection(): Promise<RelayedConnection> {
      const connection = ready.shift();
      if (connection) return Promise.resolve(connection);
      return new Promise((resolve) => waiting.push(resolve));
    },
    async close(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

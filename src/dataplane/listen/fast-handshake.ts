// The TLS listener's first read (issue 9: handshake CPU). A connection's first cleartext chunk is
// read here; a WebSocket upgrade in upgrade-head.ts's subset goes straight to the pipeline, and
// anything else is given back to node:http untouched, as if it had read the socket itself.
import type { Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { InvalidArgumentError } from '../../common/errors.ts';
import type { RequestHead } from '../handshake/pipeline.ts';
import { parseUpgradeHead } from './upgrade-head.ts';

export type OnUpgradeHead = (head: RequestHead, socket: TLSSocket, early: Buffer) => void;

interface FastPath {
  server: Server;
  httpListener: (socket: TLSSocket) => void;
  onHead: OnUpgradeHead;
}

const kFastPath = Symbol('wsgate.fastPath');
type Waiting = TLSSocket & { [kFastPath]?: FastPath | undefined };

/** Takes the first read of each TLS connection `server` accepts; node:http keeps what is not a clean upgrade. */
export function serveFastHandshakes(server: Server, onHead: OnUpgradeHead): void {
  const [httpListener] = server.listeners('secureConnection') as Array<(socket: TLSSocket) => void>;
  if (httpListener === undefined) throw new InvalidArgumentError('server', 'an HTTPS server of node:http, whose connection listener takes what is not a clean upgrade');
  server.removeListener('secureConnection', httpListener);
  const path: FastPath = { server, httpListener, onHead };
  server.on('secureConnection', (socket: Waiting) => {
    socket[kFastPath] = path;
    // Shared listeners, not closures: the socket carries what they need.
    socket.on('data', onFirstData);
    socket.on('error', onEarlyError);
  });
}

function onFirstData(this: Waiting, chunk: Buffer): void {
  const path = this[kFastPath]!;
  this[kFastPath] = undefined;
  this.removeListener('data', onFirstData);
  this.removeListener('error', onEarlyError);
  const head = parseUpgradeHead(chunk);
  if (head === undefined) {
    // node:http's listener attaches to a paused socket that holds the chunk again; resuming
    // hands it that chunk first, before any later read.
    this.pause();
    this.unshift(chunk);
    path.httpListener.call(path.server, this);
    this.resume();
    return;
  }
  // As node:http leaves an upgraded socket: what the client sends next waits for the relay.
  // (Node's types call the field read-only; node:http assigns it the same way.)
  (this as { readableFlowing: boolean | null }).readableFlowing = null;
  path.onHead(head, this, chunk.subarray(head.length));
}

// Before its first byte a connection's errors are resets or broken records: nothing to answer,
// as with node:http. A connection that stays silent is left to the head deadline, as node:http
// leaves it (closeIdleConnections() does not close a connection that never sent a request).
function onEarlyError(this: Waiting): void {
  this[kFastPath] = undefined;
  this.destroy();
}

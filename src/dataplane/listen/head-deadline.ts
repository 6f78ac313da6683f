// SPEC §7: a request head must be complete within --header-timeout counted from accept, the TLS
// handshake included. Node's own headersTimeout starts at the first byte of the head and the TLS
// handshakeTimeout runs before it, so a client that stays silent and then drips bytes could hold
// a connection for about twice the timeout; one deadline per accepted socket closes that gap.
// Node's headersTimeout still governs later requests on a kept-alive connection.
import type { Server } from 'node:net';
import type { Socket } from 'node:net';

const deadlines = new WeakMap<Socket, NodeJS.Timeout>();

/** Starts the deadline of every connection `server` accepts; `onExpired` answers for a head that is late. */
export function armHeadDeadlines(server: Server, timeoutMs: number, onExpired: (socket: Socket) => void): void {
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => {
      deadlines.delete(socket);
      if (!socket.destroyed) onExpired(socket);
    }, timeoutMs);
    timer.unref();
    deadlines.set(socket, timer);
    // 'close' comes once; a shared listener, not a closure (and once()'s wrapper) per connection.
    socket.on('close', onSocketClose);
  });
}

function onSocketClose(this: Socket): void {
  headArrived(this);
}

/** The head of the first request on `socket` is complete. */
export function headArrived(socket: Socket): void {
  // A TLS socket wraps the accepted TCP socket, which is what the deadline was set on.
  const accepted = (socket as Socket & { _parent?: Socket | null })._parent ?? socket;
  const timer = deadlines.get(accepted);
  if (timer === undefined) return;
  clearTimeout(timer);
  deadlines.delete(accepted);
}

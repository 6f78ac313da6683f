// Byte-transparent relay of one upgraded WebSocket connection (SPEC §8), and the close code and
// side it ends with (SPEC §9).
//
// What the relay needs of its sockets: connected net.Socket-compatible Duplexes (tls.TLSSocket is
// fine). Nothing else may consume their data: bytes already read past the handshake are handed
// over as heads to start(). start() sets allowHalfOpen (so one side's FIN is passed on while the
// other direction keeps flowing) and TCP_NODELAY.
//
// Hot path (Direction.onData): scan the chunk's frame headers in place, write the very same
// Buffer, add to plain counters. No allocation, closure, clock read or timer refresh per chunk;
// everything unusual (close frames, oversize, stops) is behind one cheap check. The idle timeout
// is checked by the worker's shared sweep against those counters (issue 9: the client socket's
// own setTimeout() refreshed a timer on every read and write, and cost a Timeout per connection).
import type { Socket } from 'node:net';
import type { CloseSide, TrafficCounters } from '../vocabulary.ts';
import { CLOSE_ABNORMAL, CLOSE_BAD_GATEWAY, CLOSE_GOING_AWAY, CLOSE_MESSAGE_TOO_BIG, CLOSE_POLICY_VIOLATION } from './close-codes.ts';
import { FrameScanner, encodeCloseFrame } from './frames.ts';
import { Keepalive, catchPong, type KeepaliveOptions, type PingSide } from './pings.ts';
import { Lifetime, type LifetimeOptions } from './lifetime.ts';
import { MessageLimiter, type MessageRateOptions } from './rate-limit.ts';
import { sharedSweeper, type Sweepable } from './sweeper.ts';

// What a relay's user passes in and gets back, next to the Relay itself.
export type { CloseSide, TrafficCounters } from '../vocabulary.ts';

export interface RelayOptions {
  /** Frame payload limit in both directions: the sender gets 1009, the other side 1001. */
  maxMessageSize?: number;
  /**
   * No byte in either direction for this long: 1001 to both sides. 0 disables it. Checked by the
   * shared sweep every tenth of it (10 ms to 1 s): never early, at most two ticks late.
   */
  idleTimeoutMs: number;
  /** Wire bytes after the handshake (the proxy's own close frames excluded) and whole messages. */
  traffic: TrafficCounters;
  /** How long proxy-originated closes wait for replies or frame boundaries before destroying. */
  closeTimeoutMs?: number;
  /** Proxy pings (pings.ts); absent: none. */
  pings?: KeepaliveOptions;
  /** A side did not answer a ping in time (before the close it causes is counted). */
  onPingTimeout?: (side: PingSide) => void;
  /** Maximum lifetime (lifetime.ts): 1001 to both sides at its end; absent: none. */
  lifetime?: LifetimeOptions;
  /** Message-rate limit (rate-limit.ts): the sender over it gets 1008, the other side 1001. */
  messageRate?: MessageRateOptions;
}

export interface RelayResult {
  code: number;
  side: CloseSide;
  bytesUp: number;
  bytesDown: number;
  messagesUp: number;
  messagesDown: number;
  durationMs: number;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 5000;

/** One direction: bytes read from `source` are written to `sink`. */
export class Direction {
  readonly relay: Relay;
  readonly from: 'client' | 'upstream';
  readonly source: Socket;
  readonly sink: Socket;
  readonly towardUpstream: boolean;
  readonly scanner: FrameScanner;
  readonly traffic: TrafficCounters;
  bytes = 0;
  messages = 0;
  /** The sink still takes our writes (not ended, destroyed or failed). */
  writable = true;
  /** No more bytes will come from the source. */
  sourceDone = false;
  /** Close code the proxy owes the sink at the next frame boundary; 0 = none. */
  proxyCode = 0;
  /** That close was written, or skipped because the peer's own close already reached the sink. */
  proxyCloseDone = false;
  /** Proxy pings: a pong to consume is expected from the source (pings.ts). */
  pongWanted = false;
  pongsCaught = 0;
  /** Message-rate limit of what the source sends; undefined: none. */
  limiter: MessageLimiter | undefined;

  constructor(relay: Relay, from: 'client' | 'upstream', source: Socket, sink: Socket, maxPayload: number, traffic: TrafficCounters) {
    this.relay = relay;
    this.from = from;
    this.source = source;
    this.sink = sink;
    this.towardUpstream = from === 'client';
    this.scanner = new FrameScanner(maxPayload);
    this.traffic = traffic;
  }

  onData(chunk: Buffer): void {
    if (this.pongWanted && catchPong(this, chunk)) return;
    const scanner = this.scanner;
    const out = scanner.scan(chunk);
    const n = out.length;
    if (n !== 0 && this.writable) {
      this.bytes += n;
      const newMessages = scanner.messages - this.messages;
      this.messages = scanner.messages;
      if (this.towardUpstream) {
        this.traffic.bytesUp += n;
        this.traffic.messagesUp += newMessages;
      } else {
        this.traffic.bytesDown += n;
        this.traffic.messagesDown += newMessages;
      }
      if (!this.sink.write(out)) this.source.pause();
      if (newMessages !== 0 && this.limiter !== undefined && !this.limiter.take(newMessages)) this.relay.rateExceeded(this);
    }
    if (scanner.closeCode !== 0 || scanner.stopped) this.relay.onCloseOrStop(this);
  }

  /** The sink flushed: read again, unless the source is finished. */
  onDrain(): void {
    if (!this.sourceDone) this.source.resume();
  }
}

// The relay's socket listeners are shared by every relay of the process (issue 9: a closure per
// listener and connection was 13 closures an idle connection). A listener is called with the
// socket as `this`, which finds its relay through one symbol-keyed property.
const kRelay = Symbol('wsgate.relay');
type RelaySocket = Socket & { [kRelay]?: Relay };

export class Relay implements Sweepable {
  /** The idle check's tick (Sweepable); only registered when the idle timeout is on. */
  readonly resolutionMs: number;
  readonly #client: Socket;
  readonly #upstream: Socket;
  readonly #options: RelayOptions;
  readonly #onEnd: (result: RelayResult) => void;
  readonly #up: Direction;
  readonly #down: Direction;
  readonly #closeTimeoutMs: number;
  #code = 0;
  #side: CloseSide = 'proxy';
  /** The proxy has started closing (its own close frames, or 1014): closes are bounded in time. */
  #closing = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #keepalive: Keepalive | undefined;
  #lifetime: Lifetime | undefined;
  /** The activity counters' sum when they last moved (sweep()), and since when they have not. */
  #lastActivity = 0;
  #quietSince = 0;
  #openSockets = 2;
  #startedAt = 0;
  #started = false;
  #finished = false;

  constructor(client: Socket, upstream: Socket, options: RelayOptions, onEnd: (result: RelayResult) => void) {
    this.#client = client;
    this.#upstream = upstream;
    this.#options = options;
    this.#onEnd = onEnd;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    this.resolutionMs = options.idleTimeoutMs / 10;
    const maxPayload = options.maxMessageSize ?? Infinity;
    this.#up = new Direction(this, 'client', client, upstream, maxPayload, options.traffic);
    this.#down = new Direction(this, 'upstream', upstream, client, maxPayload, options.traffic);
    (client as RelaySocket)[kRelay] = this;
    (upstream as RelaySocket)[kRelay] = this;
    // At once: an error between construction and start() must not throw out of the process.
    client.on('error', Relay.#onClientError);
    upstream.on('error', Relay.#onUpstreamError);
  }

  // --- shared socket listeners (`this` is the socket) -------------------------------------

  static #of(socket: Socket): Relay {
    return (socket as RelaySocket)[kRelay]!;
  }

  static readonly #onClientData = function (this: Socket, chunk: Buffer): void {
    Relay.#of(this).#up.onData(chunk);
  };

  static readonly #onUpstreamData = function (this: Socket, chunk: Buffer): void {
    Relay.#of(this).#down.onData(chunk);
  };

  /** The client flushed: what the upstream sends may flow again. */
  static readonly #onClientDrain = function (this: Socket): void {
    Relay.#of(this).#down.onDrain();
  };

  static readonly #onUpstreamDrain = function (this: Socket): void {
    Relay.#of(this).#up.onDrain();
  };

  static readonly #onClientEnd = function (this: Socket): void {
    const relay = Relay.#of(this);
    relay.sourceGone(relay.#up);
  };

  static readonly #onUpstreamEnd = function (this: Socket): void {
    const relay = Relay.#of(this);
    relay.sourceGone(relay.#down);
  };

  static readonly #onClientError = function (this: Socket): void {
    const relay = Relay.#of(this);
    relay.#socketFailed(relay.#up, relay.#down);
  };

  static readonly #onUpstreamError = function (this: Socket): void {
    const relay = Relay.#of(this);
    relay.#socketFailed(relay.#down, relay.#up);
  };

  static readonly #onClientClose = function (this: Socket): void {
    const relay = Relay.#of(this);
    relay.#socketClosed(relay.#up, relay.#down);
  };

  static readonly #onUpstreamClose = function (this: Socket): void {
    const relay = Relay.#of(this);
    relay.#socketClosed(relay.#down, relay.#up);
  };

  static #onCloseTimeout(relay: Relay): void {
    relay.#client.destroy();
    relay.#upstream.destroy();
  }

  get ended(): boolean {
    return this.#finished;
  }

  /** Relay the bytes each side sent past its handshake, then everything else. */
  start(clientHead: Buffer, upstreamHead: Buffer): void {
    if (this.#started) return;
    this.#started = true;
    this.#startedAt = performance.now();
    const client = this.#client;
    const upstream = this.#upstream;
    const up = this.#up;
    const down = this.#down;

    client.on('close', Relay.#onClientClose);
    upstream.on('close', Relay.#onUpstreamClose);
    if (client.closed) this.#socketClosed(up, down);
    if (upstream.closed) this.#socketClosed(down, up);
    if (this.#finished) return;

    // Documented as settable before 'end' (stream.Duplex#allowHalfOpen): one side's FIN is passed
    // on, not answered by Node ending our write side behind the relay's back.
    client.allowHalfOpen = true;
    upstream.allowHalfOpen = true;
    if (!client.destroyed) client.setNoDelay(true);
    if (!upstream.destroyed) upstream.setNoDelay(true);
    if (this.#options.idleTimeoutMs > 0) {
      this.#quietSince = this.#startedAt;
      sharedSweeper.add(this);
    }

    client.on('drain', Relay.#onClientDrain);
    upstream.on('drain', Relay.#onUpstreamDrain);
    client.on('end', Relay.#onClientEnd);
    upstream.on('end', Relay.#onUpstreamEnd);
    client.on('data', Relay.#onClientData);
    upstream.on('data', Relay.#onUpstreamData);
    // The handshake code may have paused them, and a 'data' listener does not undo pause(). Data
    // flows from a later tick, so the heads below still go first, and may pause again.
    client.resume();
    upstream.resume();
    if (this.#options.pings !== undefined) this.#keepalive = new Keepalive(this.#options.pings, up, down, (side) => this.#onPingTimeout(side));
    if (this.#options.lifetime !== undefined) this.#lifetime = new Lifetime(this.#options.lifetime, () => this.close(CLOSE_GOING_AWAY));
    const rate = this.#options.messageRate;
    if (rate !== undefined) {
      up.limiter = new MessageLimiter(rate);
      if (rate.direction === 'both') down.limiter = new MessageLimiter(rate);
    }
    if (clientHead.length !== 0) up.onData(clientHead);
    if (upstreamHead.length !== 0) down.onData(upstreamHead);
    if (client.readableEnded) this.sourceGone(up);
    if (upstream.readableEnded) this.sourceGone(down);
  }

  /** Proxy-originated graceful close (shutdown, drain): `code` to both sides at frame boundaries. */
  close(code: number = CLOSE_GOING_AWAY): void {
    if (this.#finished) return;
    this.#beginProxyClose(code, code, code);
  }

  /**
   * The idle check (Sweepable). Activity is any byte relayed either way, or a pong answering the
   * proxy's ping (an answering peer is not idle); the proxy's own pings and close frames are not.
   */
  sweep(now: number): void {
    const up = this.#up;
    const down = this.#down;
    const activity = up.bytes + down.bytes + up.pongsCaught + down.pongsCaught;
    if (activity !== this.#lastActivity) {
      this.#lastActivity = activity;
      this.#quietSince = now;
    } else if (now - this.#quietSince >= this.#options.idleTimeoutMs) {
      this.#beginProxyClose(CLOSE_GOING_AWAY, CLOSE_GOING_AWAY, CLOSE_GOING_AWAY);
    }
  }

  // --- events ------------------------------------------------------------------------------

  /**
   * SPEC §6 ping-timeout: the silent side's TCP is cut (counted 1006 with that side), the other side
   * hears 1001 (the client is missing) or 1014 (the upstream is, RFC 6455 §7.4.1).
   */
  #onPingTimeout(side: PingSide): void {
    if (this.#closing || this.#finished) return;
    this.#options.onPingTimeout?.(side);
    this.#recordFirstClose(CLOSE_ABNORMAL, side);
    this.#beginClosing();
    this.#requestProxyClose(side === 'client' ? this.#up : this.#down, side === 'client' ? CLOSE_GOING_AWAY : CLOSE_BAD_GATEWAY);
    (side === 'client' ? this.#client : this.#upstream).destroy();
    this.#endToldSides();
  }

  /** A socket failed: it reads and takes writes no more. `from` reads it, `toward` writes to it. */
  #socketFailed(from: Direction, toward: Direction): void {
    toward.writable = false;
    if (this.#started) this.sourceGone(from);
  }

  #socketClosed(from: Direction, toward: Direction): void {
    if (this.#finished) return;
    toward.writable = false;
    this.sourceGone(from);
    this.#openSockets--;
    if (this.#openSockets === 0) {
      this.#finish();
    } else {
      // The survivor has nobody left to talk to once it has been told; bound how long that takes.
      this.#armCloseTimer();
    }
  }

  /** A close frame, an oversized frame or a reached stop passed in `d`. */
  onCloseOrStop(d: Direction): void {
    const scanner = d.scanner;
    if (scanner.closeCode !== 0) this.#recordFirstClose(scanner.closeCode, d.from);
    if (scanner.oversize && !this.#closing) {
      // The sender of the oversized frame gets 1009, the receiver 1001 (SPEC §6 max-message-size).
      const toClient = d.from === 'client' ? CLOSE_MESSAGE_TOO_BIG : CLOSE_GOING_AWAY;
      const toUpstream = d.from === 'client' ? CLOSE_GOING_AWAY : CLOSE_MESSAGE_TOO_BIG;
      this.#beginProxyClose(toClient, toUpstream, CLOSE_MESSAGE_TOO_BIG);
    }
    if (scanner.stopped && d.proxyCode !== 0 && !d.proxyCloseDone) this.#writeProxyClose(d);
    this.#endToldSides();
  }

  /** SPEC §6 max-messages-per-second: the sender gets 1008 (policy violation), the other side 1001. */
  rateExceeded(d: Direction): void {
    if (this.#closing) return;
    const toClient = d.from === 'client' ? CLOSE_POLICY_VIOLATION : CLOSE_GOING_AWAY;
    const toUpstream = d.from === 'client' ? CLOSE_GOING_AWAY : CLOSE_POLICY_VIOLATION;
    this.#beginProxyClose(toClient, toUpstream, CLOSE_POLICY_VIOLATION);
  }

  /** No more bytes will come from d's source (FIN, error or close). */
  sourceGone(d: Direction): void {
    if (d.sourceDone) return;
    d.sourceDone = true;
    this.#recordFirstClose(CLOSE_ABNORMAL, d.from);
    if (this.#finished) return;
    const lostUpstream = d.from === 'upstream' && d.scanner.closeCode === 0 && !this.#closing && !this.#up.sourceDone;
    if (lostUpstream) {
      // RFC 6455 §7.4.1: 1014 tells the client the server behind the gateway went away.
      this.#beginClosing();
      this.#requestProxyClose(d, CLOSE_BAD_GATEWAY);
    } else if (d.proxyCode !== 0 && !d.proxyCloseDone) {
      // The close the proxy owes this sink waits for a frame boundary that can no longer come.
      this.#destroySink(d);
    } else {
      // Half-close passed through: everything read has been written; end() flushes it first.
      this.#endSink(d);
    }
    this.#endToldSides();
  }

  // --- closing -----------------------------------------------------------------------------

  #beginProxyClose(toClient: number, toUpstream: number, reported: number): void {
    if (this.#closing || this.#finished) return;
    this.#beginClosing();
    this.#recordFirstClose(reported, 'proxy');
    this.#requestProxyClose(this.#down, toClient);
    this.#requestProxyClose(this.#up, toUpstream);
    this.#endToldSides();
  }

  #beginClosing(): void {
    this.#closing = true;
    this.#keepalive?.stop();
    sharedSweeper.delete(this);
    this.#armCloseTimer();
  }

  #armCloseTimer(): void {
    if (this.#closeTimer !== undefined || this.#finished) return;
    this.#closeTimer = setTimeout(Relay.#onCloseTimeout, this.#closeTimeoutMs, this);
    this.#closeTimer.unref();
  }

  /** Owe d's sink a close frame at the next boundary of d. */
  #requestProxyClose(d: Direction, code: number): void {
    if (d.proxyCode !== 0 || !d.writable) return;
    d.proxyCode = code;
    d.scanner.stopAtNextBoundary();
    if (d.scanner.stopped) this.#writeProxyClose(d);
    else if (d.sourceDone) this.#destroySink(d);
  }

  #writeProxyClose(d: Direction): void {
    d.proxyCloseDone = true;
    // A close from the peer already went through: a second close frame would break the protocol.
    if (!d.scanner.closeForwarded && d.writable) d.sink.write(encodeCloseFrame(d.proxyCode, d.towardUpstream));
    // From here d's bytes are discarded, never buffered: keep reading to see the peer's close reply.
    if (!d.sourceDone) d.source.resume();
  }

  /**
   * End each socket that has been sent a close frame (forwarded or the proxy's) and has answered
   * with its own close or its FIN: its closing handshake is complete (RFC 6455 §7.1.1).
   */
  #endToldSides(): void {
    const up = this.#up;
    const down = this.#down;
    if (down.writable && (down.proxyCloseDone || down.scanner.closeForwarded) && (up.scanner.closeReceived || up.sourceDone)) {
      this.#endSink(down);
      // A peer that never closes its side after the closing handshake must not hold the connection.
      this.#armCloseTimer();
    }
    if (up.writable && (up.proxyCloseDone || up.scanner.closeForwarded) && (down.scanner.closeReceived || down.sourceDone)) {
      this.#endSink(up);
      this.#armCloseTimer();
    }
  }

  #endSink(d: Direction): void {
    if (!d.writable) return;
    d.writable = false;
    d.sink.end();
  }

  #destroySink(d: Direction): void {
    d.writable = false;
    d.sink.destroy();
  }

  /** Record what happened first; later events never overwrite it. */
  #recordFirstClose(code: number, side: CloseSide): void {
    if (this.#code !== 0) return;
    this.#code = code;
    this.#side = side;
  }

  #finish(): void {
    this.#finished = true;
    this.#keepalive?.stop();
    this.#lifetime?.stop();
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    sharedSweeper.delete(this);
    this.#recordFirstClose(CLOSE_ABNORMAL, 'client');
    const up = this.#up;
    const down = this.#down;
    this.#onEnd({
      code: this.#code,
      side: this.#side,
      bytesUp: up.bytes,
      bytesDown: down.bytes,
      messagesUp: up.messages,
      messagesDown: down.messages,
      durationMs: this.#started ? performance.now() - this.#startedAt : 0,
    });
  }
}

// The measurements. Each takes a started target, warms it up, measures, and checks at the far
// end (the upstream's frame counters) that the work it paid for was really done.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { openWebSocket, runParallel, type SessionSlot } from './client.ts';
import { paceReads } from './pace.ts';
import { cpuTime, rssBytes, type CpuTime } from './procfs.ts';
import type { RunningTarget } from './targets.ts';
import type { Upstream } from './upstream.ts';
import { closeFrame, frameBatch, frameSize } from './wsproto.ts';

export interface PhaseContext {
  target: RunningTarget;
  upstream: Upstream;
  log(line: string): void;
}

export interface Percentiles {
  p50Us: number;
  p99Us: number;
  p999Us: number;
}

export interface EchoResult extends Percentiles {
  kind: 'echo';
  payloadBytes: number;
  connections: number;
  /** Round trips completed in the measured window; each is two relayed messages. */
  roundTrips: number;
  cpuSeconds: number;
  /** The kernel's share of cpuSeconds (stime): syscalls, loopback TCP. */
  systemSeconds: number;
  wallSeconds: number;
  tls: string;
}
export interface LatencyResult extends Percentiles {
  kind: 'latency';
  rounds: number;
  meanUs: number;
}
export interface HandshakeResult {
  kind: 'handshake';
  resumed: boolean;
  connections: number;
  /** Share of the measured connections whose TLS session was resumed. */
  resumedShare: number;
  cpuSeconds: number;
  systemSeconds: number;
  wallSeconds: number;
}
export interface IdleResult {
  kind: 'idle';
  connections: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  processes: number;
}
export interface RestResult {
  kind: 'rest';
  rssBytes: number;
  processes: number;
}
export interface SlowReaderResult {
  kind: 'slow';
  /** downstream: the client reads slowly; upstream: the backend does. */
  direction: 'downstream' | 'upstream';
  totalBytes: number;
  rateBytesPerSecond: number;
  seconds: number;
  baselineBytes: number;
  /** RSS just before the measured transfer minus RSS of the fresh start, after one unmeasured transfer. */
  warmupBytes: number;
  maxGrowthBytes: number;
  growthAtHalfBytes: number;
  growthAtEndBytes: number;
  /** Longest GC pause of the proxy during the phase (node --trace-gc), wsgate only. */
  gcMaxPauseMs?: number;
  gcCount?: number;
  gcLongestKind?: string;
  /** Growth over the baseline at ten even points, to tell a plateau from a leak. */
  growthSeriesBytes: number[];
}
export type PhaseResult = EchoResult | LatencyResult | HandshakeResult | IdleResult | RestResult | SlowReaderResult;

function spent(pids: number[], before: CpuTime): { cpuSeconds: number; systemSeconds: number } {
  const after = cpuTime(pids);
  return { cpuSeconds: after.user + after.system - before.user - before.system, systemSeconds: after.system - before.system };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const CLIENT_CLOSE = closeFrame(1000, true);

function describeTls(socket: Socket): string {
  const tls = socket as Socket & { getProtocol?: () => string | null; getCipher?: () => { name: string } };
  return tls.getProtocol ? `${tls.getProtocol()} ${tls.getCipher?.().name}` : 'plain TCP';
}

/** A clean WebSocket close from the client; resolves when TCP is gone. */
function closeGracefully(socket: Socket, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('close handshake did not finish'));
    }, timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('end', () => socket.end());
    socket.resume();
    socket.write(CLIENT_CLOSE);
  });
}

export function percentiles(samples: number[]): Percentiles {
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
  return { p50Us: at(0.5), p99Us: at(0.99), p999Us: at(0.999) };
}

/** One connection that sends its next message when the echo of the last one is back. */
interface EchoLoop {
  /** Sends the first message; the loop goes on until stop(). */
  start(): void;
  /** Resolves once the message in flight is back. */
  stop(): Promise<void>;
  socket: Socket;
}

function echoLoop(socket: Socket, request: Buffer, answerBytes: number, onRoundTrip: (sentAt: number) => void, fail: (error: Error) => void): EchoLoop {
  let received = 0;
  let sentAt = 0;
  let running = false;
  let inFlight = false;
  let stopped: (() => void) | null = null;
  const send = (): void => {
    inFlight = true;
    sentAt = performance.now();
    socket.write(request);
  };
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received < answerBytes) return;
    if (received > answerBytes) return fail(new Error(`echo: ${received} bytes for one ${answerBytes}-byte answer`));
    received = 0;
    inFlight = false;
    onRoundTrip(sentAt);
    if (running) send();
    else stopped?.();
  });
  socket.once('close', () => {
    if (running || inFlight) fail(new Error('echo: connection closed'));
  });
  return {
    socket,
    start() {
      running = true;
      send();
    },
    stop() {
      running = false;
      return inFlight ? new Promise((resolve) => (stopped = resolve)) : Promise.resolve();
    },
  };
}

/**
 * The echo workload: `connections` connections, each sending a `payloadBytes` message and the
 * next one when the echo returns, for a warm-up and then a measured window. Proxy CPU is read
 * over the window; every round trip that starts in it is timed (the loaded round trip).
 */
export async function echo(ctx: PhaseContext, payloadBytes: number, options: { connections: number; warmupMs: number; measureMs: number }): Promise<EchoResult> {
  const request = frameBatch(payloadBytes, 1, true);
  const answerBytes = frameSize(payloadBytes, false);
  const sockets: Socket[] = [];
  await runParallel(options.connections, 25, async () => {
    const { socket, rest } = await openWebSocket(ctx.target.endpoint, `/echo?size=${payloadBytes}`);
    if (rest.length > 0) throw new Error('echo: unexpected bytes after the 101');
    sockets.push(socket);
  });
  let measureFrom = Infinity;
  let roundTrips = 0;
  const samples: number[] = [];
  let failure: Error | undefined;
  const loops = sockets.map((socket) => echoLoop(socket, request, answerBytes, (sentAt) => {
    roundTrips++;
    if (sentAt >= measureFrom) samples.push((performance.now() - sentAt) * 1000);
  }, (error) => (failure ??= error)));
  const pids = ctx.target.pids();
  const upstreamBefore = await ctx.upstream.stats();
  for (const loop of loops) loop.start();
  await sleep(options.warmupMs);
  const cpuBefore = cpuTime(pids);
  measureFrom = performance.now();
  await sleep(options.measureMs);
  await Promise.all(loops.map((loop) => loop.stop()));
  const wallSeconds = (performance.now() - measureFrom) / 1000;
  const cpu = spent(pids, cpuBefore);
  const upstreamAfter = await ctx.upstream.stats();
  if (failure) throw failure;
  // Every message sent (warm-up included) has come back by now, so the far end saw exactly as many.
  const counted = upstreamAfter.dataFrames - upstreamBefore.dataFrames;
  if (counted !== roundTrips || upstreamAfter.malformedFrames !== upstreamBefore.malformedFrames) {
    throw new Error(`echo: upstream counted ${counted} frames (${upstreamAfter.malformedFrames - upstreamBefore.malformedFrames} malformed), the client had ${roundTrips} round trips`);
  }
  const tls = describeTls(sockets[0]!);
  await Promise.all(sockets.map((socket) => closeGracefully(socket)));
  return { kind: 'echo', payloadBytes, connections: options.connections, roundTrips: samples.length, ...cpu, wallSeconds, tls, ...percentiles(samples) };
}

/**
 * Unloaded round trips: one connection per target, one 1 KiB message there and back at a time.
 * All targets run side by side and take turns in blocks, so a noisy neighbour on a shared
 * machine hits each of them alike.
 */
export async function latencyInterleaved(contexts: Map<string, PhaseContext>, rounds: number): Promise<Map<string, LatencyResult>> {
  const block = 250;
  const payload = 1024;
  const request = frameBatch(payload, 1, true);
  const answerBytes = frameSize(payload, false);
  let failure: Error | undefined;
  const pinger = (socket: Socket) => {
    let left = 0;
    let record = false;
    let done = (): void => {};
    const samples: number[] = [];
    const loop = echoLoop(socket, request, answerBytes, (sentAt) => {
      if (record) samples.push((performance.now() - sentAt) * 1000);
      if (--left === 0) {
        void loop.stop();
        done();
      }
    }, (error) => (failure ??= error));
    const run = (n: number, recording: boolean): Promise<void> => new Promise((resolve) => {
      left = n;
      record = recording;
      done = resolve;
      loop.start();
    });
    return { socket, samples, run };
  };
  const pingers = new Map<string, ReturnType<typeof pinger>>();
  try {
    for (const [name, ctx] of contexts) pingers.set(name, pinger((await openWebSocket(ctx.target.endpoint, `/echo?size=${payload}`)).socket));
    for (const p of pingers.values()) await p.run(Math.max(1, Math.floor(rounds / 10)), false);
    for (let done = 0; done < rounds; done += block) {
      for (const p of pingers.values()) await p.run(Math.min(block, rounds - done), true);
      if (failure) throw failure;
    }
  } finally {
    await Promise.all([...pingers.values()].map((p) => closeGracefully(p.socket).catch(() => {})));
  }
  const results = new Map<string, LatencyResult>();
  for (const [name, { samples }] of pingers) {
    results.set(name, { kind: 'latency', rounds: samples.length, meanUs: samples.reduce((sum, x) => sum + x, 0) / samples.length, ...percentiles(samples) });
  }
  return results;
}

async function handshakeAndClose(ctx: PhaseContext, slot?: SessionSlot): Promise<boolean> {
  const { socket } = await openWebSocket(ctx.target.endpoint, '/idle', slot);
  const reused = (socket as TLSSocket).isSessionReused?.() ?? false;
  await closeGracefully(socket);
  return reused;
}

async function settleConnections(ctx: PhaseContext, open: number): Promise<void> {
  await ctx.upstream.until((s) => s.open <= open, 60_000, `upstream connections to fall to ${open}`);
}

/**
 * Proxy CPU for new wss connections, `parallel` at a time: the TLS handshake (full, or resumed
 * from the session ticket each lane got last), the WebSocket handshake, then a clean close.
 * `warmup` connections go first, unmeasured: a JIT-compiled proxy spends its first few hundred
 * handshakes compiling the path (consecutive batches of 500 on one start of wsgate: 1560, 1120,
 * 960, 980 ms of CPU per 1000; nginx 480 from the first), and a proxy in production is warm.
 */
export async function handshakes(ctx: PhaseContext, connections: number, options: { parallel: number; resumed: boolean; warmup: number }): Promise<HandshakeResult> {
  const baseOpen = (await ctx.upstream.stats()).open;
  const pids = ctx.target.pids();
  const slots = Array.from({ length: options.parallel }, (): SessionSlot => ({}));
  const lane = (i: number): SessionSlot | undefined => (options.resumed ? slots[i % options.parallel] : undefined);
  // Each lane's first connection is where it gets its ticket, so a resumed call warms every lane at least once.
  const warmup = options.resumed ? Math.max(options.warmup, options.parallel) : options.warmup;
  await runParallel(warmup, options.parallel, async (i) => void (await handshakeAndClose(ctx, lane(i))));
  await settleConnections(ctx, baseOpen);
  const before = await ctx.upstream.stats();
  const cpuBefore = cpuTime(pids);
  const started = performance.now();
  let reused = 0;
  await runParallel(connections, options.parallel, async (i) => {
    if (await handshakeAndClose(ctx, lane(i))) reused++;
  });
  await settleConnections(ctx, baseOpen);
  // Whatever teardown the proxy still does after the upstream saw the close counts too.
  await sleep(300);
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = spent(pids, cpuBefore);
  const after = await ctx.upstream.stats();
  if (after.handshakes - before.handshakes !== connections || after.closeFrames - before.closeFrames !== connections) {
    throw new Error(`handshake: upstream saw ${after.handshakes - before.handshakes} handshakes and ${after.closeFrames - before.closeFrames} closes, expected ${connections}`);
  }
  if (options.resumed && reused < connections * 0.9) throw new Error(`handshake: only ${reused} of ${connections} sessions were resumed`);
  return { kind: 'handshake', resumed: options.resumed, connections, resumedShare: reused / connections, ...cpu, wallSeconds };
}

/** Resident memory of a started proxy that has served nothing, once it has settled. */
/**
 * Seconds after ready that the at-rest RSS is read: V8's memory reducer gives back the start's
 * young-generation pages about 9 s after start, and a proxy that allocates nothing at rest stays
 * there; 3 s measured the start's residue, not what an operator sees at rest.
 */
export const REST_SETTLE_S = 12;

export async function atRest(ctx: PhaseContext): Promise<RestResult> {
  await sleep(REST_SETTLE_S * 1000);
  const pids = ctx.target.pids();
  return { kind: 'rest', rssBytes: rssBytes(pids), processes: pids.length };
}

/** Resident memory per idle wss connection. */
export async function idleConnections(ctx: PhaseContext, connections: number): Promise<IdleResult> {
  const baseOpen = (await ctx.upstream.stats()).open;
  const pids = ctx.target.pids();
  await runParallel(200, 16, async () => void (await handshakeAndClose(ctx)));
  await settleConnections(ctx, baseOpen);
  await sleep(1000);
  const rssBeforeBytes = rssBytes(pids);
  const held: Socket[] = [];
  await runParallel(connections, 32, async () => {
    held.push((await openWebSocket(ctx.target.endpoint, '/idle')).socket);
  });
  await ctx.upstream.until((s) => s.open - baseOpen >= connections, 60_000, `${connections} idle connections`);
  await sleep(2000);
  const rssAfterBytes = rssBytes(pids);
  for (const socket of held) socket.destroy();
  await settleConnections(ctx, baseOpen);
  return { kind: 'idle', connections, rssBeforeBytes, rssAfterBytes, processes: pids.length };
}

/** The unmeasured transfer moves this many times the measured one: 1x left TurboFan's first compile (the node binary's compiler pages, about 4.6 MiB) inside the measured run. */
const SLOW_WARMUP_TIMES = 3;

/**
 * A slow reader: `totalBytes` of 64 KiB messages pushed as fast as TCP takes them at a reader
 * that takes `rate` bytes a second, the client (downstream) or the backend (upstream). Proxy RSS
 * is sampled every 50 ms over the RSS just before the flood.
 */
export async function slowReader(ctx: PhaseContext, direction: 'downstream' | 'upstream', totalBytes: number, rate: number): Promise<SlowReaderResult> {
  const pids = ctx.target.pids();
  const freshBytes = rssBytes(pids);
  // An unmeasured transfer of the same kind first: the row asks what buffering a slow peer costs a
  // proxy that has carried traffic, not when V8 first runs its optimizing compiler (a one-time step
  // of about 4.6 MiB of the node binary's pages on a fresh start, bench/slow-breakdown.ts).
  // warmupBytes keeps what the warm-up left in the results.
  await slowTransfer(ctx, direction, SLOW_WARMUP_TIMES * totalBytes, rate);
  const run = await slowTransfer(ctx, direction, totalBytes, rate);
  return { ...run, warmupBytes: run.baselineBytes - freshBytes };
}

async function slowTransfer(ctx: PhaseContext, direction: 'downstream' | 'upstream', totalBytes: number, rate: number): Promise<Omit<SlowReaderResult, 'warmupBytes'>> {
  const path = direction === 'downstream' ? '/flood?size=65536' : `/slowsink?rate=${rate}`;
  const baseOpen = (await ctx.upstream.stats()).open;
  const { socket } = await openWebSocket(ctx.target.endpoint, path);
  const pids = ctx.target.pids();
  await sleep(500);
  const baselineBytes = rssBytes(pids);
  const logFrom = ctx.target.logSize?.() ?? 0;
  const upstreamBefore = await ctx.upstream.stats();
  let moved = 0;
  let flooding = true;
  let reader: { stop(): void } | undefined;
  if (direction === 'downstream') {
    reader = paceReads(socket, rate, (bytes) => (moved += bytes));
    socket.write(frameBatch(8, 1, true));
  } else {
    const batch = frameBatch(65536, 4, true);
    const flood = (): void => {
      while (flooding && socket.write(batch));
      if (flooding) socket.once('drain', flood);
    };
    flood();
  }
  const started = performance.now();
  const samples: number[] = [];
  const deadline = started + ((totalBytes / rate) * 3 + 10) * 1000;
  while (moved < totalBytes) {
    await sleep(50);
    samples.push(rssBytes(pids) - baselineBytes);
    if (direction === 'upstream') moved = (await ctx.upstream.stats()).bytesIn - upstreamBefore.bytesIn;
    if (performance.now() > deadline) throw new Error(`slow reader (${direction}): only ${(moved / 2 ** 20).toFixed(1)} MiB moved`);
  }
  const seconds = (performance.now() - started) / 1000;
  flooding = false;
  reader?.stop();
  socket.destroy();
  await settleConnections(ctx, baseOpen);
  // Three samples around each point, so one GC's timing does not decide the verdict.
  const around = (index: number): number => {
    const window = samples.slice(Math.max(0, index - 1), index + 2);
    return window.reduce((sum, x) => sum + x, 0) / window.length;
  };
  const gc = ctx.target.gcPauses?.(logFrom);
  return {
    kind: 'slow',
    direction,
    totalBytes,
    rateBytesPerSecond: rate,
    seconds,
    baselineBytes,
    maxGrowthBytes: Math.max(0, ...samples),
    growthAtHalfBytes: around(Math.floor(samples.length / 2)),
    growthAtEndBytes: around(samples.length - 2),
    ...(gc ? { gcMaxPauseMs: gc.maxMs, gcCount: gc.count, gcLongestKind: gc.longestKind } : {}),
    growthSeriesBytes: Array.from({ length: 10 }, (_, i) => samples[Math.min(samples.length - 1, Math.round(((i + 1) * samples.length) / 10) - 1)] ?? 0),
  };
}

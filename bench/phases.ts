// The six measurements. Each takes a freshly started target, warms it up, measures, and checks
// at the far end (the upstream's frame counters) that the work it paid for was really done.
import type { Socket } from 'node:net';
import { openWebSocket, runParallel, writeRepeated, type OpenSocket } from './client.ts';
import { cpuTime, rssBytes, type CpuTime } from './procfs.ts';
import type { RunningTarget } from './targets.ts';
import type { Upstream } from './upstream.ts';
import { closeFrame, frameBatch, frameSize } from './wsproto.ts';

export interface PhaseContext {
  target: RunningTarget;
  upstream: Upstream;
  log(line: string): void;
}

export interface RelayResult {
  kind: 'relay';
  messages: number;
  payloadBytes: number;
  cpuSeconds: number;
  /** The kernel's share of cpuSeconds (stime): syscalls, loopback TCP. */
  systemSeconds: number;
  wallSeconds: number;
  tls: string;
}
export interface LatencyResult {
  kind: 'latency';
  rounds: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
}
export interface HandshakeResult {
  kind: 'handshake';
  connections: number;
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
export interface SlowReaderResult {
  kind: 'slow';
  seconds: number;
  baselineBytes: number;
  maxGrowthBytes: number;
  growthAtTwoThirdsBytes: number;
  growthAtEndBytes: number;
  clientReadBytes: number;
  upstreamWroteBytes: number;
  /** Growth over the baseline every 5 s, to tell a plateau or a GC sawtooth from a leak. */
  growthSeriesBytes: number[];
  /** What the client had read at the same moments: proof the flow went on. */
  clientReadSeriesBytes: number[];
}
export type PhaseResult = RelayResult | LatencyResult | HandshakeResult | IdleResult | SlowReaderResult;

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

async function sendThroughSink(connections: OpenSocket[], upstream: Upstream, batch: Buffer, batchesPerConnection: number, framesPerBatch: number): Promise<number> {
  const before = await upstream.stats();
  const expected = connections.length * batchesPerConnection * framesPerBatch;
  await Promise.all(connections.map(({ socket }) => writeRepeated(socket, batch, batchesPerConnection)));
  const after = await upstream.until((s) => s.dataFrames - before.dataFrames >= expected, 300_000, `${expected} relayed frames`);
  const got = after.dataFrames - before.dataFrames;
  if (got !== expected || after.malformedFrames !== before.malformedFrames) {
    throw new Error(`relay: upstream counted ${got} frames (${after.malformedFrames - before.malformedFrames} malformed), expected ${expected}`);
  }
  return expected;
}

/** Metrics 1 and 2: proxy CPU for client -> upstream messages of one size. */
export async function relay(ctx: PhaseContext, payloadBytes: number, totalMessages: number): Promise<RelayResult> {
  const connectionCount = 4;
  const framesPerBatch = Math.max(1, Math.floor(65536 / frameSize(payloadBytes, true)));
  const batch = frameBatch(payloadBytes, framesPerBatch, true);
  const batchesPerConnection = Math.ceil(totalMessages / connectionCount / framesPerBatch);
  const connections = await Promise.all(Array.from({ length: connectionCount }, () => openWebSocket(ctx.target.endpoint, '/sink')));
  const pids = ctx.target.pids();
  await sendThroughSink(connections, ctx.upstream, batch, Math.max(1, Math.ceil(batchesPerConnection / 20)), framesPerBatch);
  const cpuBefore = cpuTime(pids);
  const started = performance.now();
  const messages = await sendThroughSink(connections, ctx.upstream, batch, batchesPerConnection, framesPerBatch);
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = spent(pids, cpuBefore);
  const tls = describeTls(connections[0]!.socket);
  await Promise.all(connections.map(({ socket }) => closeGracefully(socket)));
  return { kind: 'relay', messages, payloadBytes, ...cpu, wallSeconds, tls };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** One connection to an echoing upstream, timing one small message there and back at a time. */
async function openPinger(ctx: PhaseContext, payload: number): Promise<{ roundTrips(n: number, samples: number[] | null): Promise<void>; close(): Promise<void> }> {
  const request = frameBatch(payload, 1, true);
  const answerBytes = frameSize(payload, false);
  const { socket, rest } = await openWebSocket(ctx.target.endpoint, `/echo?size=${payload}`);
  if (rest.length > 0) throw new Error('latency: unexpected bytes after the 101');
  let received = 0;
  let sentAt = 0n;
  let left = 0;
  let record: number[] | null = null;
  let done: (() => void) | null = null;
  let failed: ((error: Error) => void) | null = null;
  const send = (): void => {
    sentAt = process.hrtime.bigint();
    socket.write(request);
  };
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received < answerBytes) return;
    if (received > answerBytes) return failed?.(new Error(`latency: ${received} bytes for one ${answerBytes}-byte answer`));
    received = 0;
    record?.push(Number(process.hrtime.bigint() - sentAt) / 1000);
    if (--left === 0) done?.();
    else send();
  });
  socket.once('close', () => failed?.(new Error('latency: connection closed')));
  return {
    roundTrips(n, samples) {
      return new Promise((resolve, reject) => {
        left = n;
        record = samples;
        done = resolve;
        failed = reject;
        send();
      });
    },
    async close() {
      socket.removeAllListeners('data');
      socket.removeAllListeners('close');
      await closeGracefully(socket);
    },
  };
}

/**
 * Metric 3: sequential round trips of a 32-byte message on one connection per target (the
 * upstream echoes). All targets run side by side and take turns in blocks, so a noisy
 * neighbour on a shared machine hits each of them alike.
 */
export async function latencyInterleaved(contexts: Map<string, PhaseContext>, rounds: number): Promise<Map<string, LatencyResult>> {
  const block = 250;
  const pingers = new Map<string, Awaited<ReturnType<typeof openPinger>>>();
  const samples = new Map<string, number[]>();
  try {
    for (const [name, ctx] of contexts) {
      pingers.set(name, await openPinger(ctx, 32));
      samples.set(name, []);
    }
    for (const pinger of pingers.values()) await pinger.roundTrips(Math.max(1, Math.floor(rounds / 10)), null);
    for (let done = 0; done < rounds; done += block) {
      for (const [name, pinger] of pingers) await pinger.roundTrips(Math.min(block, rounds - done), samples.get(name)!);
    }
  } finally {
    await Promise.all([...pingers.values()].map((pinger) => pinger.close()));
  }
  const results = new Map<string, LatencyResult>();
  for (const [name, list] of samples) {
    const sorted = list.sort((a, b) => a - b);
    results.set(name, {
      kind: 'latency',
      rounds: sorted.length,
      p50Us: percentile(sorted, 0.5),
      p99Us: percentile(sorted, 0.99),
      meanUs: sorted.reduce((sum, x) => sum + x, 0) / sorted.length,
    });
  }
  return results;
}

async function handshakeAndClose(ctx: PhaseContext): Promise<void> {
  const { socket } = await openWebSocket(ctx.target.endpoint, '/idle');
  await closeGracefully(socket);
}

async function settleConnections(ctx: PhaseContext, open: number): Promise<void> {
  await ctx.upstream.until((s) => s.open <= open, 60_000, `upstream connections to fall to ${open}`);
}

/** Metric 4: proxy CPU for full TLS + WebSocket handshakes, each followed by a clean close. */
export async function handshakes(ctx: PhaseContext, connections: number): Promise<HandshakeResult> {
  const parallel = 16;
  const baseOpen = (await ctx.upstream.stats()).open;
  const pids = ctx.target.pids();
  await runParallel(Math.ceil(connections / 10), parallel, () => handshakeAndClose(ctx));
  await settleConnections(ctx, baseOpen);
  const before = await ctx.upstream.stats();
  const cpuBefore = cpuTime(pids);
  const started = performance.now();
  await runParallel(connections, parallel, () => handshakeAndClose(ctx));
  await settleConnections(ctx, baseOpen);
  // Whatever teardown the proxy still does after the upstream saw the close counts too.
  await sleep(300);
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = spent(pids, cpuBefore);
  const after = await ctx.upstream.stats();
  if (after.handshakes - before.handshakes !== connections || after.closeFrames - before.closeFrames !== connections) {
    throw new Error(`handshake: upstream saw ${after.handshakes - before.handshakes} handshakes and ${after.closeFrames - before.closeFrames} closes, expected ${connections}`);
  }
  return { kind: 'handshake', connections, ...cpu, wallSeconds };
}

/** Metric 5: resident memory per idle wss connection. */
export async function idleConnections(ctx: PhaseContext, connections: number): Promise<IdleResult> {
  const baseOpen = (await ctx.upstream.stats()).open;
  const pids = ctx.target.pids();
  await runParallel(200, 16, () => handshakeAndClose(ctx));
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

/** Metric 6: the upstream floods 64 KiB messages at a client that reads a little now and then. */
export async function slowReader(ctx: PhaseContext, seconds: number): Promise<SlowReaderResult> {
  const { socket } = await openWebSocket(ctx.target.endpoint, '/flood?size=65536');
  socket.pause();
  const pids = ctx.target.pids();
  await sleep(1000);
  const baselineBytes = rssBytes(pids);
  const before = await ctx.upstream.stats();
  let clientReadBytes = 0;
  socket.on('data', (chunk: Buffer) => {
    clientReadBytes += chunk.length;
    socket.pause();
  });
  socket.pause();
  socket.write(frameBatch(8, 1, true));
  // About one TLS record every 50 ms: a reader far slower than the flood.
  const reader = setInterval(() => socket.resume(), 50);
  const samples: number[] = [];
  const readSamples: number[] = [];
  const sampleEveryMs = 250;
  const count = Math.round((seconds * 1000) / sampleEveryMs);
  for (let i = 0; i < count; i++) {
    await sleep(sampleEveryMs);
    samples.push(rssBytes(pids) - baselineBytes);
    readSamples.push(clientReadBytes);
  }
  clearInterval(reader);
  const after = await ctx.upstream.stats();
  socket.destroy();
  const everyFiveSeconds = (_: number, i: number): boolean => (i + 1) % Math.round(5000 / sampleEveryMs) === 0;
  // Three samples around each point, so one GC's timing does not decide the verdict.
  const around = (index: number): number => {
    const window = samples.slice(Math.max(0, index - 1), index + 2);
    return window.reduce((sum, x) => sum + x, 0) / window.length;
  };
  return {
    kind: 'slow',
    seconds,
    baselineBytes,
    maxGrowthBytes: Math.max(...samples),
    growthAtTwoThirdsBytes: around(Math.floor((count * 2) / 3) - 1),
    growthAtEndBytes: around(count - 2),
    clientReadBytes,
    upstreamWroteBytes: after.floodBytesOut - before.floodBytesOut,
    growthSeriesBytes: samples.filter(everyFiveSeconds),
    clientReadSeriesBytes: readSamples.filter(everyFiveSeconds),
  };
}

// One fuzz campaign: hostile heads, then frame sequences, against one wsgate, bounded by count
// and by time, with a control WebSocket opened first that must keep echoing throughout.
import fc from 'fast-check';
import { encodeFrame, startFuzzTarget } from './targets.ts';
import { frameCase, openRaw, runFrameCase } from './frames.ts';
import { ALLOWED_STATUSES, headCase, sendHead } from './heads.ts';

export interface CampaignOptions {
  seed: number;
  seconds: number;
  maxHeads: number;
  maxFrameCases: number;
  log?: (line: string) => void;
}

export interface CampaignReport {
  seed: number;
  heads: number;
  statuses: Record<string, number>;
  frameCases: number;
  bytesRelayed: number;
  controlEchoes: number;
  failures: string[];
}

export async function runCampaign(options: CampaignOptions): Promise<CampaignReport> {
  const log = options.log ?? (() => {});
  const report: CampaignReport = { seed: options.seed, heads: 0, statuses: {}, frameCases: 0, bytesRelayed: 0, controlEchoes: 0, failures: [] };
  const target = await startFuzzTarget('1s');
  try {
    const control = await openRaw(target.wsgate.ports.http, 'control');
    const controlBack: Buffer[] = [control.after];
    control.socket.on('data', (d: Buffer) => controlBack.push(d));
    const checkControl = async (): Promise<void> => {
      const before = Buffer.concat(controlBack).length;
      const message = Buffer.from(`control ${report.controlEchoes}`);
      control.socket.write(encodeFrame(0x81, message, Buffer.from([1, 2, 3, 4])));
      const expected = encodeFrame(0x81, message);
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && Buffer.concat(controlBack).length < before + expected.length) await new Promise((r) => setTimeout(r, 5));
      if (!Buffer.concat(controlBack).subarray(before).equals(expected)) throw new Error('the control connection stopped echoing');
      report.controlEchoes++;
    };
    const deadline = Date.now() + options.seconds * 1000;
    const headsUntil = Date.now() + (options.seconds * 1000) / 2;
    // Sampled batch by batch (seed + batch index), so a short run does not generate a long one.
    for (let i = 0; i < options.maxHeads && Date.now() < headsUntil; i += 25) {
      const batch = fc.sample(headCase, { numRuns: Math.min(25, options.maxHeads - i), seed: options.seed + i });
      // Every other batch over TLS: that listener parses clean upgrade heads itself.
      const overTls = (i / 25) % 2 === 1;
      const port = overTls ? target.wsgate.ports.https : target.wsgate.ports.http;
      const statuses = await Promise.all(batch.map((one) => sendHead(port, one, 3000, { tls: overTls })));
      statuses.forEach((status, j) => {
        report.statuses[status] = (report.statuses[status] ?? 0) + 1;
        if (!ALLOWED_STATUSES.has(status)) report.failures.push(`head #${i + j}${overTls ? ' (TLS)' : ''} answered ${status}: ${JSON.stringify(batch[j]!.bytes.toString('latin1').slice(0, 200))}`);
      });
      report.heads += batch.length;
      if (target.wsgate.exited()) throw new Error('wsgate exited during the head fuzz');
      await checkControl();
    }
    log(`heads: ${report.heads} tried, statuses ${JSON.stringify(report.statuses)}`);
    for (let i = 0; i < options.maxFrameCases && Date.now() < deadline; i++) {
      try {
        const [one] = fc.sample(frameCase, { numRuns: 1, seed: options.seed + 1_000_000 + i });
        report.bytesRelayed += await runFrameCase(target, one!);
      } catch (error) {
        report.failures.push(`frame case #${i}: ${(error as Error).message}`);
      }
      report.frameCases++;
      if (i % 20 === 19) await checkControl();
    }
    await checkControl();
    log(`frames: ${report.frameCases} sequences, ${report.bytesRelayed} bytes relayed and compared`);
    control.socket.destroy();
  } catch (error) {
    report.failures.push((error as Error).message);
  } finally {
    await target.stop();
  }
  return report;
}

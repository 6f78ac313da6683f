import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameScanner, encodeCloseFrame, closeCodeFromPayload } from '../../../src/dataplane/relay/frames.ts';

/** Frames as the RFC prints them: hex with free spacing. */
function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

interface FrameSpec {
  fin?: boolean;
  opcode: number;
  payload: Buffer;
  mask?: Buffer;
  /** Force a length encoding (the 16- and 64-bit forms may carry short payloads). */
  lengthForm?: 7 | 16 | 64;
}

/** An independent encoder (RFC 6455 §5.2), so the scanner is not checked against itself. */
function frame(spec: FrameSpec): Buffer {
  const { payload, mask } = spec;
  const form = spec.lengthForm ?? (payload.length < 126 ? 7 : payload.length < 65536 ? 16 : 64);
  const extended = form === 7 ? 0 : form === 16 ? 2 : 8;
  const head = Buffer.alloc(2 + extended + (mask ? 4 : 0));
  head[0] = (spec.fin === false ? 0 : 0x80) | spec.opcode;
  head[1] = (mask ? 0x80 : 0) | (form === 7 ? payload.length : form === 16 ? 126 : 127);
  if (form === 16) head.writeUInt16BE(payload.length, 2);
  if (form === 64) head.writeBigUInt64BE(BigInt(payload.length), 2);
  if (!mask) return Buffer.concat([head, payload]);
  mask.copy(head, 2 + extended);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] = masked[i]! ^ mask[i % 4]!;
  return Buffer.concat([head, masked]);
}

function closePayload(code: number, reason = ''): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return payload;
}

interface Outcome {
  forwarded: Buffer;
  messages: number;
  closeCode: number;
  oversize: boolean;
  atBoundary: boolean;
}

function feed(chunks: Buffer[], maxPayload?: number): Outcome {
  const scanner = new FrameScanner(maxPayload);
  const out: Buffer[] = [];
  for (const chunk of chunks) out.push(scanner.scan(chunk));
  return { forwarded: Buffer.concat(out), messages: scanner.messages, closeCode: scanner.closeCode, oversize: scanner.oversize, atBoundary: scanner.atBoundary };
}

/** Every way of cutting `bytes` in two, plus one byte at a time. */
function splits(bytes: Buffer): Buffer[][] {
  const ways: Buffer[][] = [];
  for (let i = 1; i < bytes.length; i++) ways.push([bytes.subarray(0, i), bytes.subarray(i)]);
  ways.push([...bytes].map((b) => Buffer.from([b])));
  return ways;
}

/** The outcome fed whole, after checking every split gives exactly the same. */
function scanEverySplit(bytes: Buffer, maxPayload?: number): Outcome {
  const whole = feed([bytes], maxPayload);
  for (const chunks of splits(bytes)) {
    const split = feed(chunks, maxPayload);
    assert.deepEqual(split, whole, `split into ${chunks.map((c) => c.length).join('+')}`);
  }
  return whole;
}

const MASK = hex('37 fa 21 3d');

test('RFC 6455 §5.7 examples: unmasked and masked "Hello" are one message each, bytes untouched', () => {
  for (const bytes of [hex('81 05 48656c6c6f'), hex('81 85 37fa213d 7f9f4d5158')]) {
    const outcome = scanEverySplit(bytes);
    assert.deepEqual(outcome.forwarded, bytes);
    assert.equal(outcome.messages, 1);
    assert.equal(outcome.closeCode, 0);
    assert.equal(outcome.atBoundary, true);
  }
});

test('a whole chunk of complete frames comes back as the same Buffer (no copy)', () => {
  const chunk = Buffer.concat([hex('81 05 48656c6c6f'), hex('89 00'), hex('82 81 37fa213d 00')]);
  const scanner = new FrameScanner(10_000);
  assert.equal(scanner.scan(chunk), chunk);
  assert.equal(scanner.messages, 2);
  // Mid-payload chunk ends are not held back either.
  const big = frame({ opcode: 2, payload: Buffer.alloc(5000) });
  const firstPart = big.subarray(0, 100);
  const secondPart = big.subarray(100);
  assert.equal(scanner.scan(firstPart), firstPart);
  assert.equal(scanner.atBoundary, false);
  assert.equal(scanner.scan(secondPart), secondPart);
  assert.equal(scanner.messages, 3);
});

test('fragmented message with control frames between fragments counts once', () => {
  // RFC 6455 §5.7: "Hel" + "lo" fragments, with a ping and a pong between them.
  const bytes = Buffer.concat([
    hex('01 03 48656c'),
    hex('89 05 48656c6c6f'),
    hex('8a 85 37fa213d 7f9f4d5158'),
    hex('80 02 6c6f'),
  ]);
  const outcome = scanEverySplit(bytes);
  assert.equal(outcome.messages, 1);
  assert.deepEqual(outcome.forwarded, bytes);
  // A message that has not ended yet is not counted.
  assert.equal(feed([bytes.subarray(0, 5)]).messages, 0);
});

test('16-bit and 64-bit payload lengths, masked and unmasked', () => {
  const p256 = Buffer.alloc(256, 7);
  const p64k = Buffer.alloc(65536, 9);
  const frames = [
    frame({ opcode: 2, payload: p256 }),
    frame({ opcode: 2, payload: p256, mask: MASK }),
    frame({ opcode: 2, payload: p64k }),
    frame({ opcode: 2, payload: p64k, mask: MASK }),
    frame({ opcode: 1, payload: Buffer.from('hi'), lengthForm: 64 }),
  ];
  assert.deepEqual(frames[0]!.subarray(0, 4), hex('82 7e 0100'));
  assert.deepEqual(frames[2]!.subarray(0, 10), hex('82 7f 0000000000010000'));
  const bytes = Buffer.concat(frames);
  // Cuts around every header (every split of a 200 KB input would be slow and adds nothing).
  const whole = feed([bytes]);
  assert.equal(whole.messages, 5);
  assert.deepEqual(whole.forwarded, bytes);
  let offset = 0;
  for (const f of frames) {
    for (let cut = Math.max(1, offset - 3); cut <= offset + 16 && cut < bytes.length; cut++) {
      assert.deepEqual(feed([bytes.subarray(0, cut), bytes.subarray(cut)]), whole, `cut at ${cut}`);
    }
    offset += f.length;
  }
  for (const f of frames) assert.deepEqual(feed([...f].map((b) => Buffer.from([b]))).messages, 1);
});

test('close frames: the first code is kept, masked or not, split anywhere; no status is 1005', () => {
  const cases: Array<[Buffer, number]> = [
    [hex('88 02 0fa0'), 4000],
    [frame({ opcode: 8, payload: closePayload(1001, 'bye'), mask: MASK }), 1001],
    [frame({ opcode: 8, payload: closePayload(4001), mask: hex('ff ff ff ff') }), 4001],
    [hex('88 00'), 1005],
    [hex('88 80 01020304'), 1005],
  ];
  for (const [bytes, code] of cases) {
    const outcome = scanEverySplit(bytes);
    assert.equal(outcome.closeCode, code, bytes.toString('hex'));
    assert.equal(outcome.messages, 0);
  }
  // The first close frame wins over a later one, and a close between fragments does not end a message.
  const two = Buffer.concat([hex('01 01 61'), hex('88 02 0fa0'), hex('88 02 03e8')]);
  assert.equal(scanEverySplit(two).closeCode, 4000);
  assert.equal(closeCodeFromPayload(closePayload(1000)), 1000);
  assert.equal(closeCodeFromPayload(Buffer.alloc(0)), 1005);
});

test('scanner flags: closeReceived / closeForwarded only when the close frame is complete', () => {
  const bytes = frame({ opcode: 8, payload: closePayload(1000, 'done'), mask: MASK });
  const scanner = new FrameScanner();
  scanner.scan(bytes.subarray(0, 9));
  assert.equal(scanner.closeCode, 1000);
  assert.equal(scanner.closeReceived, false);
  scanner.scan(bytes.subarray(9));
  assert.equal(scanner.closeReceived, true);
  assert.equal(scanner.closeForwarded, true);
});

test('oversize: a payload at the limit passes, one byte more stops before its header', () => {
  const ok = frame({ opcode: 1, payload: Buffer.from('Hello') });
  const okMasked = frame({ opcode: 1, payload: Buffer.from('Hello'), mask: MASK });
  const tooBig = frame({ opcode: 1, payload: Buffer.from('Hello!'), mask: MASK });
  const atLimit = scanEverySplit(Buffer.concat([ok, okMasked]), 5);
  assert.equal(atLimit.oversize, false);
  assert.equal(atLimit.messages, 2);

  const after = Buffer.concat([ok, tooBig, ok]);
  const outcome = scanEverySplit(after, 5);
  assert.equal(outcome.oversize, true);
  assert.deepEqual(outcome.forwarded, ok, 'forwarded bytes end right before the oversized header');
  assert.equal(outcome.messages, 1);

  // Detected from the header alone: a 64-bit length header with no payload behind it yet.
  const huge = frame({ opcode: 2, payload: Buffer.alloc(70_000), mask: MASK }).subarray(0, 14);
  const early = scanEverySplit(Buffer.concat([ok, huge]), 65_535);
  assert.equal(early.oversize, true);
  assert.deepEqual(early.forwarded, ok);

  // Oversized fragments count too (the limit is per frame payload).
  const fragments = Buffer.concat([frame({ opcode: 1, fin: false, payload: Buffer.from('abc') }), frame({ opcode: 0, payload: Buffer.from('abcdefgh') })]);
  const fragmented = scanEverySplit(fragments, 5);
  assert.equal(fragmented.oversize, true);
  assert.equal(fragmented.forwarded.length, 5);
});

test('after oversize, later frames are scanned but not returned (a close reply is still noticed)', () => {
  const tooBig = frame({ opcode: 2, payload: Buffer.alloc(20), mask: MASK });
  const reply = frame({ opcode: 8, payload: closePayload(1009), mask: MASK });
  const scanner = new FrameScanner(10);
  assert.equal(scanner.scan(tooBig).length, 0);
  assert.equal(scanner.scan(reply).length, 0);
  assert.equal(scanner.closeCode, 1009);
  assert.equal(scanner.closeReceived, true);
  assert.equal(scanner.closeForwarded, false);
  assert.equal(scanner.messages, 0);
});

test('stop at the next boundary: the current frame is finished, nothing after it', () => {
  const first = frame({ opcode: 2, payload: Buffer.alloc(300, 1) });
  const second = frame({ opcode: 1, payload: Buffer.from('later') });
  const bytes = Buffer.concat([first, second]);
  for (let cut = 1; cut < first.length; cut++) {
    const scanner = new FrameScanner();
    const head = scanner.scan(bytes.subarray(0, cut));
    scanner.stopAtNextBoundary();
    if (scanner.stopped) {
      // Stopped at once only when the cut fell between frames or inside the first header.
      assert.ok(cut < 4, `cut ${cut}`);
      assert.equal(head.length, 0);
      continue;
    }
    const rest = scanner.scan(bytes.subarray(cut));
    assert.equal(scanner.stopped, true);
    assert.deepEqual(Buffer.concat([head, rest]), first, `cut ${cut}`);
    assert.equal(scanner.messages, 1);
    assert.equal(scanner.scan(second).length, 0);
  }
  const idle = new FrameScanner();
  idle.scan(first);
  idle.stopAtNextBoundary();
  assert.equal(idle.stopped, true, 'already at a boundary: stops at once');
  assert.equal(idle.scan(second).length, 0);
});

test('a split header never delays complete frames before it', () => {
  const a = frame({ opcode: 1, payload: Buffer.from('abc') });
  const b = frame({ opcode: 1, payload: Buffer.alloc(300), mask: MASK });
  const scanner = new FrameScanner();
  const chunk = Buffer.concat([a, b.subarray(0, 3)]);
  assert.deepEqual(scanner.scan(chunk), a);
  assert.equal(scanner.messages, 1);
  assert.equal(scanner.atBoundary, true);
  const rest = scanner.scan(b.subarray(3));
  assert.deepEqual(rest, b, 'held header bytes come back prefixed');
});

test('encodeCloseFrame: unmasked toward the client, masked with a fresh key toward the upstream', () => {
  assert.deepEqual(encodeCloseFrame(1001, false), hex('88 02 03e9'));
  const keys = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const masked = encodeCloseFrame(1009, true);
    assert.equal(masked.length, 8);
    assert.equal(masked[1], 0x82);
    keys.add(masked.subarray(2, 6).toString('hex'));
    const scanner = new FrameScanner();
    assert.equal(scanner.scan(masked), masked);
    assert.equal(scanner.closeCode, 1009);
    assert.equal(scanner.closeForwarded, true);
  }
  assert.ok(keys.size > 1, 'masking keys differ');
});

// --- property ------------------------------------------------------------------------------

const frameArbitrary = fc
  .record({
    fin: fc.boolean(),
    opcode: fc.constantFrom(0, 1, 2, 8, 9, 10),
    length: fc.oneof({ weight: 8, arbitrary: fc.nat(140) }, { weight: 1, arbitrary: fc.integer({ min: 65530, max: 65600 }) }),
    masked: fc.boolean(),
    mask: fc.uint8Array({ minLength: 4, maxLength: 4 }),
    closeCode: fc.integer({ min: 1000, max: 4999 }),
    wide: fc.constantFrom<undefined | 16 | 64>(undefined, undefined, 16, 64),
  })
  .map((r): FrameSpec & { code: number } => {
    const isClose = r.opcode === 8;
    const payload = isClose ? (r.length === 0 ? Buffer.alloc(0) : closePayload(r.closeCode, 'x'.repeat(r.length % 20))) : Buffer.alloc(r.length, r.length & 0xff);
    const code = isClose ? closeCodeFromPayload(payload) : 0;
    const lengthForm = r.wide === 16 && payload.length > 65535 ? 64 : r.wide;
    return { fin: r.fin, opcode: r.opcode, payload, mask: r.masked ? Buffer.from(r.mask) : undefined, lengthForm, code };
  });

test('property: random frames cut at random points scan like the whole, forwarded bytes equal the input up to an oversize cut', () => {
  fc.assert(
    fc.property(
      fc.array(frameArbitrary, { minLength: 1, maxLength: 12 }),
      fc.array(fc.nat(), { maxLength: 20 }),
      fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
      (frames, cutSeeds, maxPayload) => {
        const encoded = frames.map((f) => frame(f));
        const bytes = Buffer.concat(encoded);
        const cuts = [...new Set(cutSeeds.map((s) => s % (bytes.length + 1)))].sort((x, y) => x - y);
        const chunks: Buffer[] = [];
        let last = 0;
        for (const cut of cuts) {
          chunks.push(bytes.subarray(last, cut));
          last = cut;
        }
        chunks.push(bytes.subarray(last));

        // The model: where the first oversized frame starts, messages before it, the first close.
        let offset = 0;
        let cutAt = bytes.length;
        let messages = 0;
        for (let i = 0; i < frames.length; i++) {
          if (maxPayload !== undefined && frames[i]!.payload.length > maxPayload) {
            cutAt = offset;
            break;
          }
          if (frames[i]!.opcode < 8 && frames[i]!.fin !== false) messages++;
          offset += encoded[i]!.length;
        }
        const firstClose = frames.find((f) => f.opcode === 8)?.code ?? 0;

        const whole = feed([bytes], maxPayload);
        const split = feed(chunks, maxPayload);
        assert.deepEqual(split, whole);
        assert.deepEqual(whole.forwarded, bytes.subarray(0, cutAt));
        assert.equal(whole.messages, messages);
        assert.equal(whole.oversize, cutAt < bytes.length);
        assert.equal(whole.closeCode, firstClose);
      },
    ),
    { numRuns: 300 },
  );
});

// The fast path of a WebSocket handshake on the TLS listener (issue 9: handshake CPU). node:http
// builds a parser state, an IncomingMessage (a Readable), its header objects and a dozen socket
// listeners for every connection, and tears them down again at the upgrade. A browser's
// handshake is one clean head in one TLS record, so this reads that head itself; it accepts only
// a strict subset of what Node's parser accepts, parsed to the same fields. Anything outside the
// subset (another method, HTTP/1.0, a duplicate field, a body, obs-fold, a bare LF, a byte outside
// visible ASCII, a head split across reads, a large head) returns undefined, and the listener
// gives the bytes back to node:http, which answers it exactly as before (SPEC §7).
import { headerListHas, isWebSocketRequest } from '../handshake/checks.ts';
import type { RequestHead } from '../handshake/pipeline.ts';

export interface ParsedUpgradeHead extends RequestHead {
  /** Bytes of the head, its final CRLF included: what follows is the client's early data. */
  length: number;
}

/** Heads above this go to node:http, whose limit (16 KiB, SPEC §7: 431) then applies. */
export const FAST_HEAD_MAX_BYTES = 8 * 1024;
/** More fields than a handshake needs: node:http's path, which caps what it keeps. */
export const FAST_HEAD_MAX_FIELDS = 64;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/** A byte class: the characters of `chars` and the inclusive byte ranges given. */
function byteClass(chars: string, ...ranges: Array<[number, number]>): Uint8Array {
  const table = new Uint8Array(256);
  for (const c of chars) table[c.charCodeAt(0)] = 1;
  for (const [from, to] of ranges) table.fill(1, from, to + 1);
  return table;
}
const DIGIT: [number, number] = [0x30, 0x39];
const UPPER: [number, number] = [0x41, 0x5a];
const LOWER: [number, number] = [0x61, 0x7a];

// RFC 9110 §5.6.2 tchar: a field name.
const TOKEN = byteClass("!#$%&'*+-.^_`|~", DIGIT, UPPER, LOWER);
// A field value: visible ASCII, SP and HTAB (no obs-text, no control byte).
const VALUE = byteClass(' \t', [0x21, 0x7e]);
// A request target: RFC 3986's unreserved, sub-delims, ':', '@', '/', '?' and '%'. Anything else
// (a double quote, '<', a backslash, '#', '[', a byte over 0x7e) is node:http's to accept or refuse.
const TARGET = byteClass("-._~!$&'()*+,;=:@/?%", DIGIT, UPPER, LOWER);

const REQUEST_LINE_END = Buffer.from(' HTTP/1.1\r\n', 'latin1');
// Fields whose presence puts a request outside the subset: a body's framing is node:http's to judge.
const NOT_FAST = new Set(['content-length', 'transfer-encoding']);

/**
 * The head at the start of `chunk`, when it is a complete WebSocket upgrade in the subset above;
 * undefined otherwise (the caller hands the bytes to node:http).
 */
export function parseUpgradeHead(chunk: Buffer): ParsedUpgradeHead | undefined {
  const end = Math.min(chunk.length, FAST_HEAD_MAX_BYTES);
  // "GET /": origin-form only; absolute-form and asterisk-form take node:http's path.
  if (end < 16 || chunk[0] !== 0x47 || chunk[1] !== 0x45 || chunk[2] !== 0x54 || chunk[3] !== SP || chunk[4] !== 0x2f) return undefined;
  let at = 5;
  while (at < end && TARGET[chunk[at]!] === 1) at++;
  if (at + REQUEST_LINE_END.length > end || chunk.compare(REQUEST_LINE_END, 0, REQUEST_LINE_END.length, at, at + REQUEST_LINE_END.length) !== 0) return undefined;
  const url = chunk.toString('latin1', 4, at);
  at += REQUEST_LINE_END.length;

  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  const rawHeaders: string[] = [];
  for (;;) {
    if (at + 1 >= end) return undefined;
    if (chunk[at] === CR) {
      if (chunk[at + 1] !== LF) return undefined;
      at += 2;
      break;
    }
    const nameStart = at;
    while (at < end && TOKEN[chunk[at]!] === 1) at++;
    if (at === nameStart || at >= end || chunk[at] !== COLON) return undefined;
    const nameEnd = at++;
    while (at < end && (chunk[at] === SP || chunk[at] === HTAB)) at++;
    const valueStart = at;
    while (at < end && VALUE[chunk[at]!] === 1) at++;
    if (at + 1 >= end || chunk[at] !== CR || chunk[at + 1] !== LF) return undefined;
    let valueEnd = at;
    while (valueEnd > valueStart && (chunk[valueEnd - 1] === SP || chunk[valueEnd - 1] === HTAB)) valueEnd--;
    at += 2;
    if (rawHeaders.length === FAST_HEAD_MAX_FIELDS * 2) return undefined;
    const name = chunk.toString('latin1', nameStart, nameEnd);
    const lower = name.toLowerCase();
    // Node joins some duplicates, drops others and keeps Host's first: its rules, not a copy of them.
    if (headers[lower] !== undefined || NOT_FAST.has(lower)) return undefined;
    const value = chunk.toString('latin1', valueStart, valueEnd);
    headers[lower] = value;
    rawHeaders.push(name, value);
  }
  // What node:http's shouldUpgradeCallback and its Connection check would both call an upgrade.
  if (!isWebSocketRequest(headers) || !headerListHas(headers.connection, 'upgrade')) return undefined;
  return { method: 'GET', url, httpVersion: '1.1', headers, rawHeaders, length: at };
}

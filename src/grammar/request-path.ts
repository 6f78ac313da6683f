// The request target as routing and upstreams must both see it (SPEC §5, §7; RFC 3986 §2.3,
// §5.2.4; RFC 9112 §3.2). Matching the raw target while the backend normalises it lets
// `/public/../private` reach a route its policy forbids (Envoy CVE-2019-9901), so routing, policy
// and the upstream request all use the one form this function returns.
//
// Choices: the asterisk-form `*` is refused (it only means anything for OPTIONS, never for a
// handshake or a proxied request); `..;` and double encodings such as `%252e` are ordinary
// segment text, as for nginx; the query is passed through untouched (it keeps its `?`).

export interface RequestTarget {
  /** Normalised path: starts with `/`, no empty, `.` or `..` segment, no encoded unreserved. */
  path: string;
  /** The query with its leading `?`, or `` when the target has none; never rewritten. */
  query: string;
  /** Lowercased `host[:port]` of an absolute-form target; it replaces the `Host` header. */
  authority?: string;
}

export type RequestTargetResult = { ok: true; value: RequestTarget } | { ok: false; reason: string };

// Anything that makes the slow path necessary, or that the slow path refuses.
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const NEEDS_WORK = /[%\\\x00-\x20\x7f]|\/\/|\/\.\.?(?:\/|$)/;
const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s;
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=-]+)(?::\d{1,5})?$/;
const HEX = '0123456789ABCDEF';

export function normaliseRequestTarget(target: string): RequestTargetResult {
  if (target.startsWith('/')) return normaliseOriginForm(target);
  if (target === '*') return refuse('the asterisk-form `*` names no resource to route');
  const absolute = ABSOLUTE.exec(target);
  if (absolute === null) return refuse('the request target is neither origin-form nor absolute-form');
  const [, scheme, authority, rest] = absolute as unknown as [string, string, string, string];
  const lowerScheme = scheme.toLowerCase();
  if (lowerScheme !== 'http' && lowerScheme !== 'https') {
    return refuse(`absolute-form target with scheme ${JSON.stringify(scheme)}: only http and https`);
  }
  if (authority === '') return refuse('absolute-form target without an authority');
  if (!AUTHORITY.test(authority)) return refuse('absolute-form target with an invalid authority');
  const origin = normaliseOriginForm(rest === '' || rest.startsWith('?') ? `/${rest}` : rest);
  if (!origin.ok) return origin;
  return { ok: true, value: { ...origin.value, authority: authority.toLowerCase() } };
}

function normaliseOriginForm(target: string): RequestTargetResult {
  const mark = target.indexOf('?');
  const path = mark === -1 ? target : target.slice(0, mark);
  const query = mark === -1 ? '' : target.slice(mark);
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  if (/[\x00-\x20\x7f#]/.test(query)) return refuse('control character, space or `#` in the query');
  if (!NEEDS_WORK.test(path)) return { ok: true, value: { path, query } };
  const segments = path.split('/');
  const kept: string[] = [];
  let trailingSlash = false;
  for (let i = 1; i < segments.length; i++) {
    const decoded = decodeSegment(segments[i]!);
    if (typeof decoded !== 'string') return decoded;
    const last = i === segments.length - 1;
    if (decoded === '' || decoded === '.') {
      trailingSlash = last;
    } else if (decoded === '..') {
      if (kept.pop() === undefined) return refuse('the path climbs above the root');
      trailingSlash = last;
    } else {
      kept.push(decoded);
      trailingSlash = false;
    }
  }
  const joined = kept.length === 0 ? '/' : `/${kept.join('/')}${trailingSlash ? '/' : ''}`;
  return { ok: true, value: { path: joined, query } };
}

/** One segment with unreserved escapes decoded and the others in upper-case hex. */
function decodeSegment(segment: string): string | { ok: false; reason: string } {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const code = segment.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) return refuse('control character or space in the path');
    if (code === 0x5c) return refuse('backslash in the path');
    if (code !== 0x25) {
      out += segment[i];
      continue;
    }
    const byte = hexByte(segment, i + 1);
    if (byte === undefined) return refuse('invalid percent escape in the path');
    if (byte === 0x2f) return refuse('encoded `/` (%2F) in the path');
    if (byte === 0x5c) return refuse('encoded `\\` (%5C) in the path');
    if (byte === 0x00) return refuse('encoded NUL (%00) in the path');
    out += isUnreserved(byte) ? String.fromCharCode(byte) : `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
    i += 2;
  }
  return out;
}

function hexByte(text: string, at: number): number | undefined {
  const high = hexDigit(text.charCodeAt(at));
  const low = hexDigit(text.charCodeAt(at + 1));
  return high === undefined || low === undefined ? undefined : high * 16 + low;
}

function hexDigit(code: number): number | undefined {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return undefined;
}

function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    (byte >= 0x30 && byte <= 0x39) ||
    byte === 0x2d ||
    byte === 0x2e ||
    byte === 0x5f ||
    byte === 0x7e
  );
}

function refuse(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

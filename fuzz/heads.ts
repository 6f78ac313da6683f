// Hostile request heads from fast-check: odd methods, versions, duplicated, missing or oversized
// headers, bad keys, odd paths, garbage bytes, written split at random points. Every answer must
// be one of the SPEC §7 statuses (or 200 relayed from the upstream for plain HTTP) or a close.
import net from 'node:net';
import tls from 'node:tls';
import fc from 'fast-check';

/** SPEC §7's answers, 200 for plain HTTP proxied to the echo upstream, 505 from the parser. */
export const ALLOWED_STATUSES = new Set([0, 101, 200, 400, 403, 404, 405, 413, 426, 429, 431, 501, 502, 503, 504, 505]);

const method = fc.constantFrom('GET', 'GET', 'GET', 'POST', 'HEAD', 'OPTIONS', 'CONNECT', 'PUT', 'DELETE', 'TRACE', 'get', 'G\x00T', 'PRI', 'XYZZY', '');
const version = fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.10', 'http/1.1', 'HTTP/1', '');
const path = fc.constantFrom('/', '/fuzz', '*', '/../x', '/%2e%2e/x', '/a%2fb', '/%', '/%zz', 'http://localhost/x', 'http://other.test/x', '//x', '/x?y=%', 'x', '/\\x', '/' + 'a'.repeat(20_000));
const headerName = fc.constantFrom('Host', 'Upgrade', 'Connection', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Content-Length', 'Transfer-Encoding', 'Origin', 'X-Forwarded-For', 'X-Junk', ' Host', 'Host ', 'Ho\x00st', '');
const headerValue = fc.oneof(
  fc.constantFrom('localhost', 'websocket', 'Upgrade', 'upgrade, keep-alive', 'dGhlIHNhbXBsZSBub25jZQ==', 'AAAA', '13', '8', '99999999999999999999', '0', '-1', 'chunked', 'chunked, gzip', 'a\rb', 'a\x00b', ''),
  fc.string({ maxLength: 40 }),
  fc.nat({ max: 20_000 }).map((n) => 'v'.repeat(n)),
);
const validBase: [string, string][] = [
  ['Host', 'localhost'],
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
  ['Sec-WebSocket-Version', '13'],
];

export interface HeadCase {
  bytes: Buffer;
  cuts: number[];
}

export const headCase: fc.Arbitrary<HeadCase> = fc
  .record({
    method,
    path,
    version,
    keep: fc.subarray(validBase),
    extra: fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 }),
    garbage: fc.option(fc.uint8Array({ minLength: 1, maxLength: 64 }), { freq: 4 }),
    terminated: fc.boolean().map((b) => b || Math.random() < 0.8),
    lineEnd: fc.constantFrom('\r\n', '\r\n', '\r\n', '\n', '\r'),
    cuts: fc.array(fc.nat(), { maxLength: 6 }),
  })
  .map((c) => {
    const lines = [`${c.method} ${c.path} ${c.version}`, ...[...c.keep, ...c.extra].map(([k, v]) => `${k}: ${v}`)];
    let text = lines.join(c.lineEnd) + c.lineEnd + (c.terminated ? c.lineEnd : '');
    if (c.garbage) text += Buffer.from(c.garbage).toString('latin1');
    return { bytes: Buffer.from(text, 'latin1'), cuts: c.cuts };
  });

/**
 * Sends one head in pieces (over TLS with `tls`, where the listener reads clean heads itself);
 * resolves with the status answered (0 for a close without one).
 */
export function sendHead(port: number, one: HeadCase, limitMs: number, options: { tls?: boolean } = {}): Promise<number> {
  return new Promise((resolve) => {
    const socket = options.tls ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : net.connect(port, '127.0.0.1');
    let answer = '';
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer);
      resolve(status ? Number(status[1]) : 0);
    };
    const timer = setTimeout(finish, limitMs);
    socket.on(options.tls ? 'secureConnect' : 'connect', () => {
      const cuts = [...new Set(one.cuts.map((c) => c % Math.max(1, one.bytes.length)))].sort((x, y) => x - y);
      let from = 0;
      for (const cut of [...cuts, one.bytes.length]) {
        if (cut > from) socket.write(one.bytes.subarray(from, cut));
        from = cut;
      }
    });
    socket.on('data', (data) => {
      answer += data.toString('latin1');
      if (answer.includes('\r\n')) finish();
    });
    socket.on('close', finish);
    socket.on('error', () => {});
  });
}

// PROXY protocol v1/v2 on the data plane's listeners (SPEC §3 `--proxy-protocol`, §7 client
// address), per haproxy's proxy-protocol.txt.
//
// Trust follows nginx (`listen ... proxy_protocol` + `set_real_ip_from`): with the option on, every
// connection must open with a valid header, whoever the peer is, so a client can never slip past
// the load balancer's address by omitting it; the header's source address becomes the client
// address only when the TCP peer is within the trusted CIDRs, else the TCP peer stays the client.
//
// The header is read on the listening http/https server itself, ahead of its own 'connection'
// listeners, rather than on a separate front server that injects sockets into a non-listening one:
// Node sets up its connection tracking on 'listening', so a server that never listens enforces no
// headersTimeout and closeIdleConnections() finds nothing.
import net, { type Server, type Socket } from 'node:net';
import { canonicalClientIp } from '../../grammar/client-address.ts';
import { compileSourceRanges } from '../admission/policy.ts';
import { InvalidArgumentError } from '../../common/errors.ts';

export interface ProxyProtocolOptions {
  /** Peers whose header address is believed; an empty list believes none. */
  trustedCidrs: string[];
  /** The whole header must arrive within this time, counted from accept. */
  headerTimeoutMs: number;
}

/** Why a connection was closed for its header: not a valid PROXY header, or not complete in time. */
export type ProxyRejectKind = 'malformed' | 'timeout';

/** Called for a connection closed for its header, before it is destroyed; `reason` is for the log. */
export type ProxyRejectHandler = (socket: Socket, reason: string, kind: ProxyRejectKind) => void;

export type ProxyHeaderParse =
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string }
  /** `source` absent: LOCAL, UNKNOWN, AF_UNSPEC or AF_UNIX, where the TCP peer stands. */
  | { kind: 'complete'; length: number; source?: string };

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** haproxy's worst case: `PROXY TCP6` with two full IPv6 addresses and ports, CRLF included. */
const V1_MAX_LENGTH = 107;
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED_LENGTH = 16;
const INCOMPLETE: ProxyHeaderParse = { kind: 'incomplete' };

/**
 * Parses the PROXY header at the start of `bytes` (everything received so far). Monotone: once a
 * prefix is invalid or complete, every longer input gives the same answer, so chunks can simply be
 * appended and parsed again. Never throws.
 */
export function parseProxyHeader(bytes: Uint8Array): ProxyHeaderParse {
  if (bytes.length === 0) return INCOMPLETE;
  if (bytes[0] === V1_PREFIX[0]) return parseV1(bytes);
  if (bytes[0] === V2_SIGNATURE[0]) return parseV2(bytes);
  return invalid('not a PROXY protocol header');
}

function invalid(reason: string): ProxyHeaderParse {
  return { kind: 'invalid', reason };
}

function startsWithPrefixOf(bytes: Uint8Array, expected: Uint8Array): boolean {
  const n = Math.min(bytes.length, expected.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== expected[i]) return false;
  return true;
}

// v1 (proxy-protocol.txt §2.1): `PROXY TCP4|TCP6 src dst sport dport\r\n`, or `PROXY UNKNOWN`
// followed by anything up to the CRLF.
function parseV1(bytes: Uint8Array): ProxyHeaderParse {
  if (!startsWithPrefixOf(bytes, V1_PREFIX)) return invalid('not a PROXY protocol header');
  const end = Math.min(bytes.length, V1_MAX_LENGTH);
  let crlf = -1;
  for (let i = V1_PREFIX.length; i + 1 < end; i++) {
    if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a) {
      crlf = i;
      break;
    }
  }
  if (crlf === -1) return bytes.length >= V1_MAX_LENGTH ? invalid(`v1 header without CRLF in its first ${V1_MAX_LENGTH} bytes`) : INCOMPLETE;
  const line = Buffer.from(bytes.buffer, bytes.byteOffset, crlf).toString('latin1');
  const length = crlf + 2;
  const fields = line.split(' ');
  const protocol = fields[1];
  if (protocol === 'UNKNOWN') return { kind: 'complete', length };
  if (protocol !== 'TCP4' && protocol !== 'TCP6') return invalid(`v1 protocol ${JSON.stringify(protocol ?? '')} is not TCP4, TCP6 or UNKNOWN`);
  if (fields.length !== 6) return invalid('v1 header is not PROXY proto src dst sport dport');
  const [, , source = '', destination = '', sourcePort = '', destinationPort = ''] = fields;
  const isFamily = protocol === 'TCP4' ? isPlainIPv4 : isPlainIPv6;
  if (!isFamily(source) || !isFamily(destination)) return invalid(`v1 ${protocol} header with an address that is not ${protocol === 'TCP4' ? 'IPv4' : 'IPv6'}`);
  if (!isPort(sourcePort) || !isPort(destinationPort)) return invalid('v1 header with a port outside 0..65535');
  if (protocol === 'TCP4') return { kind: 'complete', length, source };
  const normalized = normalizeIPv6(source);
  if (normalized === undefined) return invalid('v1 TCP6 header with an address that is not IPv6');
  return { kind: 'complete', length, source: normalized };
}

function isPlainIPv4(text: string): boolean {
  return net.isIPv4(text);
}

/** Without a zone: a header cannot name an interface of ours. */
function isPlainIPv6(text: string): boolean {
  return net.isIPv6(text) && !text.includes('%');
}

function isPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) <= 65535;
}

// v2 (proxy-protocol.txt §2.2): signature, version/command, family/transport, 16-bit length,
// then the address block and TLVs, which are skipped.
function parseV2(bytes: Uint8Array): ProxyHeaderParse {
  if (!startsWithPrefixOf(bytes, V2_SIGNATURE)) return invalid('not a PROXY protocol header');
  if (bytes.length < V2_FIXED_LENGTH) {
    // Version and command can be judged as soon as their byte is in.
    if (bytes.length > 12 && !validVersionCommand(bytes[12]!)) return invalid('v2 header with an unknown version or command');
    return INCOMPLETE;
  }
  const versionCommand = bytes[12]!;
  if (!validVersionCommand(versionCommand)) return invalid('v2 header with an unknown version or command');
  const blockLength = (bytes[14]! << 8) | bytes[15]!;
  const length = V2_FIXED_LENGTH + blockLength;
  if (bytes.length < length) return INCOMPLETE;
  // LOCAL: the proxy's own connection (health checks); the block, family included, is ignored.
  if ((versionCommand & 0x0f) === 0x0) return { kind: 'complete', length };
  const family = bytes[13]! >> 4;
  const transport = bytes[13]! & 0x0f;
  if (transport > 2) return invalid(`v2 header with unknown transport ${transport}`);
  switch (family) {
    case 0x0: // AF_UNSPEC
      return { kind: 'complete', length };
    case 0x1: // AF_INET: src 4, dst 4, sport 2, dport 2
      if (blockLength < 12) return invalid('v2 AF_INET header with a short address block');
      return { kind: 'complete', length, source: `${bytes[16]}.${bytes[17]}.${bytes[18]}.${bytes[19]}` };
    case 0x2: // AF_INET6: src 16, dst 16, sport 2, dport 2
      if (blockLength < 36) return invalid('v2 AF_INET6 header with a short address block');
      return { kind: 'complete', length, source: formatIPv6(bytes.subarray(16, 32)) };
    case 0x3: // AF_UNIX: two 108-byte paths; no IP address to use
      if (blockLength < 216) return invalid('v2 AF_UNIX header with a short address block');
      return { kind: 'complete', length };
    default:
      return invalid(`v2 header with unknown address family ${family}`);
  }
}

/** Version 2 with command LOCAL (0) or PROXY (1). */
function validVersionCommand(byte: number): boolean {
  return byte >> 4 === 0x2 && (byte & 0x0f) <= 0x1;
}

function formatIPv6(address: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((address[i]! << 8) | address[i + 1]!).toString(16));
  return normalizeIPv6(groups.join(':')) ?? groups.join(':');
}

/**
 * One spelling per address, whichever way the load balancer wrote it, so limits and hashing see
 * one client: the URL parser's RFC 5952 form, and an IPv4-mapped address as the IPv4 client.
 */
function normalizeIPv6(text: string): string | undefined {
  try {
    return canonicalClientIp(new URL(`http://[${text}]/`).hostname.slice(1, -1));
  } catch {
    return undefined;
  }
}

/** Header addresses of handed-over sockets whose peer is trusted, keyed by the raw TCP socket. */
const headerAddresses = new WeakMap<Socket, string>();
const installed = new WeakSet<Server>();

/**
 * The client address of a socket accepted by a server given to requireProxyProtocol: the header's
 * source when its peer is trusted, else the TCP peer. Works on the raw socket and on the TLSSocket
 * an https server builds over it (through `_parent`, the socket a TLSSocket wraps), and on any
 * other socket (the TCP peer), so it can be the pipeline's clientAddress whether the option is on
 * or not.
 */
export function clientAddressOf(socket: Socket): string {
  let current: Socket | undefined = socket;
  // A TLSSocket over a raw socket is one level; the bound only guards against a cycle.
  for (let depth = 0; current !== undefined && depth < 4; depth++) {
    const recorded = headerAddresses.get(current);
    if (recorded !== undefined) return recorded;
    current = (current as Socket & { _parent?: Socket | null })._parent ?? undefined;
  }
  return canonicalClientIp(socket.remoteAddress ?? '');
}

/**
 * Makes `server` (an http.Server or https.Server, before it listens) require a PROXY header at the
 * start of every connection. The header is read and stripped before the server's own 'connection'
 * listeners (HTTP parsing, TLS) see the socket; bytes after it are handed on untouched. A
 * connection whose header is malformed or not complete within headerTimeoutMs is destroyed and
 * reported to onReject; one closed by its peer before a complete header is just closed (load
 * balancer health checks connect and leave). 'connection' listeners added afterwards run at accept,
 * before the header is read. Throws ConfigError on a bad CIDR.
 */
export function requireProxyProtocol(server: Server, options: ProxyProtocolOptions, onReject?: ProxyRejectHandler): void {
  if (installed.has(server)) throw new InvalidArgumentError('requireProxyProtocol', 'already installed on this server');
  const trusted = compileSourceRanges(options.trustedCidrs);
  const owners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  installed.add(server);
  const handOver = (socket: Socket): void => {
    for (const owner of owners) owner.call(server, socket);
  };
  server.on('connection', (socket: Socket) => readHeader(socket, options.headerTimeoutMs, trusted, handOver, onReject));
}

function readHeader(
  socket: Socket,
  timeoutMs: number,
  trusted: (ip: string) => boolean,
  handOver: (socket: Socket) => void,
  onReject: ProxyRejectHandler | undefined,
): void {
  let received: Buffer = Buffer.alloc(0);
  const finish = (): void => {
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('error', onError);
    socket.removeListener('end', onEnd);
  };
  const reject = (reason: string, kind: ProxyRejectKind): void => {
    finish();
    // Reported first, while the socket still knows its peer for the log line.
    onReject?.(socket, reason, kind);
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const header = parseProxyHeader(received);
    if (header.kind === 'incomplete') return;
    if (header.kind === 'invalid') return reject(`malformed PROXY header: ${header.reason}`, 'malformed');
    finish();
    socket.pause();
    if (received.length > header.length) socket.unshift(received.subarray(header.length));
    if (header.source !== undefined && trusted(canonicalClientIp(socket.remoteAddress ?? ''))) headerAddresses.set(socket, header.source);
    handOver(socket);
    // An owner that reads with 'data' events (http) needs the stream flowing again for the bytes
    // put back; one that takes the socket over (TLS) drains them with read() itself, and data
    // flowing to no listener would be lost.
    if (!socket.destroyed && socket.listenerCount('data') > 0) socket.resume();
  };
  const onError = (): void => {
    finish();
    socket.destroy();
  };
  const onEnd = (): void => {
    finish();
    socket.destroy();
  };
  const timer = setTimeout(() => reject(`PROXY header not complete within ${timeoutMs} ms`, 'timeout'), timeoutMs);
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('end', onEnd);
}

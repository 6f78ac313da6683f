// Per-route admission checks of SPEC §6/§7: `allowed-origins` (403 origin_forbidden) and
// `allowed-source-ranges` (403 source_forbidden). Compiled once per snapshot; each check is a
// set lookup or a native BlockList probe.
import net from 'node:net';
import { ConfigError } from '../../common/errors.ts';

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' };

/**
 * Origins compared as RFC 6454 tuples: scheme and host case-insensitive, the default port
 * written or not. `scheme://*.domain[:port]` matches any depth of subdomain, never the apex.
 * Absent list: every origin passes. Throws ConfigError on an entry that is not an origin, so the
 * snapshot validator can call it too.
 */
export function compileOriginPolicy(allowed?: readonly string[]): (origin: string) => boolean {
  if (allowed === undefined) return () => true;
  const exact = new Set<string>();
  /** Keys `scheme//domain:port` for `scheme://*.domain:port`. */
  const wildcard = new Set<string>();
  for (const entry of allowed) {
    const origin = parseOrigin(entry.trim());
    if (origin === undefined) throw new ConfigError([`allowed origin ${JSON.stringify(entry)} is not scheme://host[:port]`]);
    if (origin.host.startsWith('*.')) {
      const domain = origin.host.slice(2);
      if (domain === '' || domain.includes('*')) throw new ConfigError([`allowed origin ${JSON.stringify(entry)}: only a leading *. label may be a wildcard`]);
      wildcard.add(`${origin.scheme}//${domain}:${origin.port}`);
    } else {
      if (origin.host.includes('*')) throw new ConfigError([`allowed origin ${JSON.stringify(entry)}: only a leading *. label may be a wildcard`]);
      exact.add(`${origin.scheme}//${origin.host}:${origin.port}`);
    }
  }
  return (header) => {
    const origin = parseOrigin(header.trim());
    if (origin === undefined || origin.host.includes('*')) return false;
    if (exact.has(`${origin.scheme}//${origin.host}:${origin.port}`)) return true;
    if (wildcard.size === 0) return false;
    // Try each proper parent domain; the apex itself is never tried.
    for (let dot = origin.host.indexOf('.'); dot !== -1; dot = origin.host.indexOf('.', dot + 1)) {
      if (wildcard.has(`${origin.scheme}//${origin.host.slice(dot + 1)}:${origin.port}`)) return true;
    }
    return false;
  };
}

interface OriginTuple {
  scheme: string;
  host: string;
  port: string;
}

function parseOrigin(text: string): OriginTuple | undefined {
  // A single trailing slash is tolerated: operators paste origins from URLs.
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#@]+\/?$/i.test(text)) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.hostname === '') return undefined;
  const scheme = url.protocol.toLowerCase();
  // Non-special schemes keep their host's case in WHATWG URL; origins compare it case-insensitively.
  return { scheme, host: url.hostname.toLowerCase(), port: url.port || DEFAULT_PORTS[scheme] || '' };
}

/**
 * CIDRs (`10.0.0.0/8`, `2001:db8::/32`, or a bare address for one host). A client at an
 * IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, what a dual-stack socket reports) is the IPv4
 * client it stands for. Absent list: every source passes. Throws ConfigError on a bad entry.
 */
export function compileSourceRanges(cidrs?: readonly string[]): (ip: string) => boolean {
  if (cidrs === undefined) return () => true;
  const ranges = new net.BlockList();
  for (const entry of cidrs) {
    const cidr = parseCidr(entry.trim());
    if (cidr === undefined) throw new ConfigError([`source range ${JSON.stringify(entry)} is not a CIDR`]);
    ranges.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  return (ip) => {
    const client = canonicalClientIp(ip);
    const family = net.isIPv4(client) ? 'ipv4' : net.isIPv6(client) ? 'ipv6' : undefined;
    return family !== undefined && ranges.check(client, family);
  };
}

interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) && !address.includes('%') ? 'ipv6' : undefined;
  if (family === undefined) return undefined;
  const bits = family === 'ipv4' ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: bits, family };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) return undefined;
  const prefix = Number(prefixText);
  // A mapped range is an IPv4 range written the IPv6 way: keep it IPv4 so it matches IPv4 peers.
  const mapped = family === 'ipv6' && prefix >= 96 ? mappedIPv4(address) : undefined;
  if (mapped !== undefined) return { address: mapped, prefix: prefix - 96, family: 'ipv4' };
  return { address, prefix, family };
}

/**
 * The form of a client address used for limits, hashing and ranges: IPv4-mapped IPv6 becomes
 * dotted IPv4, IPv6 is lowercased without its zone. Anything else is returned as given.
 */
export function canonicalClientIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  if (!net.isIPv6(ip)) return ip;
  const zone = ip.indexOf('%');
  const address = (zone === -1 ? ip : ip.slice(0, zone)).toLowerCase();
  return mappedIPv4(address) ?? address;
}

/** The dotted IPv4 address inside `::ffff:0:0/96`, in any IPv6 spelling, or undefined. */
function mappedIPv4(ipv6: string): string | undefined {
  const groups = ipv6Groups(ipv6);
  if (groups === undefined) return undefined;
  for (let i = 0; i < 5; i++) if (groups[i] !== 0) return undefined;
  if (groups[5] !== 0xffff) return undefined;
  const high = groups[6]!;
  const low = groups[7]!;
  return `${high >>> 8}.${high & 0xff}.${low >>> 8}.${low & 0xff}`;
}

/** Eight 16-bit groups of an address that net.isIPv6 accepted (zone already removed). */
function ipv6Groups(address: string): number[] | undefined {
  let head = address;
  const tail: number[] = [];
  const lastColon = address.lastIndexOf(':');
  if (address.includes('.', lastColon)) {
    const octets = address.slice(lastColon + 1).split('.').map(Number);
    tail.push((octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!);
    head = address[lastColon - 1] === ':' ? address.slice(0, lastColon + 1) : address.slice(0, lastColon);
  }
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const gap = head.indexOf('::');
  if (gap === -1) {
    const groups = [...parse(head), ...tail];
    return groups.length === 8 ? groups : undefined;
  }
  const left = parse(head.slice(0, gap));
  const right = [...parse(head.slice(gap + 2)), ...tail];
  const zeros = 8 - left.length - right.length;
  if (zeros < 1) return undefined;
  return [...left, ...new Array<number>(zeros).fill(0), ...right];
}

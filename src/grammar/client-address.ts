// The one spelling of a client address that limits, hashing and source ranges key on, and the
// IPv4 address an IPv4-mapped IPv6 address stands for (what a dual-stack socket reports).
import { isIPv6 } from 'node:net';

/**
 * IPv4-mapped IPv6 becomes dotted IPv4, IPv6 is lowercased without its zone. Anything else is
 * returned as given.
 */
export function canonicalClientIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  if (!isIPv6(ip)) return ip;
  const zone = ip.indexOf('%');
  const address = (zone === -1 ? ip : ip.slice(0, zone)).toLowerCase();
  return mappedIPv4(address) ?? address;
}

/** The dotted IPv4 address inside `::ffff:0:0/96`, in any IPv6 spelling, or undefined. */
export function mappedIPv4(ipv6: string): string | undefined {
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

/** An IPv6 address in its compressed lowercase form (RFC 5952), as the URL parser writes it. */
export function compressIPv6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

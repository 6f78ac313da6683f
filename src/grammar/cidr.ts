// Source ranges (SPEC §6 allowed-source-ranges, --proxy-protocol-trusted-cidrs). One rule for
// annotations, snapshots and the data plane:
// - a bare address is that one address (/32 or /128), as ingress-nginx's whitelist-source-range
//   accepts;
// - the prefix length is decimal without leading zeros, 0-32 or 0-128; no IPv6 zone;
// - an IPv4-mapped range of /96 or longer (`::ffff:10.0.0.0/104`) is the IPv4 range it stands
//   for (`10.0.0.0/8`), so it matches the IPv4 clients canonicalClientIp makes of mapped peers;
// - IPv6 is written compressed and lowercase; host bits are kept as written.
import { isIPv4, isIPv6 } from 'node:net';
import { compressIPv6, mappedIPv4 } from './client-address.ts';
import { accept, reject, type Parsed } from './result.ts';

export const CIDR_ACCEPTS = 'a CIDR (such as 10.0.0.0/8 or fd00::/8) or an address';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

export function parseCidr(text: string): Parsed<Cidr> {
  const slash = text.indexOf('/');
  const written = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
  const family = isIPv4(written) ? 'ipv4' : isIPv6(written) && !written.includes('%') ? 'ipv6' : undefined;
  if (family === undefined) return reject(`${JSON.stringify(text)} is not a CIDR`);
  const bits = family === 'ipv4' ? 32 : 128;
  if (prefixText !== undefined && !/^(?:0|[1-9]\d{0,2})$/.test(prefixText)) return reject(`${JSON.stringify(text)} is not a CIDR`);
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return reject(`${JSON.stringify(text)} has a prefix length outside 0-${bits}`);
  if (family === 'ipv4') return accept({ address: written, prefix, family });
  const address = compressIPv6(written);
  const mapped = prefix >= 96 ? mappedIPv4(address) : undefined;
  if (mapped !== undefined) return accept({ address: mapped, prefix: prefix - 96, family: 'ipv4' });
  return accept({ address, prefix, family });
}

export function formatCidr(cidr: Cidr): string {
  return `${cidr.address}/${cidr.prefix}`;
}

/** The normalised text of one range (`192.168.1.7` -> `192.168.1.7/32`). */
export function normaliseCidr(text: string): Parsed<string> {
  const parsed = parseCidr(text);
  return parsed.ok ? accept(formatCidr(parsed.value)) : parsed;
}

// CIDRs of allowed-source-ranges and --proxy-protocol-trusted-cidrs. Decisions, for every entry
// point alike: a bare address is that one address (/32 or /128, as ingress-nginx's
// whitelist-source-range accepts); the prefix length is plain decimal (no sign, no leading zero);
// IPv6 zones are refused; an IPv4-mapped range (`::ffff:10.0.0.0/104`) is the IPv4 range it
// stands for, since client addresses are made canonical the same way (client-address.ts).
import net from 'node:net';
import { compressIPv6, mappedIPv4 } from './client-address.ts';
import { parsed, refused, type Parsed } from './result.ts';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

export const CIDR_ACCEPTS = 'an IPv4 or IPv6 CIDR (10.0.0.0/8, 2001:db8::/32) or a bare address';

export function parseCidr(text: string): Parsed<Cidr> {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) && !address.includes('%') ? 'ipv6' : undefined;
  if (family === undefined || prefixText?.includes('/')) return refused(`${JSON.stringify(text)} is not a CIDR`);
  const bits = family === 'ipv4' ? 32 : 128;
  if (prefixText !== undefined && (!/^(?:0|[1-9]\d{0,2})$/.test(prefixText) || Number(prefixText) > bits)) {
    return refused(`${JSON.stringify(text)} has a prefix length outside 0-${bits}`);
  }
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (family === 'ipv4') return parsed({ address, prefix, family });
  const canonical = compressIPv6(address);
  const mapped = prefix >= 96 ? mappedIPv4(canonical) : undefined;
  if (mapped !== undefined) return parsed({ address: mapped, prefix: prefix - 96, family: 'ipv4' });
  return parsed({ address: canonical, prefix, family });
}

export function formatCidr(cidr: Cidr): string {
  return `${cidr.address}/${cidr.prefix}`;
}

/** The normalised text of a CIDR: `10.0.0.1` -> `10.0.0.1/32`, `::ffff:10.0.0.0/104` -> `10.0.0.0/8`. */
export function normaliseCidr(text: string): Parsed<string> {
  const cidr = parseCidr(text);
  return cidr.ok ? parsed(formatCidr(cidr.value)) : cidr;
}

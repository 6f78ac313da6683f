// Per-route admission checks of SPEC §6/§7: `allowed-origins` (403 origin_forbidden) and
// `allowed-source-ranges` (403 source_forbidden). Compiled once per snapshot; each check is a
// set lookup or a native BlockList probe.
import net from 'node:net';
import { ConfigError } from '../../common/errors.ts';
import { parseCidr } from '../../grammar/cidr.ts';
import { canonicalClientIp } from '../../grammar/client-address.ts';
import { formatOrigin, parseOrigin } from '../../grammar/origin.ts';

/**
 * Origins compared in the one normalised form of grammar/origin.ts (scheme and host
 * case-insensitive, the default port written or not). `https://*.domain[:port]` matches any depth
 * of subdomain, never the apex. Absent list: every origin passes. Throws ConfigError on an entry
 * that is not an origin (validateSnapshot refuses it first; this guards hand-built snapshots).
 */
export function compileOriginPolicy(allowed?: readonly string[]): (origin: string) => boolean {
  if (allowed === undefined) return () => true;
  const exact = new Set<string>();
  /** `https://example.com:8443` for `https://*.example.com:8443`. */
  const wildcard = new Set<string>();
  for (const entry of allowed) {
    const parsed = parseOrigin(entry);
    if (!parsed.ok) throw ConfigError.of(`allowed origin: ${parsed.reason}`);
    const origin = parsed.value;
    if (origin.host.startsWith('*.')) wildcard.add(formatOrigin({ ...origin, host: origin.host.slice(2) }));
    else exact.add(formatOrigin(origin));
  }
  return (header) => {
    const parsed = parseOrigin(header.trim(), { wildcard: false });
    if (!parsed.ok) return false;
    const origin = parsed.value;
    if (exact.has(formatOrigin(origin))) return true;
    if (wildcard.size === 0) return false;
    // Try each proper parent domain; the apex itself is never tried.
    for (let dot = origin.host.indexOf('.'); dot !== -1; dot = origin.host.indexOf('.', dot + 1)) {
      if (wildcard.has(formatOrigin({ ...origin, host: origin.host.slice(dot + 1) }))) return true;
    }
    return false;
  };
}

/**
 * CIDRs in the grammar of grammar/cidr.ts (a bare address is one host). A client at an
 * IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, what a dual-stack socket reports) is the IPv4
 * client it stands for. Absent list: every source passes. Throws ConfigError on a bad entry.
 */
export function compileSourceRanges(cidrs?: readonly string[]): (ip: string) => boolean {
  if (cidrs === undefined) return () => true;
  const ranges = new net.BlockList();
  for (const entry of cidrs) {
    const cidr = parseCidr(entry);
    if (!cidr.ok) throw ConfigError.of(`source range is not a CIDR: ${cidr.reason}`);
    ranges.addSubnet(cidr.value.address, cidr.value.prefix, cidr.value.family);
  }
  return (ip) => {
    const client = canonicalClientIp(ip);
    const family = net.isIPv4(client) ? 'ipv4' : net.isIPv6(client) ? 'ipv6' : undefined;
    return family !== undefined && ranges.check(client, family);
  };
}

// Allowed origins (SPEC §6 allowed-origins, §7 origin_forbidden). The one rule, decided where the
// annotation parser, the snapshot validator and the data plane used to disagree:
// - http and https only: browsers send only those origins (or `null`, which no entry can name);
//   an entry with another scheme (`wss://...`) could never match and is a mistake to report;
// - scheme and host case-folded, the default port (80, 443) dropped (RFC 6454 §4 tuples);
// - one trailing `/` tolerated, as operators paste origins from URLs; no other path, query,
//   fragment or user info;
// - the host a DNS name (RFC 1123 labels), an IPv4 address or a bracketed IPv6 address;
// - `*.` as the first label only: `https://*.example.com` matches every subdomain depth, never
//   the apex; a port, if any, must match too;
// - a port 1-65535 without leading zeros.
// The Origin header of a request goes through the same parser (without wildcards), so what an
// entry names and what a browser sends are compared in one normalised form.
import { isIPv4, isIPv6 } from 'node:net';
import { compressIPv6 } from './client-address.ts';
import { isDnsName } from './host.ts';
import { accept, reject, type Parsed } from './result.ts';

export const ORIGIN_ACCEPTS = 'a full origin such as https://app.example.com or https://*.example.com';

export interface Origin {
  scheme: 'http' | 'https';
  /** Lowercase; IPv6 in brackets; a wildcard keeps its `*.` label. */
  host: string;
  /** Undefined for the scheme's default port. */
  port?: number;
}

const ORIGIN = /^(https?):\/\/(\[[0-9a-f:.]+\]|[^/:?#@[\]]+)(?::(0|[1-9]\d{0,4}))?\/?$/;

function notAnOrigin(text: string): Parsed<Origin> {
  return reject(`${JSON.stringify(text)} is not an origin`);
}

export function parseOrigin(text: string, options: { wildcard: boolean } = { wildcard: true }): Parsed<Origin> {
  const match = ORIGIN.exec(text.toLowerCase());
  if (match === null) return notAnOrigin(text);
  const scheme = match[1] as Origin['scheme'];
  const port = match[3] === undefined ? undefined : Number(match[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return notAnOrigin(text);
  const host = originHost(match[2]!, options.wildcard);
  if (host === undefined) return notAnOrigin(text);
  const defaultPort = scheme === 'https' ? 443 : 80;
  return accept(port === undefined || port === defaultPort ? { scheme, host } : { scheme, host, port });
}

function originHost(host: string, wildcard: boolean): string | undefined {
  if (host.startsWith('[')) {
    const literal = host.slice(1, -1);
    return isIPv6(literal) ? `[${compressIPv6(literal)}]` : undefined;
  }
  if (isIPv4(host)) return host;
  const name = wildcard && host.startsWith('*.') ? host.slice(2) : host;
  // A numeric last label makes the WHATWG URL parser read the host as IPv4 (and fail on 256.1.1.1).
  if (/^\d+$/.test(name.slice(name.lastIndexOf('.') + 1))) return undefined;
  return isDnsName(name) ? host : undefined;
}

/** RFC 6454 §6.2 serialisation: `scheme://host[:port]`. */
export function formatOrigin(origin: Origin): string {
  return origin.port === undefined ? `${origin.scheme}://${origin.host}` : `${origin.scheme}://${origin.host}:${origin.port}`;
}

/** The normalised text of one allowed origin (`HTTPS://App.Example.com:443/` -> `https://app.example.com`). */
export function normaliseOrigin(text: string): Parsed<string> {
  const parsed = parseOrigin(text);
  return parsed.ok ? accept(formatOrigin(parsed.value)) : parsed;
}

// Origins of allowed-origins (SPEC §6, §7), as RFC 6454 §6.2 serialises them. Decisions the
// annotation, the snapshot and the data plane share (they used to differ):
// - scheme http or https only: a browser sends no other origin with a WebSocket handshake, so a
//   `wss://` or `chrome-extension://` entry could never match and is refused as a mistake;
// - scheme and host are case-folded and a default port (80, 443) is dropped, so
//   `https://App.Example.com:443` is `https://app.example.com`;
// - one trailing `/` is tolerated (operators paste origins from URLs); any other path, a query,
//   a fragment or user info is refused;
// - the host is a DNS name (host.ts), a dotted IPv4 address or a bracketed IPv6 literal (written
//   back compressed); in an entry only, a leading `*.` label matches subdomains at any depth, never
//   the apex.
import net from 'node:net';
import { compressIPv6 } from './client-address.ts';
import { parseHostName } from './host.ts';
import { parsed, refused, type Parsed } from './result.ts';

export interface Origin {
  scheme: 'http' | 'https';
  /** Lowercase; `*.example.com` for a wildcard entry. */
  host: string;
  port: number;
}

export const ORIGIN_ACCEPTS = 'http(s)://host[:port] without a path, such as https://app.example.com or https://*.example.com';

const ORIGIN = /^(https?):\/\/(\[[0-9a-f:.]+\]|[^/:?#@[\]]+)(?::([1-9]\d{0,4}))?\/?$/i;

export function parseOrigin(text: string, options: { wildcard: boolean }): Parsed<Origin> {
  const bad = refused<Origin>(`${JSON.stringify(text)} is not an origin`);
  const match = ORIGIN.exec(text);
  if (match === null) return bad;
  const scheme = match[1]!.toLowerCase() as Origin['scheme'];
  const port = match[3] === undefined ? (scheme === 'https' ? 443 : 80) : Number(match[3]);
  if (port > 65535) return bad;
  const host = originHost(match[2]!, options.wildcard);
  return host === undefined ? bad : parsed({ scheme, host, port });
}

function originHost(text: string, wildcard: boolean): string | undefined {
  if (text.startsWith('[')) {
    const literal = text.slice(1, -1);
    return net.isIPv6(literal) ? `[${compressIPv6(literal)}]` : undefined;
  }
  if (net.isIPv4(text)) return text;
  if (!wildcard && text.startsWith('*')) return undefined;
  const name = parseHostName(text, { wildcard });
  return name.ok ? name.value : undefined;
}

export function formatOrigin(origin: Origin): string {
  const defaultPort = origin.scheme === 'https' ? 443 : 80;
  return origin.port === defaultPort ? `${origin.scheme}://${origin.host}` : `${origin.scheme}://${origin.host}:${origin.port}`;
}

/** An allowed-origins entry in its one spelling. */
export function normaliseOrigin(text: string): Parsed<string> {
  const origin = parseOrigin(text, { wildcard: true });
  return origin.ok ? parsed(formatOrigin(origin.value)) : origin;
}

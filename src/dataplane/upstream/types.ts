// What the pool and its balancers share: an endpoint's identity and what a pick may look at.
import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';

export interface PickContext {
  /** The TCP peer or PROXY protocol source, never X-Forwarded-For (SPEC §7). */
  clientIp: string;
  headers: IncomingHttpHeaders;
  /** The request target as received (path and query). */
  url: string;
}

export interface EndpointRef {
  /** `address:port`, `[v6]:port` for IPv6: the identity used in every count and ejection. */
  key: string;
  address: string;
  port: number;
  name?: string;
}

export function endpointKey(address: string, port: number): string {
  return net.isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

// What an Ingress's annotations mean once parsed: the per-Ingress policy that translation splits
// into pool settings (balancing, timeouts, upstream TLS) and route policy (origins, ranges, limits).
import type { Balance } from '../config/snapshot.ts';

export interface IngressPolicy {
  balance: Balance;
  /** `header:NAME`, `cookie:NAME`, `query:NAME` or `client-ip`. */
  hashBy?: string;
  /** Durations in the snapshot's grammar (`5s`). */
  connectTimeout: string;
  handshakeTimeout: string;
  idleTimeout: string;
  drainTimeout: string;
  upstreamTls: boolean;
  /** With upstreamTls: verify the backend's certificate; the CA Secret is `NAME` or `NS/NAME`. */
  upstreamTlsVerify?: boolean;
  upstreamTlsCaSecret?: string;
  upstreamTlsServerName?: string;
  allowedOrigins?: string[];
  allowedSourceRanges?: string[];
  maxConnections?: number;
  maxConnectionsPerClient?: number;
  maxMessageSize?: number;
  /** ssl-redirect; absent = true (the ingress-nginx default). Becomes a route's httpsRedirect. */
  sslRedirect?: boolean;
  /** force-ssl-redirect; absent = false. */
  forceSslRedirect?: boolean;
  /** Long-lived connection features (README "Long-lived connection features"); durations as above. */
  pingInterval?: string;
  pingTimeout?: string;
  maxConnectionLifetime?: string;
  /** A fraction (10% -> 0.1). */
  lifetimeJitter?: number;
  maxMessagesPerSecond?: number;
  messageBurst?: number;
  messageRateDirection?: 'client' | 'both';
  maxConnectionsPerEndpoint?: number;
  drainSpread?: string;
  rebalance?: boolean;
  rebalanceRate?: number;
  rebalanceThreshold?: number;
  /** Cookie affinity (annotations/affinity.ts); maxAge in seconds. */
  affinity?: 'cookie';
  /** ingress-nginx affinity-mode: read, and both values behave alike. */
  affinityMode?: 'balanced' | 'persistent';
  sessionCookieName?: string;
  sessionCookieMaxAge?: number;
  sessionCookiePath?: string;
  sessionCookieSameSite?: 'Strict' | 'Lax' | 'None';
  sessionCookieSecure?: boolean;
}

export type PolicyField = keyof IngressPolicy;

export type { Parsed } from '../grammar/result.ts';

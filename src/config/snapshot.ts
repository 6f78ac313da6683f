// The config snapshot: the one document the controller writes and the data plane serves (SPEC §4).
// Field names here are the published interface; schema/snapshot.schema.json mirrors them and a
// test keeps the two in step.

export const SNAPSHOT_VERSION = 1;

export type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';
export type Balance = 'least-conn' | 'round-robin' | 'hash';
export type EndpointState = 'ready' | 'not-ready' | 'terminating';

/** Where a route came from; the metric labels `namespace` and `ingress`. */
export interface RouteSource {
  namespace: string;
  ingress: string;
  /** Set when the route came from a Gateway API HTTPRoute (`ingress` is then its name). */
  kind?: 'HTTPRoute';
}

/** Where a pool came from; the metric labels `namespace` and `service`. */
export interface PoolSource {
  namespace: string;
  service: string;
}

export interface RoutePolicy {
  /** Full origins (`https://app.example.com`, `https://*.example.com`); absent = any origin. */
  allowedOrigins?: string[];
  /** CIDRs (IPv4 or IPv6); absent = any source. */
  allowedSourceRanges?: string[];
  /** Concurrent connections for the route's Ingress in one pod, across workers (503 beyond). */
  maxConnections?: number;
  /** Concurrent connections per client IP for the route's Ingress (429 beyond). */
  maxConnectionsPerClient?: number;
  /** Largest frame payload in bytes either side may send (1009 to the sender beyond). */
  maxMessageSize?: number;
  /** Plain-HTTP requests (ws:// included) get 308 to https:// (SPEC §6 ssl-redirect); absent = false. */
  httpsRedirect?: boolean;
  /** Proxy pings (SPEC §6 ping-interval): a side silent this long gets a ping; absent = no pings. */
  pingInterval?: string;
  /** No pong within this cuts the silent side; absent = pingInterval. */
  pingTimeout?: string;
  /** SPEC §6 max-connection-lifetime: 1001 to both sides after this (+- lifetimeJitter); absent = none. */
  maxConnectionLifetime?: string;
  /** Fraction of the lifetime, 0 to below 1; absent = 0.1. */
  lifetimeJitter?: number;
  /** SPEC §6 max-messages-per-second: per connection; the sender over it gets 1008. Absent = unlimited. */
  maxMessagesPerSecond?: number;
  /** Messages at once after a quiet spell; absent = maxMessagesPerSecond. */
  messageBurst?: number;
  /** Whose messages are limited: `client` (absent) or `both` directions, each with its own budget. */
  messageRateDirection?: 'client' | 'both';
}

/** A header or query parameter a request must carry, with this exact value (Gateway API matches). */
export interface ValueMatch {
  /** Header names compare case-insensitively (written lowercase); query names exactly. */
  name: string;
  value: string;
}

/** Conditions beyond host and path (Gateway API HTTPRouteMatch); all must hold. */
export interface RouteMatch {
  headers?: ValueMatch[];
  queryParams?: ValueMatch[];
}

/** Gateway API HTTPHeaderFilter: set (replace), add (append), remove, in that order of effect. */
export interface HeaderModifier {
  set?: { name: string; value: string }[];
  add?: { name: string; value: string }[];
  remove?: string[];
}

export interface PathModifier {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  value: string;
}

/** Gateway API RequestRedirect: answered by the proxy, never sent upstream. */
export interface RouteRedirect {
  scheme?: 'http' | 'https';
  hostname?: string;
  port?: number;
  statusCode: 301 | 302;
  path?: PathModifier;
}

/** Gateway API URLRewrite: what the upstream receives instead of the client's Host and path. */
export interface RouteRewrite {
  hostname?: string;
  path?: PathModifier;
}

/** One pool of a weighted split: new connections go to it in proportion to weight. */
export interface WeightedPool {
  pool: string;
  weight: number;
}

export interface Route {
  /** Exact host (`chat.example.com`), one-label wildcard (`*.example.com`) or `''` for any host. */
  host: string;
  /** Starts with `/`. */
  path: string;
  pathType: PathType;
  /** Name of a pool in `pools`. */
  pool: string;
  source?: RouteSource;
  policy?: RoutePolicy;
  /** Served on these listeners only (Gateway API: a route attached to one listener); absent: both. */
  protocols?: ('http' | 'https')[];
  /** Gateway API: a wildcard host covers names of any depth under it, not one label. */
  wildcardDepth?: 'any';
  match?: RouteMatch;
  /** Weighted split over pools (`pool` is then the first of them); absent: all to `pool`. */
  backends?: WeightedPool[];
  requestHeaders?: HeaderModifier;
  responseHeaders?: HeaderModifier;
  redirect?: RouteRedirect;
  rewrite?: RouteRewrite;
}

export interface Endpoint {
  /** IPv4 or IPv6 address, or a host name (standalone configs). */
  address: string;
  port: number;
  state: EndpointState;
  /** For logs: the pod or target name. */
  name?: string;
}

/** `header:NAME`, `cookie:NAME`, `query:NAME` or `client-ip`. */
export type HashBy = string;

export interface Pool {
  name: string;
  source?: PoolSource;
  balance?: Balance;
  /** Required when balance is `hash`. */
  hashBy?: HashBy;
  /** Durations: `500ms`, `5s`, `1m`, `1h` (also combined, `1m30s`). */
  connectTimeout?: string;
  handshakeTimeout?: string;
  idleTimeout?: string;
  drainTimeout?: string;
  /** Speak wss to the endpoints (their certificate is not verified). */
  upstreamTls?: boolean;
  /**
   * With upstreamTls: verify the endpoints' certificates against upstreamTlsCa (PEM certificates)
   * and upstreamTlsServerName. Fail-closed: verify without a CA trusts nothing (never the system
   * roots), so every connect fails.
   */
  upstreamTlsVerify?: boolean;
  upstreamTlsCa?: string;
  /** The name the certificate must carry (and the SNI sent); default the endpoint's host name. */
  upstreamTlsServerName?: string;
  /** With upstreamTlsVerify: also trust Node's bundled root CAs (BackendTLSPolicy wellKnownCACertificates: System). */
  upstreamTlsSystemRoots?: boolean;
  /**
   * With upstreamTlsVerify: the certificate must carry one of these subject alternative names
   * (`DNS:<hostname>`, wildcards as RFC 6125 allows, or `URI:<uri>` exactly) instead of
   * upstreamTlsServerName, which is then the SNI only (BackendTLSPolicy subjectAltNames).
   */
  upstreamTlsSubjectAltNames?: string[];
  /** SPEC §6 max-connections-per-endpoint: open connections per endpoint across the pod's workers; absent = unlimited. */
  maxConnectionsPerEndpoint?: number;
  /** SPEC §6 drain-spread: a drain's 1001s go out evenly over this window (after drainTimeout); absent = 0. */
  drainSpread?: string;
  /** SPEC §6 rebalance: shed connections of endpoints above rebalanceThreshold x the pool's mean. */
  rebalance?: boolean;
  /** Closes per second for the pod; absent = 5. */
  rebalanceRate?: number;
  /** Absent = 1.5. */
  rebalanceThreshold?: number;
  /** SPEC §6 affinity: cookie; the proxy-issued cookie that pins a client to an endpoint. */
  affinity?: CookieAffinity;
  /**
   * Gateway API: the pool stands for a backendRef that does not resolve (or a rule with nothing to
   * forward to); its requests are answered 500 (HTTPRoute spec, HTTPBackendRef), never 503.
   */
  invalidBackend?: boolean;
  endpoints: Endpoint[];
}

export interface CookieAffinity {
  mode: 'cookie';
  cookieName: string;
  /** Seconds; absent: a session cookie. */
  maxAge?: number;
  /** Absent: `/`. */
  path?: string;
  sameSite?: 'Strict' | 'Lax' | 'None';
  secure?: boolean;
}

export interface Certificate {
  /** Where it came from, `namespace/secret`; the labels of the expiry metric. */
  name: string;
  /** Exact or one-label wildcard names this certificate serves. */
  hosts: string[];
  /**
   * Gateway API: wildcards (`*.example.com`) whose names of any depth this certificate also serves,
   * after every certificate's exact names and one-label wildcards (longest suffix first).
   */
  wildcardAnyDepth?: string[];
  /** PEM chain, leaf first; or certFile (standalone configs). */
  cert?: string;
  /** PEM private key; or keyFile. Redacted on `/config`. */
  key?: string;
  certFile?: string;
  keyFile?: string;
}

export interface TlsConfig {
  certificates?: Certificate[];
  /** Served when no certificate matches the SNI name, or there is none. Absent = self-signed. */
  defaultCertificate?: Omit<Certificate, 'hosts' | 'wildcardAnyDepth'> & { hosts?: string[] };
}

export interface Snapshot {
  version: typeof SNAPSHOT_VERSION;
  tls?: TlsConfig;
  routes: Route[];
  pools: Pool[];
  /**
   * The HMAC key of affinity cookies (base64, at least 16 bytes), shared by every replica so they
   * agree on a cookie; from the controller's --affinity-secret. Redacted on `/config`.
   */
  affinityKey?: string;
}

/** Defaults of SPEC §6, applied where a pool leaves a field out. */
export const POOL_DEFAULTS = {
  balance: 'least-conn' as Balance,
  connectTimeout: '5s',
  handshakeTimeout: '10s',
  idleTimeout: '1h',
  drainTimeout: '30s',
  upstreamTls: false,
} as const;

/** A pool with every setting that has a default filled in. */
export type PoolWithDefaults = Pool & Required<Pick<Pool, keyof typeof POOL_DEFAULTS>>;

/**
 * The one place POOL_DEFAULTS are applied to a snapshot: translate writes every field, but a
 * hand-written snapshot may leave them out.
 */
export function poolWithDefaults(pool: Pool): PoolWithDefaults {
  return {
    ...pool,
    balance: pool.balance ?? POOL_DEFAULTS.balance,
    connectTimeout: pool.connectTimeout ?? POOL_DEFAULTS.connectTimeout,
    handshakeTimeout: pool.handshakeTimeout ?? POOL_DEFAULTS.handshakeTimeout,
    idleTimeout: pool.idleTimeout ?? POOL_DEFAULTS.idleTimeout,
    drainTimeout: pool.drainTimeout ?? POOL_DEFAULTS.drainTimeout,
    upstreamTls: pool.upstreamTls ?? POOL_DEFAULTS.upstreamTls,
  };
}

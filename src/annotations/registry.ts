// Every annotation wsgate reads, in one place: key, accepted values, default, doc and parser
// together (SPEC §6). The parser of an Ingress's annotations (parse.ts) and the README's table
// (annotationDocsMarkdown) are both driven from this list, so they cannot drift apart.
import { POOL_DEFAULTS, type Balance } from '../config/snapshot.ts';
import { DURATION_ACCEPTS, normaliseDuration } from '../grammar/duration.ts';
import { HASH_BY_ACCEPTS, normaliseHashBy } from '../grammar/hash-by.ts';
import { parseBoolean, parseKeyword } from '../grammar/keyword.ts';
import { BYTE_SIZE_ACCEPTS, POSITIVE_INTEGER_ACCEPTS, parseByteSize, parsePositiveInteger } from '../grammar/number.ts';
import { isDnsName } from '../grammar/host.ts';
import { NGINX_HASH_BY_ACCEPTS, NGINX_SECONDS_ACCEPTS, parseNginxBackendProtocol, parseNginxBalance, parseNginxHashBy, parseNginxOnOff, parseNginxSeconds } from '../grammar/nginx.ts';
import { accept, reject } from '../grammar/result.ts';
import { NAMESPACED_SECRET_REF_ACCEPTS, SECRET_REF_ACCEPTS, parseSecretRef } from '../grammar/secret-ref.ts';
import type { IngressPolicy, Parsed, PolicyField } from './policy.ts';
import { cidrList, originList } from './values.ts';
import { LONG_LIVED_ANNOTATIONS } from './long-lived.ts';
import { AFFINITY_ANNOTATIONS, AFFINITY_NGINX_ALIASES } from './affinity.ts';

export const WSGATE_PREFIX = 'wsgate.io/';
export const NGINX_PREFIX = 'nginx.ingress.kubernetes.io/';

export interface AnnotationDefinition<F extends PolicyField = PolicyField> {
  /** The full annotation key. */
  key: string;
  /** The policy field it sets. */
  field: F;
  /**
   * The grammar in words; quoted in every InvalidAnnotation message and in the docs. A parser's
   * reason that this text already says is not repeated in the message.
   */
  accepts: string;
  /** The default in words, for the docs. */
  defaultText: string;
  /** What it does, for the docs. */
  doc: string;
  /** Reads the trimmed value (YAML block scalars leave a newline behind). */
  parse: (text: string) => Parsed<IngressPolicy[F]>;
  /** For an ingress-nginx alias: the wsgate.io key that wins over it. */
  aliasOf?: string;
}

function define<F extends PolicyField>(definition: AnnotationDefinition<F>): AnnotationDefinition {
  return definition as unknown as AnnotationDefinition;
}

const BALANCES: readonly Balance[] = ['least-conn', 'round-robin', 'hash'];
const DURATION = DURATION_ACCEPTS;
const POSITIVE = POSITIVE_INTEGER_ACCEPTS;

export const WSGATE_ANNOTATIONS: readonly AnnotationDefinition[] = [
  define({
    key: 'wsgate.io/load-balance',
    field: 'balance',
    accepts: 'least-conn, round-robin or hash (hash needs wsgate.io/hash-by)',
    defaultText: 'least-conn',
    doc: 'How a new connection picks an endpoint; least-conn counts every worker\'s open connections.',
    parse: (text) => parseKeyword(text, BALANCES),
  }),
  define({
    key: 'wsgate.io/hash-by',
    field: 'hashBy',
    accepts: HASH_BY_ACCEPTS,
    defaultText: 'required with hash',
    doc: 'The key of consistent hashing: a pool change moves only the keys it must.',
    parse: normaliseHashBy,
  }),
  define({
    key: 'wsgate.io/connect-timeout',
    field: 'connectTimeout',
    accepts: `${DURATION}, greater than zero`,
    defaultText: POOL_DEFAULTS.connectTimeout,
    doc: 'Time for one TCP (or TLS) connect attempt to an endpoint.',
    parse: (text) => normaliseDuration(text, { allowZero: false }),
  }),
  define({
    key: 'wsgate.io/handshake-timeout',
    field: 'handshakeTimeout',
    accepts: `${DURATION}, greater than zero`,
    defaultText: POOL_DEFAULTS.handshakeTimeout,
    doc: 'Time the upstream has, from connect to its 101 answer.',
    parse: (text) => normaliseDuration(text, { allowZero: false }),
  }),
  define({
    key: 'wsgate.io/idle-timeout',
    field: 'idleTimeout',
    accepts: `${DURATION}, greater than zero`,
    defaultText: POOL_DEFAULTS.idleTimeout,
    doc: 'A connection with no byte in either direction for this long is closed with 1001 (a pong answering a proxy ping counts as a byte). Checked every tenth of the timeout (10 ms to 1 s): never early, at most two of those ticks late.',
    parse: (text) => normaliseDuration(text, { allowZero: false }),
  }),
  define({
    key: 'wsgate.io/drain-timeout',
    field: 'drainTimeout',
    accepts: `${DURATION}; 0s closes at once`,
    defaultText: POOL_DEFAULTS.drainTimeout,
    doc: 'How long a connection to a removed or terminating endpoint stays before the proxy closes it with 1001.',
    parse: (text) => normaliseDuration(text, { allowZero: true }),
  }),
  define({
    key: 'wsgate.io/allowed-origins',
    field: 'allowedOrigins',
    accepts: 'a comma list of full origins (https://app.example.com, https://*.example.com) or *',
    defaultText: 'any origin',
    doc: 'Origins a browser may connect from; `https://*.example.com` matches any subdomain depth, not the apex. A request without Origin passes.',
    parse: originList,
  }),
  define({
    key: 'wsgate.io/max-connections',
    field: 'maxConnections',
    accepts: POSITIVE,
    defaultText: 'unlimited',
    doc: 'Concurrent connections for the Ingress in one pod, across its workers (503 beyond).',
    parse: parsePositiveInteger,
  }),
  define({
    key: 'wsgate.io/max-connections-per-client',
    field: 'maxConnectionsPerClient',
    accepts: POSITIVE,
    defaultText: 'unlimited',
    doc: 'Concurrent connections per client IP (429 beyond).',
    parse: parsePositiveInteger,
  }),
  define({
    key: 'wsgate.io/max-message-size',
    field: 'maxMessageSize',
    accepts: BYTE_SIZE_ACCEPTS,
    defaultText: 'unlimited',
    doc: 'Bytes per frame payload: the sender of a larger frame gets close 1009, the other side 1001.',
    parse: parseByteSize,
  }),
  define({
    key: 'wsgate.io/upstream-tls',
    field: 'upstreamTls',
    accepts: 'true or false',
    defaultText: String(POOL_DEFAULTS.upstreamTls),
    doc: '`true`: wss to the backend (its certificate is verified only with upstream-tls-verify).',
    parse: parseBoolean,
  }),
  define({
    key: 'wsgate.io/upstream-tls-verify',
    field: 'upstreamTlsVerify',
    accepts: 'true or false',
    defaultText: 'false',
    doc: 'With upstream-tls: verify the backend\'s certificate against upstream-tls-ca-secret and upstream-tls-server-name; a wrong one is 502 `upstream_connect`. Fail-closed: without a usable CA nothing is trusted (never the system roots).',
    parse: parseBoolean,
  }),
  define({
    key: 'wsgate.io/upstream-tls-ca-secret',
    field: 'upstreamTlsCaSecret',
    accepts: SECRET_REF_ACCEPTS,
    defaultText: 'none',
    doc: 'The Secret, or with no Secret of that name the ConfigMap (key `ca.crt`, PEM certificates), the backend\'s certificate must chain to; `NAME` is in the Ingress\'s namespace.',
    parse: (text) => parseSecretRef(text),
  }),
  define({
    key: 'wsgate.io/upstream-tls-server-name',
    field: 'upstreamTlsServerName',
    accepts: 'a lowercase DNS name',
    defaultText: 'SERVICE.NAMESPACE.svc',
    doc: 'The name the backend\'s certificate must carry, also sent as SNI.',
    parse: (text) => (isDnsName(text) ? accept(text) : reject('a lowercase DNS name')),
  }),
  define({
    key: 'wsgate.io/allowed-source-ranges',
    field: 'allowedSourceRanges',
    accepts: 'a comma list of CIDRs (10.0.0.0/8, 2001:db8::/32) or addresses',
    defaultText: 'any',
    doc: 'Client addresses allowed to connect (403 otherwise).',
    parse: cidrList,
  }),
  define({
    key: 'wsgate.io/ssl-redirect',
    field: 'sslRedirect',
    accepts: 'true or false',
    defaultText: 'true',
    doc: 'Plain HTTP (ws:// included) to a host listed in the Ingress\'s spec.tls gets 308 to https://; `false` turns it off for this Ingress.',
    parse: parseBoolean,
  }),
  define({
    key: 'wsgate.io/force-ssl-redirect',
    field: 'forceSslRedirect',
    accepts: 'true or false',
    defaultText: 'false',
    doc: '`true`: the 308 to https:// also on hosts with no TLS entry (TLS terminated in front of wsgate, for one).',
    parse: parseBoolean,
  }),
  ...LONG_LIVED_ANNOTATIONS,
  ...AFFINITY_ANNOTATIONS,
];

const SECONDS = NGINX_SECONDS_ACCEPTS;

/** ingress-nginx annotations honoured on an Ingress of wsgate's class (SPEC §6, migration). */
export const NGINX_ALIASES: readonly AnnotationDefinition[] = [
  define({
    key: 'nginx.ingress.kubernetes.io/proxy-read-timeout',
    field: 'idleTimeout',
    aliasOf: 'wsgate.io/idle-timeout',
    accepts: SECONDS,
    defaultText: '-',
    doc: 'Seconds; with proxy-send-timeout the larger of the two becomes the idle timeout.',
    parse: parseNginxSeconds,
  }),
  define({
    key: 'nginx.ingress.kubernetes.io/proxy-send-timeout',
    field: 'idleTimeout',
    aliasOf: 'wsgate.io/idle-timeout',
    accepts: SECONDS,
    defaultText: '-',
    doc: 'Seconds; with proxy-read-timeout the larger of the two becomes the idle timeout.',
    parse: parseNginxSeconds,
  }),
  define({
    key: 'nginx.ingress.kubernetes.io/proxy-connect-timeout',
    field: 'connectTimeout',
    aliasOf: 'wsgate.io/connect-timeout',
    accepts: SECONDS,
    defaultText: '-',
    doc: 'Seconds.',
    parse: parseNginxSeconds,
  }),
  define({
    key: 'nginx.ingress.kubernetes.io/upstream-hash-by',
    field: 'hashBy',
    aliasOf: 'wsgate.io/hash-by',
    accepts: NGINX_HASH_BY_ACCEPTS,
    defaultText: '-',
    doc: 'Turns on hash balancing (unless wsgate.io/load-balance says otherwise) keyed by header, cookie, query parameter or client IP.',
    parse: parseNginxHashBy,
  }),
  define({
    key: 'nginx.ingress.kubernetes.io/load-balance',
    field: 'balance',
    aliasOf: 'wsgate.io/load-balance',
    accepts: 'round_robin or ewma',
    defaultText: '-',
    doc: '`round_robin` -> round-robin, `ewma` -> least-conn.',
    parse: parseNginxBalance,
  }),
  define({
    key: 'nginx.ingress.kubernetes.io/limit-connections',
    field: 'maxConnectionsPerClient',
    aliasOf: 'wsgate.io/max-connections-per-client',
    accepts: POSITIVE,
    defaultText: '-',
    doc: 'Concurrent connections per client IP.',
    parse: parsePositiveInteger,
  }),
  define({
    key: 'nginx.ingress.kubernetes.io/backend-protocol',
    field: 'upstreamTls',
    aliasOf: 'wsgate.io/upstream-tls',
    accepts: 'HTTP or HTTPS',
    defaultText: '-',
    doc: '`HTTPS` -> wss to the backend.',
    parse: parseNginxBackendProtocol,
  }),
  define({
    key: 'nginx.ingress.kubernetes.io/proxy-ssl-verify',
    field: 'upstreamTlsVerify',
    aliasOf: 'wsgate.io/upstream-tls-verify',
    accepts: 'on or off',
    defaultText: '-',
    doc: 'With `backend-protocol: HTTPS`.',
    parse: parseNginxOnOff,
  }),
  define({
    key: 'nginx.ingress.kubernetes.io/proxy-ssl-secret',
    field: 'upstreamTlsCaSecret',
    aliasOf: 'wsgate.io/upstream-tls-ca-secret',
    accepts: NAMESPACED_SECRET_REF_ACCEPTS,
    defaultText: '-',
    doc: 'A Secret or ConfigMap, as for the wsgate.io key; only its `ca.crt` is read (no client certificate).',
    parse: (text) => parseSecretRef(text, { namespaceRequired: true }),
  }),
  define({
    key: 'nginx.ingress.kubernetes.io/proxy-ssl-name',
    field: 'upstreamTlsServerName',
    aliasOf: 'wsgate.io/upstream-tls-server-name',
    accepts: 'a lowercase DNS name',
    defaultText: '-',
    doc: 'The name verified and sent as SNI.',
    parse: (text) => (isDnsName(text) ? accept(text) : reject('a lowercase DNS name')),
  }),
  define({
    key: 'nginx.ingress.kubernetes.io/whitelist-source-range',
    field: 'allowedSourceRanges',
    aliasOf: 'wsgate.io/allowed-source-ranges',
    accepts: 'a comma list of CIDRs or addresses',
    defaultText: '-',
    doc: 'Client addresses allowed to connect.',
    parse: cidrList,
  }),
  define({
    key: 'nginx.ingress.kubernetes.io/ssl-redirect',
    field: 'sslRedirect',
    aliasOf: 'wsgate.io/ssl-redirect',
    accepts: 'true or false',
    defaultText: '-',
    doc: 'Same meaning and default (308, as ingress-nginx answers).',
    parse: parseBoolean,
  }),
  define({
    key: 'nginx.ingress.kubernetes.io/force-ssl-redirect',
    field: 'forceSslRedirect',
    aliasOf: 'wsgate.io/force-ssl-redirect',
    accepts: 'true or false',
    defaultText: '-',
    doc: 'Same meaning.',
    parse: parseBoolean,
  }),
  ...AFFINITY_NGINX_ALIASES,
];

export const ANNOTATIONS: readonly AnnotationDefinition[] = [...WSGATE_ANNOTATIONS, ...NGINX_ALIASES];

const BY_KEY: ReadonlyMap<string, AnnotationDefinition> = new Map(ANNOTATIONS.map((definition) => [definition.key, definition]));

export function annotationDefinition(key: string): AnnotationDefinition | undefined {
  return BY_KEY.get(key);
}

/** Defaults of every field a pool always carries (SPEC §6). */
export const DEFAULT_POLICY: IngressPolicy = {
  balance: POOL_DEFAULTS.balance,
  connectTimeout: POOL_DEFAULTS.connectTimeout,
  handshakeTimeout: POOL_DEFAULTS.handshakeTimeout,
  idleTimeout: POOL_DEFAULTS.idleTimeout,
  drainTimeout: POOL_DEFAULTS.drainTimeout,
  upstreamTls: POOL_DEFAULTS.upstreamTls,
};

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/** The README's annotation tables, generated from the registry. */
export function annotationDocsMarkdown(): string {
  const lines = [
    `Annotations (prefix \`${WSGATE_PREFIX}\`):`,
    '',
    '| annotation | values | default | what it does |',
    '|---|---|---|---|',
    ...WSGATE_ANNOTATIONS.map((a) => `| \`${a.key.slice(WSGATE_PREFIX.length)}\` | ${cell(a.accepts)} | ${cell(a.defaultText)} | ${cell(a.doc)} |`),
    '',
    `ingress-nginx aliases (prefix \`${NGINX_PREFIX}\`); the \`${WSGATE_PREFIX}\` annotation wins where both are set (the alias is then not read):`,
    '',
    '| annotation | values | stands for | notes |',
    '|---|---|---|---|',
    ...NGINX_ALIASES.map((a) => `| \`${a.key.slice(NGINX_PREFIX.length)}\` | ${cell(a.accepts)} | \`${a.aliasOf ?? ''}\` | ${cell(a.doc)} |`),
    '',
    `Other \`${NGINX_PREFIX}\` annotations are listed in one Normal Event \`IgnoredAnnotations\`.`,
    '',
  ];
  return lines.join('\n');
}

// Validation of a snapshot before it is served (SPEC §4): the JSON Schema for shape, then the
// rules a schema cannot say (references between pools and routes, uniqueness, CIDRs, origins,
// certificates that parse and match their key). Pure: no I/O, defaults are not filled in.
// Values are judged by the grammars in grammar/, the ones annotations are read with and the data
// plane compiles, so a value means the same thing wherever it is written.
// The semantic checks run even when the schema fails, on whatever parts have the right type, so
// `wsgate check` lists every mistake in one pass.
import type { KeyObject, X509Certificate } from 'node:crypto';
import { parseCidr } from '../grammar/cidr.ts';
import { parseDuration } from '../grammar/duration.ts';
import { HASH_BY_ACCEPTS, parseHashBy } from '../grammar/hash-by.ts';
import { parseOrigin } from '../grammar/origin.ts';
import { certificateBlocks, keyMatchesLeaf, parseCaBundle, parseCertificate, parsePrivateKey } from '../grammar/pem-pair.ts';
import { schemaIssues, formatIssue, describeValue, snapshotSchema, type Issue, type PathSegment } from './schema.ts';
import type { Snapshot } from './snapshot.ts';

export type ValidationResult = { ok: true; snapshot: Snapshot } | { ok: false; errors: string[] };

export function validateSnapshot(doc: unknown): ValidationResult {
  const issues = validateSnapshotIssues(doc);
  if (issues.length > 0) return { ok: false, errors: issues.map(formatIssue) };
  return { ok: true, snapshot: doc as Snapshot };
}

/** Every problem of a document, with its place; [] when it can be served. */
export function validateSnapshotIssues(doc: unknown): Issue[] {
  return [...schemaIssues(doc), ...semanticIssues(doc)];
}

// ---- the checks ----

type Fields = Record<string, unknown>;

function record(value: unknown): Fields | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function semanticIssues(doc: unknown): Issue[] {
  const root = record(doc);
  if (!root) return [];
  const issues: Issue[] = [];
  // Without a pools list the schema already says so; every route naming "no pool" would be noise.
  const poolNames = Array.isArray(root.pools) ? checkPools(root.pools, issues) : undefined;
  checkRoutes(list(root.routes), poolNames, issues);
  const tls = record(root.tls);
  if (tls) {
    list(tls.certificates).forEach((cert, i) => checkCertificate(cert, ['tls', 'certificates', i], issues));
    if (tls.defaultCertificate !== undefined) checkCertificate(tls.defaultCertificate, ['tls', 'defaultCertificate'], issues);
  }
  return issues;
}

// drainTimeout 0 means "close at once" (the drain-timeout annotation accepts 0s); a zero connect,
// handshake or idle timeout would fail every connection.
const NONZERO_DURATION_FIELDS = ['connectTimeout', 'handshakeTimeout', 'idleTimeout'] as const;

// The schema's hashBy pattern is wider than the grammar (it allows `&`, `=` and `#` in a query
// name); what it passes and the grammar refuses is reported here, in the schema's words.
const HASH_BY_SHAPE = new RegExp(
  ((snapshotSchema.$defs as Record<string, { properties: Record<string, { pattern: string }> }>).pool!.properties.hashBy!.pattern),
  'u',
);

/** Checks the pools and returns their names, in order, for the routes to refer to. */
function checkPools(pools: unknown[], issues: Issue[]): string[] {
  const firstIndex = new Map<string, number>();
  pools.forEach((value, i) => {
    const pool = record(value);
    if (!pool) return;
    const at = ['pools', i];
    if (typeof pool.name === 'string' && pool.name !== '') {
      const earlier = firstIndex.get(pool.name);
      if (earlier === undefined) firstIndex.set(pool.name, i);
      else issues.push({ path: [...at, 'name'], message: `${describeValue(pool.name)} is already the name of pools[${earlier}]` });
    }
    if (pool.balance === 'hash' && pool.hashBy === undefined) {
      issues.push({ path: [...at, 'hashBy'], message: 'required when balance is "hash"' });
    }
    if (typeof pool.hashBy === 'string' && HASH_BY_SHAPE.test(pool.hashBy) && !parseHashBy(pool.hashBy).ok) {
      issues.push({ path: [...at, 'hashBy'], message: `${describeValue(pool.hashBy)} is not ${HASH_BY_ACCEPTS}` });
    }
    for (const field of NONZERO_DURATION_FIELDS) {
      const text = pool[field];
      // Text that is not a duration at all is the schema's finding; only zero is left here.
      if (typeof text === 'string' && parseDuration(text) === 0) {
        issues.push({ path: [...at, field], message: `${describeValue(text)} must be greater than 0` });
      }
    }
    if (typeof pool.upstreamTlsCa === 'string' && pool.upstreamTlsCa !== '') {
      const bundle = parseCaBundle(pool.upstreamTlsCa);
      if (!bundle.ok) issues.push({ path: [...at, 'upstreamTlsCa'], message: bundle.reason });
    }
    checkDuplicateEndpoints(list(pool.endpoints), at, issues);
  });
  return [...firstIndex.keys()];
}

/** An address listed twice in one pool is refused, so the data plane can trust each is listed once. */
function checkDuplicateEndpoints(endpoints: unknown[], at: PathSegment[], issues: Issue[]): void {
  const firstIndex = new Map<string, number>();
  endpoints.forEach((value, i) => {
    const endpoint = record(value);
    if (!endpoint || typeof endpoint.address !== 'string' || typeof endpoint.port !== 'number') return;
    const target = `${endpoint.address} port ${endpoint.port}`;
    const earlier = firstIndex.get(target);
    if (earlier === undefined) firstIndex.set(target, i);
    else issues.push({ path: [...at, 'endpoints', i], message: `${target} is already listed at endpoints[${earlier}]` });
  });
}

// RFC 9110 §5.1 field names; values without CR, LF or NUL: a modifier can never split a head.
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[^\r\n\0]*$/;
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

function checkHeaderModifier(modifier: Record<string, unknown> | undefined, at: PathSegment[], issues: Issue[]): void {
  if (!modifier) return;
  for (const kind of ['set', 'add'] as const) {
    for (const [i, value] of list(modifier[kind]).entries()) {
      const header = record(value);
      if (!header) continue;
      if (typeof header.name === 'string' && !FIELD_NAME.test(header.name)) issues.push({ path: [...at, kind, i, 'name'], message: `${describeValue(header.name)} is not a header field name` });
      if (typeof header.value === 'string' && !FIELD_VALUE.test(header.value)) issues.push({ path: [...at, kind, i, 'value'], message: 'a header value cannot hold CR, LF or NUL' });
    }
  }
}

function checkRoutes(routes: unknown[], poolNames: string[] | undefined, issues: Issue[]): void {
  const known = new Set(poolNames);
  const claimed = new Map<string, number>();
  routes.forEach((value, i) => {
    const route = record(value);
    if (!route) return;
    const at = ['routes', i];
    if (poolNames && typeof route.pool === 'string' && route.pool !== '' && !known.has(route.pool)) {
      const names = poolNames.length > 0 ? poolNames.join(', ') : 'none';
      issues.push({ path: [...at, 'pool'], message: `${describeValue(route.pool)} is not a pool (pools: ${names})` });
    }
    if (typeof route.host === 'string' && typeof route.path === 'string' && typeof route.pathType === 'string') {
      // Gateway API routes may share host, path and type when they differ in listener or matches.
      const key = JSON.stringify([route.host, route.path, route.pathType, route.protocols ?? null, route.wildcardDepth ?? null, route.match ?? null]);
      const earlier = claimed.get(key);
      if (earlier === undefined) claimed.set(key, i);
      else issues.push({ path: at, message: `same host, path and pathType as routes[${earlier}] (${describeValue(route.host)}, ${describeValue(route.path)}, ${route.pathType})` });
    }
    for (const [j, split] of list(route.backends).entries()) {
      const pool = record(split)?.pool;
      if (poolNames && typeof pool === 'string' && pool !== '' && !known.has(pool)) issues.push({ path: [...at, 'backends', j, 'pool'], message: `${describeValue(pool)} is not a pool` });
    }
    for (const field of ['requestHeaders', 'responseHeaders'] as const) checkHeaderModifier(record(route[field]), [...at, field], issues);
    for (const field of ['redirect', 'rewrite'] as const) {
      const hostname = record(route[field])?.hostname;
      if (typeof hostname === 'string' && !HOSTNAME.test(hostname)) issues.push({ path: [...at, field, 'hostname'], message: `${describeValue(hostname)} is not a host name` });
    }
    const policy = record(route.policy);
    if (policy) checkPolicy(policy, [...at, 'policy'], issues);
  });
}

function checkPolicy(policy: Fields, at: PathSegment[], issues: Issue[]): void {
  list(policy.allowedOrigins).forEach((origin, j) => {
    if (typeof origin !== 'string' || origin === '') return;
    if (parseOrigin(origin).ok) return;
    issues.push({ path: [...at, 'allowedOrigins', j], message: `${describeValue(origin)} is not an origin (${ORIGIN_HINT})` });
  });
  list(policy.allowedSourceRanges).forEach((range, j) => {
    if (typeof range !== 'string' || range === '' || parseCidr(range).ok) return;
    issues.push({ path: [...at, 'allowedSourceRanges', j], message: `${describeValue(range)} is not a CIDR (such as 10.0.0.0/8 or fd00::/8) or an address` });
  });
}

const ORIGIN_HINT = 'http:// or https:// with a host and an optional port, such as https://app.example.com or https://*.example.com';

function checkCertificate(value: unknown, at: PathSegment[], issues: Issue[]): void {
  const cert = record(value);
  if (!cert) return;
  const pemOk = exactlyOne(cert, 'cert', 'certFile', at, issues);
  const keyOk = exactlyOne(cert, 'key', 'keyFile', at, issues);
  // Files are read by the loader, which puts their text in cert/key; only text is checked here.
  const leaf = pemOk && typeof cert.cert === 'string' ? checkChain(cert.cert, [...at, 'cert'], issues) : undefined;
  if (keyOk && typeof cert.key === 'string') {
    const key = checkKey(cert.key, [...at, 'key'], issues);
    if (leaf && key && !keyMatchesLeaf(leaf, key)) {
      issues.push({ path: [...at, 'key'], message: 'does not match the certificate (the first one in the chain)' });
    }
  }
}

function exactlyOne(cert: Fields, inline: string, file: string, at: PathSegment[], issues: Issue[]): boolean {
  const hasInline = cert[inline] !== undefined;
  const hasFile = cert[file] !== undefined;
  if (hasInline && hasFile) {
    issues.push({ path: [...at, file], message: `cannot be given together with ${inline}` });
    return false;
  }
  if (!hasInline && !hasFile) {
    issues.push({ path: [...at, inline], message: `required field is missing (give ${inline} or ${file})` });
    return false;
  }
  return true;
}

/** Parses every certificate of a PEM chain and returns the leaf, or reports why it cannot. */
function checkChain(pem: string, at: PathSegment[], issues: Issue[]): X509Certificate | undefined {
  const blocks = certificateBlocks(pem);
  if (blocks.length === 0) {
    issues.push({ path: at, message: 'is not a PEM certificate (no -----BEGIN CERTIFICATE----- block)' });
    return undefined;
  }
  let leaf: X509Certificate | undefined;
  for (const [n, block] of blocks.entries()) {
    const parsed = parseCertificate(block);
    if (!parsed.ok) {
      const which = blocks.length === 1 ? 'the certificate' : `certificate ${n + 1} of ${blocks.length} in the chain`;
      issues.push({ path: at, message: `${which} does not parse (${parsed.reason})` });
      return undefined;
    }
    leaf ??= parsed.value;
  }
  return leaf;
}

function checkKey(pem: string, at: PathSegment[], issues: Issue[]): KeyObject | undefined {
  const parsed = parsePrivateKey(pem);
  if (parsed.ok) return parsed.value;
  issues.push({ path: at, message: `is not a PEM private key (${parsed.reason})` });
  return undefined;
}

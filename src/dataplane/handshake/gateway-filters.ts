// The Gateway API parts of a route, applied per request: matches on headers, query and listener
// (router.ts asks accepts()), the weighted split, RequestRedirect, URLRewrite and the two header
// modifiers. Only routes that carry them pay for them: an Ingress route has none of these fields.
import type { IncomingHttpHeaders } from 'node:http';
import type { HeaderModifier, PathModifier, Route, RouteRedirect } from '../../config/snapshot.ts';
import type { RouteRequest } from './router.ts';
import type { Answer } from './rejection.ts';

/** accepts() for a route with match or protocols; undefined for a route without (the fast path). */
export function compileAccepts(route: Route): ((request: RouteRequest) => boolean) | undefined {
  const headers = route.match?.headers ?? [];
  const query = route.match?.queryParams ?? [];
  const protocols = route.protocols;
  if (headers.length === 0 && query.length === 0 && protocols === undefined) return undefined;
  return (request) => {
    if (protocols !== undefined && !protocols.includes(request.proto)) return false;
    for (const m of headers) if (headerValue(request.headers, m.name) !== m.value) return false;
    if (query.length === 0) return true;
    const params = queryOf(request.target);
    for (const m of query) if (params.get(m.name) !== m.value) return false;
    return true;
  };
}

/** HTTPRoute precedence: header matches count before query matches. */
export function conditionCount(route: Route): number {
  return (route.match?.headers?.length ?? 0) * 1000 + (route.match?.queryParams?.length ?? 0);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function queryOf(target: string): URLSearchParams {
  const question = target.indexOf('?');
  if (question === -1) return new URLSearchParams();
  const hash = target.indexOf('#', question);
  return new URLSearchParams(target.slice(question + 1, hash === -1 ? undefined : hash));
}

/** Cumulative weights of a split, for one random draw per new connection. */
export interface WeightedChoice<T> {
  items: T[];
  cumulative: number[];
  total: number;
}

export function pickWeighted<T>(choice: WeightedChoice<T>): T {
  const draw = Math.random() * choice.total;
  for (let i = 0; i < choice.cumulative.length; i += 1) if (draw < choice.cumulative[i]!) return choice.items[i]!;
  return choice.items[choice.items.length - 1]!;
}

function pathAndQuery(url: string): [string, string] {
  const question = url.indexOf('?');
  return question === -1 ? [url, ''] : [url.slice(0, question), url.slice(question)];
}

/** ReplaceFullPath, or the matched prefix replaced (Gateway API HTTPPathModifier); the query stays. */
export function modifyPath(url: string, modifier: PathModifier, route: Route): string {
  const [path, query] = pathAndQuery(url);
  if (modifier.type === 'ReplaceFullPath') return `${modifier.value}${query}`;
  const prefix = route.path === '/' ? '' : route.path.replace(/\/+$/, '');
  const rest = path.slice(prefix.length);
  const base = modifier.value.replace(/\/+$/, '');
  let next = `${base}${rest}`;
  if (next === '') next = '/';
  else if (!next.startsWith('/')) next = `/${next}`;
  return `${next}${query}`;
}

const REDIRECT_HOST = /^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])$/;

/** RequestRedirect: the Location from the request and the filter; the port only when not the scheme's own. */
export function gatewayRedirect(route: Route, redirect: RouteRedirect, proto: 'http' | 'https', hostKey: string, url: string): Answer | undefined {
  const host = redirect.hostname ?? hostKey;
  if (!REDIRECT_HOST.test(host)) return undefined;
  const scheme = redirect.scheme ?? proto;
  const port = redirect.port;
  const wellKnown = (scheme === 'https' && port === 443) || (scheme === 'http' && port === 80);
  const authority = port === undefined || wellKnown ? host : `${host}:${port}`;
  const target = redirect.path === undefined ? url : modifyPath(url, redirect.path, route);
  const location = `${scheme}://${authority}${target}`;
  return { status: redirect.statusCode, message: `redirecting to ${location}`, headers: { Location: location } };
}

/** A header list (name, value, name, value...) with a modifier applied: remove, then set, then add. */
export function modifyHeaderList(raw: readonly string[], modifier: HeaderModifier): string[] {
  const replaced = new Set<string>();
  for (const name of modifier.remove ?? []) replaced.add(name.toLowerCase());
  for (const h of modifier.set ?? []) replaced.add(h.name.toLowerCase());
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!replaced.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  for (const h of modifier.set ?? []) out.push(h.name, h.value);
  for (const h of modifier.add ?? []) out.push(h.name, h.value);
  return out;
}

/** A 101 response head (latin1 text ending in CRLFCRLF) with ResponseHeaderModifier applied. */
export function modifyResponseHead(head: Buffer, modifier: HeaderModifier): Buffer {
  const text = head.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return head;
  const lines = text.slice(0, end).split('\r\n');
  const status = lines.shift()!;
  const raw: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) raw.push(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const fields = modifyHeaderList(raw, modifier);
  let out = `${status}\r\n`;
  for (let i = 0; i < fields.length; i += 2) out += `${fields[i]}: ${fields[i + 1]}\r\n`;
  return Buffer.concat([Buffer.from(`${out}\r\n`, 'latin1'), head.subarray(end + 4)]);
}

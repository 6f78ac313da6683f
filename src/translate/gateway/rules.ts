// HTTPRoute rules -> what each becomes in the snapshot, before hosts are known: the path and
// extra conditions of every match, and the filters. What wsgate cannot do (regex, method matches,
// filters other than the four below, filters on a backendRef) makes the rule unsupported: it is
// not served, and the route's status says UnsupportedValue.
import type { HeaderModifier, PathModifier, RouteMatch, RouteRedirect, RouteRewrite, ValueMatch } from '../../config/snapshot.ts';
import { normaliseGatewayHost } from './hostnames.ts';
import type { HTTPHeaderFilter, HTTPPathModifier, HTTPRouteFilter, HTTPRouteMatch, HTTPRouteRule } from './types.ts';

export interface RuleMatch {
  path: string;
  pathType: 'Exact' | 'Prefix';
  match?: RouteMatch;
}

export interface RuleFilters {
  requestHeaders?: HeaderModifier;
  responseHeaders?: HeaderModifier;
  redirect?: RouteRedirect;
  rewrite?: RouteRewrite;
}

export type RuleShape = { ok: true; matches: RuleMatch[]; filters: RuleFilters } | { ok: false; problem: string };

function valueMatches(list: readonly { type?: string; name: string; value: string }[] | undefined, what: string, lower: boolean): ValueMatch[] | string {
  const out: ValueMatch[] = [];
  for (const m of list ?? []) {
    if ((m.type ?? 'Exact') !== 'Exact') return `${what} match type ${m.type} is not supported (Exact only)`;
    out.push({ name: lower ? m.name.toLowerCase() : m.name, value: m.value });
  }
  // The HTTPRoute spec: with two matches of one name, the first counts.
  const seen = new Set<string>();
  return out.filter((m) => (seen.has(m.name) ? false : (seen.add(m.name), true)));
}

function ruleMatch(match: HTTPRouteMatch): RuleMatch | string {
  if (match.method !== undefined) return `method matches are not supported`;
  const type = match.path?.type ?? 'PathPrefix';
  const value = match.path?.value ?? '/';
  if (type === 'RegularExpression') return 'path match type RegularExpression is not supported';
  if (!value.startsWith('/')) return `path ${value} does not start with /`;
  const pathType = type === 'Exact' ? 'Exact' : 'Prefix';
  const trimmed = pathType === 'Prefix' ? value.replace(/\/+$/, '') || '/' : value;
  const headers = valueMatches(match.headers, 'header', true);
  if (typeof headers === 'string') return headers;
  const queryParams = valueMatches(match.queryParams, 'query parameter', false);
  if (typeof queryParams === 'string') return queryParams;
  const out: RuleMatch = { path: trimmed, pathType };
  if (headers.length > 0 || queryParams.length > 0) {
    out.match = {};
    if (headers.length > 0) out.match.headers = headers;
    if (queryParams.length > 0) out.match.queryParams = queryParams;
  }
  return out;
}

function headerModifier(filter: HTTPHeaderFilter | undefined): HeaderModifier {
  const out: HeaderModifier = {};
  if (filter?.set?.length) out.set = filter.set.map((h) => ({ name: h.name, value: h.value }));
  if (filter?.add?.length) out.add = filter.add.map((h) => ({ name: h.name, value: h.value }));
  if (filter?.remove?.length) out.remove = [...filter.remove];
  return out;
}

function pathModifier(path: HTTPPathModifier | undefined, matches: readonly RuleMatch[]): PathModifier | string | undefined {
  if (path === undefined) return undefined;
  if (path.type === 'ReplaceFullPath') return { type: 'ReplaceFullPath', value: path.replaceFullPath ?? '/' };
  if (path.type === 'ReplacePrefixMatch') {
    if (matches.some((m) => m.pathType !== 'Prefix')) return 'ReplacePrefixMatch needs PathPrefix matches';
    return { type: 'ReplacePrefixMatch', value: path.replacePrefixMatch ?? '/' };
  }
  return `path modifier ${String((path as { type: unknown }).type)} is not supported`;
}

function applyFilter(filters: RuleFilters, filter: HTTPRouteFilter, matches: readonly RuleMatch[]): string | undefined {
  switch (filter.type) {
    case 'RequestHeaderModifier':
      filters.requestHeaders = headerModifier(filter.requestHeaderModifier);
      return undefined;
    case 'ResponseHeaderModifier':
      filters.responseHeaders = headerModifier(filter.responseHeaderModifier);
      return undefined;
    case 'RequestRedirect': {
      const given = filter.requestRedirect ?? {};
      const redirect: RouteRedirect = { statusCode: given.statusCode ?? 302 };
      if (given.scheme !== undefined) redirect.scheme = given.scheme;
      if (given.hostname !== undefined) redirect.hostname = given.hostname;
      if (given.port !== undefined) redirect.port = given.port;
      const path = pathModifier(given.path, matches);
      if (typeof path === 'string') return path;
      if (path !== undefined) redirect.path = path;
      filters.redirect = redirect;
      return undefined;
    }
    case 'URLRewrite': {
      const given = filter.urlRewrite ?? {};
      const rewrite: RouteRewrite = {};
      if (given.hostname !== undefined) rewrite.hostname = given.hostname;
      const path = pathModifier(given.path, matches);
      if (typeof path === 'string') return path;
      if (path !== undefined) rewrite.path = path;
      filters.rewrite = rewrite;
      return undefined;
    }
    default:
      return `filter ${filter.type} is not supported (supported: RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect, URLRewrite)`;
  }
}

// RFC 9110 §5.1 field names; values without CR, LF or NUL, so nothing can be smuggled into a head.
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[^\r\n\0]*$/;

function unsafeHeaders(filters: RuleFilters): string | undefined {
  for (const modifier of [filters.requestHeaders, filters.responseHeaders]) {
    for (const h of [...(modifier?.set ?? []), ...(modifier?.add ?? [])]) {
      if (!FIELD_NAME.test(h.name) || !FIELD_VALUE.test(h.value)) return `header ${JSON.stringify(h.name)} is not a valid field name and value`;
    }
  }
  const host = filters.rewrite?.hostname ?? filters.redirect?.hostname;
  if (host !== undefined && (normaliseGatewayHost(host) === undefined || host.startsWith('*'))) return `hostname ${host} is not a DNS name`;
  return undefined;
}

export function ruleShape(rule: HTTPRouteRule): RuleShape {
  const matches: RuleMatch[] = [];
  for (const match of rule.matches?.length ? rule.matches : [{}]) {
    const shaped = ruleMatch(match);
    if (typeof shaped === 'string') return { ok: false, problem: shaped };
    matches.push(shaped);
  }
  const filters: RuleFilters = {};
  for (const filter of rule.filters ?? []) {
    const problem = applyFilter(filters, filter, matches);
    if (problem !== undefined) return { ok: false, problem };
  }
  if (filters.redirect !== undefined && filters.rewrite !== undefined) return { ok: false, problem: 'RequestRedirect and URLRewrite cannot be combined' };
  const unsafe = unsafeHeaders(filters);
  if (unsafe !== undefined) return { ok: false, problem: unsafe };
  if ((rule.backendRefs ?? []).some((ref) => (ref.filters ?? []).length > 0)) return { ok: false, problem: 'filters on a backendRef are not supported' };
  return { ok: true, matches, filters };
}

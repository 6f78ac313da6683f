// The three `load-balance` strategies of SPEC §6, as pure choices over the endpoints a pick may
// still use. State that must outlive a snapshot (cursors, open counts) is passed in by pool.ts.
import type { EndpointRef, PickContext } from './types.ts';
import { canonicalClientIp } from '../../grammar/client-address.ts';
import { parseHashBy } from '../../grammar/hash-by.ts';

/** Open connections to an endpoint, summed over every worker of the pod. */
export type LoadOf = (key: string) => number;

/**
 * least-conn: an endpoint with the fewest open connections. Among equals, `turn` (a counter
 * that grows with each pick) takes them in rotation, so a burst that arrives before any of its
 * connections is counted spreads out instead of landing on the first endpoint.
 */
export function pickLeastLoaded(candidates: readonly EndpointRef[], loadOf: LoadOf, turn: number): EndpointRef | undefined {
  let fewest = Infinity;
  let ties = 0;
  const loads = candidates.map((endpoint) => {
    const load = loadOf(endpoint.key);
    if (load < fewest) {
      fewest = load;
      ties = 1;
    } else if (load === fewest) {
      ties += 1;
    }
    return load;
  });
  let wanted = turn % Math.max(ties, 1);
  for (let i = 0; i < candidates.length; i++) {
    if (loads[i] !== fewest) continue;
    if (wanted === 0) return candidates[i];
    wanted -= 1;
  }
  return undefined;
}

/**
 * round-robin: the first endpoint at or after `cursor` (wrapping) that `accept` takes, as an
 * index into `endpoints`. The caller moves its cursor past the one chosen, so an endpoint that
 * was skipped does not hand its turn to its neighbour twice.
 */
export function pickInTurn(endpoints: readonly EndpointRef[], accept: (endpoint: EndpointRef) => boolean, cursor: number): number | undefined {
  const count = endpoints.length;
  for (let step = 0; step < count; step++) {
    const index = (cursor + step) % count;
    if (accept(endpoints[index]!)) return index;
  }
  return undefined;
}

/** Reads the value a request is hashed on; undefined when the request does not carry it. */
export type HashKeyReader = (ctx: PickContext) => string | undefined;

/**
 * The reader for a hash-by in the grammar of grammar/hash-by.ts (SPEC §6). Undefined for anything
 * else (the validator refuses such a pool before it gets here). An empty value counts as absent:
 * hashing every such request to one endpoint would pile them up there.
 */
export function compileHashKey(hashBy: string): HashKeyReader | undefined {
  const parsed = parseHashBy(hashBy);
  if (!parsed.ok) return undefined;
  const key = parsed.value;
  switch (key.kind) {
    case 'client-ip':
      return (ctx) => nonEmpty(canonicalClientIp(ctx.clientIp));
    case 'header':
      return (ctx) => {
        const value = ctx.headers[key.name];
        return nonEmpty(Array.isArray(value) ? value.join(', ') : value);
      };
    case 'cookie':
      return (ctx) => cookieValue(ctx.headers.cookie, key.name);
    case 'query':
      return (ctx) => queryValue(ctx.url, key.name);
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** The first cookie called `name` (names are case-sensitive, RFC 6265 §5.4). */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=');
    if (equals === -1 || pair.slice(0, equals).trim() !== name) continue;
    let value = pair.slice(equals + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return nonEmpty(value);
  }
  return undefined;
}

function queryValue(url: string, name: string): string | undefined {
  const question = url.indexOf('?');
  if (question === -1) return undefined;
  const hash = url.indexOf('#', question);
  const query = url.slice(question + 1, hash === -1 ? undefined : hash);
  return nonEmpty(new URLSearchParams(query).get(name) ?? undefined);
}

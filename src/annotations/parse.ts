// An Ingress's annotations -> its policy, or the problems that stop it (SPEC §6). Precedence:
// a wsgate.io/ annotation wins over its ingress-nginx aliases, which are then not read at all (so
// a migration can override an alias wsgate cannot honour); several aliases of one field (the two
// nginx proxy timeouts) give the larger value.
import { parseDuration } from '../grammar/duration.ts';
import type { IngressPolicy, PolicyField } from './policy.ts';
import { DEFAULT_POLICY, NGINX_PREFIX, WSGATE_PREFIX, annotationDefinition, type AnnotationDefinition } from './registry.ts';

export interface AnnotationProblem {
  key: string;
  value: string;
  /** Names the annotation, the value and what is accepted. */
  message: string;
}

export interface AnnotationResult {
  /** Undefined when any annotation is invalid. */
  policy?: IngressPolicy;
  problems: AnnotationProblem[];
  /** `wsgate.io/` keys wsgate does not know (likely typos); reported, not fatal. Sorted. */
  unknown: string[];
  /** `nginx.ingress.kubernetes.io/` keys wsgate does not honour. Sorted. */
  ignored: string[];
}

const HASH_BY_KEY = 'wsgate.io/hash-by';
const LOAD_BALANCE_KEY = 'wsgate.io/load-balance';
const NGINX_HASH_BY_KEY = 'nginx.ingress.kubernetes.io/upstream-hash-by';

export function invalidValueMessage(definition: AnnotationDefinition, value: string, reason?: string): string {
  const why = reason === undefined || definition.accepts.includes(reason) ? '' : ` (${reason})`;
  return `${definition.key}: ${JSON.stringify(value)} is not valid${why}; accepted: ${definition.accepts}`;
}

export function parseIngressAnnotations(annotations: Readonly<Record<string, string>> | undefined): AnnotationResult {
  const present = new Map<PolicyField, { native?: [AnnotationDefinition, string]; aliases: [AnnotationDefinition, string][] }>();
  const unknown: string[] = [];
  const ignored: string[] = [];
  for (const key of Object.keys(annotations ?? {}).sort()) {
    const value = String(annotations![key]);
    const definition = annotationDefinition(key);
    if (definition === undefined) {
      if (key.startsWith(WSGATE_PREFIX)) unknown.push(key);
      else if (key.startsWith(NGINX_PREFIX)) ignored.push(key);
      continue;
    }
    const slot = present.get(definition.field) ?? { aliases: [] };
    if (definition.aliasOf === undefined) slot.native = [definition, value];
    else slot.aliases.push([definition, value]);
    present.set(definition.field, slot);
  }

  const problems: AnnotationProblem[] = [];
  const policy: IngressPolicy = { ...DEFAULT_POLICY };
  const assign = (field: PolicyField, value: unknown): void => {
    if (value === undefined) delete (policy as unknown as Record<string, unknown>)[field];
    else (policy as unknown as Record<string, unknown>)[field] = value;
  };
  for (const [field, slot] of present) {
    const sources = slot.native !== undefined ? [slot.native] : slot.aliases;
    const values: unknown[] = [];
    for (const [definition, value] of sources) {
      const parsed = definition.parse(value.trim());
      if (parsed.ok) values.push(parsed.value);
      else problems.push({ key: definition.key, value, message: invalidValueMessage(definition, value, parsed.reason) });
    }
    if (values.length > 0) assign(field, values.reduce(larger));
  }

  // ingress-nginx hashes whenever upstream-hash-by is set, whatever its load-balance says.
  const balanceIsNative = present.get('balance')?.native !== undefined;
  if (!balanceIsNative && annotations?.[NGINX_HASH_BY_KEY] !== undefined) policy.balance = 'hash';

  const hashByProblem = problems.some((problem) => problem.key === HASH_BY_KEY || problem.key === NGINX_HASH_BY_KEY);
  if (policy.balance === 'hash' && policy.hashBy === undefined && !hashByProblem) {
    const hashBy = annotationDefinition(HASH_BY_KEY)!;
    problems.push({
      key: LOAD_BALANCE_KEY,
      value: 'hash',
      message: `${LOAD_BALANCE_KEY}: "hash" needs ${HASH_BY_KEY}; accepted: ${HASH_BY_KEY} set to ${hashBy.accepts}`,
    });
  }

  problems.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return problems.length === 0 ? { policy, problems, unknown, ignored } : { problems, unknown, ignored };
}

/** Of two values of one field, the larger: durations by length, numbers by size; else the first. */
function larger(a: unknown, b: unknown): unknown {
  if (typeof a === 'string' && typeof b === 'string') {
    const ms = (text: string) => parseDuration(text) ?? -1;
    return ms(b) > ms(a) ? b : a;
  }
  if (typeof a === 'number' && typeof b === 'number') return Math.max(a, b);
  return a;
}


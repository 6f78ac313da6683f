// The published JSON Schema of the snapshot (schema/snapshot.schema.json), compiled ahead of time
// by ajv into snapshot-validator.generated.ts (validator-codegen.ts says why), and the
// translation of its errors into lines an operator can act on: `routes[0].pathType: "prefix" is
// not one of Exact, Prefix, ImplementationSpecific`.
import { readFileSync } from 'node:fs';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { validate as generatedValidate } from './snapshot-validator.generated.ts';

/** A step into the document: an object key or an array index. */
export type PathSegment = string | number;

/** One thing wrong with a document, at a place in it. */
export interface Issue {
  path: PathSegment[];
  message: string;
  /** The issue is about the key itself (an unknown field), not its value. */
  at?: 'key';
}

// Read at run time rather than imported: the same relative path works from src/ and from dist/,
// and the file is published as it is (package.json "files").
export const snapshotSchema: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../../schema/snapshot.schema.json', import.meta.url), 'utf8'),
);

function validator(): ValidateFunction {
  // Compiled with allErrors (`wsgate check` lists every mistake at once) and verbose (errors carry
  // their schema, which names the fields allowed where an unknown one was found).
  return generatedValidate as ValidateFunction;
}

/** Structural problems of a document against the schema; [] when it conforms. */
export function schemaIssues(doc: unknown): Issue[] {
  const validate = validator();
  if (validate(doc)) return [];
  return (validate.errors ?? []).map(toIssue);
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  object: 'a mapping of fields',
  array: 'a list',
  null: 'null',
};

// What a string shaped by a named pattern should look like, keyed by the property or $defs name
// that carries the pattern.
const PATTERN_HINTS: Record<string, string> = {
  routeHost: 'is not a lowercase DNS name, a one-label wildcard (*.example.com) or "" (any host)',
  certificateHost: 'is not a lowercase DNS name or a one-label wildcard (*.example.com)',
  duration: 'is not a duration (such as 500ms, 5s, 1m, 1h, 1m30s)',
  path: 'must start with "/"',
  hashBy: 'is not header:NAME, cookie:NAME, query:NAME or client-ip',
};

function toIssue(error: ErrorObject): Issue {
  const path = pointerToPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path: [...path, String(params.missingProperty)], message: 'required field is missing' };
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const allowed = Object.keys((error.parentSchema?.properties as Record<string, unknown> | undefined) ?? {});
      const guess = closestName(field, allowed);
      const hint = guess ? `did you mean "${guess}"?` : `known fields: ${allowed.join(', ')}`;
      return { path: [...path, field], message: `unknown field (${hint})`, at: 'key' };
    }
    case 'type':
      return { path, message: `must be ${typeName(String(params.type))}, not ${describeValue(error.data)}` };
    case 'const':
      return { path, message: `must be ${JSON.stringify(params.allowedValue)}, not ${describeValue(error.data)}` };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String).join(', ');
      return { path, message: `${describeValue(error.data)} is not one of ${allowed}` };
    }
    case 'pattern':
      return { path, message: `${describeValue(error.data)} ${PATTERN_HINTS[patternOwner(error)] ?? `must match ${String(params.pattern)}`}` };
    case 'minLength':
      return { path, message: 'must not be empty' };
    case 'minimum':
    case 'maximum':
      return { path, message: `${rangeText(error.schemaPath)}, not ${describeValue(error.data)}` };
    default:
      return { path, message: error.message ?? `fails ${error.keyword}` };
  }
}

function rangeText(schemaPath: string): string {
  if (schemaPath.includes('/port/')) return 'must be a port from 1 to 65535';
  return 'must be a positive whole number';
}

/** The $defs entry or property whose pattern failed, from `#/$defs/duration/pattern`. */
function patternOwner(error: ErrorObject): string {
  const parts = error.schemaPath.split('/');
  return parts[parts.length - 2] ?? '';
}

function typeName(types: string): string {
  return types.split(',').map((t) => TYPE_NAMES[t] ?? t).join(' or ');
}

/** A value as it should appear in a message: strings quoted, collections by kind. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((seg) => (/^(?:0|[1-9]\d*)$/.test(seg) ? Number(seg) : seg));
}

/** `routes[2].pool`; `(root)` for the document itself. */
export function formatPath(path: readonly PathSegment[]): string {
  if (path.length === 0) return '(root)';
  let text = '';
  for (const seg of path) {
    if (typeof seg === 'number') text += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) text += text === '' ? seg : `.${seg}`;
    else text += `[${JSON.stringify(seg)}]`;
  }
  return text;
}

export function formatIssue(issue: Issue): string {
  return `${formatPath(issue.path)}: ${issue.message}`;
}

/** The known name a misspelling most likely meant: same letters ignoring case, or at most two edits. */
function closestName(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = candidate.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

// Label and field selectors with the grammar of k8s.io/apimachinery/pkg/labels and pkg/fields:
// a comma-separated conjunction; labels support =, ==, !=, in, notin, existence and !existence;
// fields support only =, == and != against the field labels each resource declares.
import type { KubeObject } from './types.ts';

export type LabelRequirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

export class SelectorError extends Error {}

/** Splits on commas that are not inside parentheses, so `a in (x,y),b` is two requirements. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

const LABEL_KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

function checkKey(key: string, selector: string): string {
  if (!LABEL_KEY.test(key)) throw new SelectorError(`unable to parse requirement: invalid label key "${key}" in "${selector}"`);
  return key;
}

export function parseLabelSelector(selector: string): LabelRequirement[] {
  return splitTopLevel(selector).map((part): LabelRequirement => {
    const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    if (set) {
      const values = set[3]!.split(',').map((v) => v.trim()).filter((v) => v !== '');
      return { key: checkKey(set[1]!, selector), op: set[2] as 'in' | 'notin', values };
    }
    const cmp = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
    if (cmp) return { key: checkKey(cmp[1]!, selector), op: cmp[2] === '!=' ? 'neq' : 'eq', value: cmp[3]! };
    if (part.startsWith('!')) return { key: checkKey(part.slice(1).trim(), selector), op: 'notexists' };
    return { key: checkKey(part, selector), op: 'exists' };
  });
}

export function labelsMatch(requirements: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return requirements.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'eq': return has && l[r.key] === r.value;
      case 'neq': return !has || l[r.key] !== r.value;
      case 'in': return has && r.values.includes(l[r.key]!);
      case 'notin': return !has || !r.values.includes(l[r.key]!);
      case 'exists': return has;
      case 'notexists': return !has;
    }
    return false;
  });
}

export interface FieldRequirement { field: string; op: 'eq' | 'neq'; value: string }

export function parseFieldSelector(selector: string, supported: readonly string[]): FieldRequirement[] {
  return splitTopLevel(selector).map((part) => {
    const m = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw new SelectorError(`invalid selector: '${selector}'; can't understand '${part}'`);
    const field = m[1]!;
    // The real API server answers an unknown field label with 400 "field label not supported".
    if (!supported.includes(field)) throw new SelectorError(`field label not supported: ${field}`);
    return { field, op: m[2] === '!=' ? 'neq' : 'eq', value: m[3]!.trim() };
  });
}

export function fieldsMatch(requirements: FieldRequirement[], fields: Record<string, string>): boolean {
  return requirements.every((r) => {
    const actual = fields[r.field] ?? '';
    return r.op === 'eq' ? actual === r.value : actual !== r.value;
  });
}

export function valueAtPath(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur === undefined || cur === null ? '' : String(cur);
}

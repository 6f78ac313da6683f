// The three PATCH bodies kubectl and client libraries send, applied to plain JSON.
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export class PatchError extends Error {
  readonly code: number;
  constructor(message: string, code = 422) {
    super(message);
    this.code = code;
  }
}

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** RFC 7386 JSON Merge Patch: objects merge recursively, null removes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value) as Json;
  }
  return out;
}

/** RFC 6902 JSON Patch. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new PatchError('json patch body must be an array', 400);
  let doc = structuredClone(target) as Json;
  for (const op of ops as JsonObject[]) {
    const path = String(op['path'] ?? '');
    switch (op['op']) {
      case 'add': doc = setAt(doc, path, structuredClone(op['value'] ?? null), 'add'); break;
      case 'replace': getAt(doc, path); doc = setAt(doc, path, structuredClone(op['value'] ?? null), 'replace'); break;
      case 'remove': getAt(doc, path); doc = removeAt(doc, path); break;
      case 'move': { const v = getAt(doc, String(op['from'])); doc = removeAt(doc, String(op['from'])); doc = setAt(doc, path, v, 'add'); break; }
      case 'copy': doc = setAt(doc, path, structuredClone(getAt(doc, String(op['from']))), 'add'); break;
      case 'test':
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(op['value'])) throw new PatchError(`testing value ${path} failed`);
        break;
      default: throw new PatchError(`Unexpected kind: ${String(op['op'])}`, 400);
    }
  }
  return doc;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer ${path}`, 400);
  return path.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function getAt(doc: Json, path: string): Json {
  let cur: Json = doc;
  for (const token of pointer(path)) {
    if (Array.isArray(cur) && /^\d+$/.test(token) && Number(token) < cur.length) cur = cur[Number(token)]!;
    else if (isObject(cur) && Object.hasOwn(cur, token)) cur = cur[token]!;
    else throw new PatchError(`doc is missing path: "${path}": missing value`);
  }
  return cur;
}

function parentOf(doc: Json, path: string): { parent: Json; last: string } {
  const tokens = pointer(path);
  const last = tokens.pop();
  if (last === undefined) throw new PatchError('cannot operate on the document root', 400);
  return { parent: getAt(doc, tokens.length === 0 ? '' : '/' + tokens.map((t) => t.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')), last };
}

function setAt(doc: Json, path: string, value: Json, mode: 'add' | 'replace'): Json {
  if (path === '') return value;
  const { parent, last } = parentOf(doc, path);
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) throw new PatchError(`index out of range in ${path}`);
    if (mode === 'add') parent.splice(index, 0, value);
    else parent[index] = value;
  } else if (isObject(parent)) {
    parent[last] = value;
  } else {
    throw new PatchError(`doc is missing path: "${path}"`);
  }
  return doc;
}

function removeAt(doc: Json, path: string): Json {
  const { parent, last } = parentOf(doc, path);
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isObject(parent)) delete parent[last];
  return doc;
}

/**
 * Lists that strategic merge patch merges by key instead of replacing, for the types served here
 * (patchMergeKey in k8s.io/api). Paths are dotted field names from the object root.
 */
const MERGE_KEYS: Record<string, string> = {
  'spec.ports': 'port', // Service
  'metadata.ownerReferences': 'uid',
  'spec.template.spec.containers': 'name',
};

/**
 * A subset of strategic merge patch (k8s.io/apimachinery/pkg/util/strategicpatch) as
 * `kubectl apply` sends it: maps merge, null deletes, lists replace unless listed in MERGE_KEYS
 * (then elements merge by key and `$patch: delete` removes one); `$setElementOrder/<field>`
 * orders a merged list; `$retainKeys` and `$deleteFromPrimitiveList/<field>` are honoured simply.
 */
export function strategicMergePatch(target: unknown, patch: unknown, path = ''): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch['$patch'] === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return structuredClone(rest);
  }
  if (patch['$patch'] === 'delete') return undefined;
  let out: JsonObject = isObject(target) ? { ...target } : {};
  const retain = patch['$retainKeys'];
  if (Array.isArray(retain)) {
    const keep = new Set(retain.map(String));
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$setElementOrder/') || key === '$retainKeys' || key === '$patch') continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const remove = new Set((Array.isArray(value) ? value : []).map((v) => JSON.stringify(v)));
      const current = out[field];
      if (Array.isArray(current)) out[field] = current.filter((v) => !remove.has(JSON.stringify(v)));
      continue;
    }
    const childPath = path === '' ? key : `${path}.${key}`;
    if (value === null) {
      delete out[key];
    } else if (Array.isArray(value) && MERGE_KEYS[childPath] !== undefined) {
      out[key] = mergeKeyedList(out[key], value, MERGE_KEYS[childPath]!, patch[`$setElementOrder/${key}`], childPath);
    } else if (isObject(value)) {
      const merged = strategicMergePatch(out[key], value, childPath);
      if (merged === undefined) delete out[key];
      else out[key] = merged as Json;
    } else {
      out[key] = structuredClone(value);
    }
  }
  return out;
}

function mergeKeyedList(current: Json | undefined, patch: Json[], mergeKey: string, order: Json | undefined, path: string): Json[] {
  const result = Array.isArray(current) ? current.map((e) => structuredClone(e)) : [];
  const keyOf = (e: Json) => (isObject(e) ? JSON.stringify(e[mergeKey] ?? null) : JSON.stringify(e));
  for (const element of patch) {
    const index = result.findIndex((e) => keyOf(e) === keyOf(element));
    if (isObject(element) && element['$patch'] === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = strategicMergePatch(result[index], element, path) as Json;
    } else {
      result.push(structuredClone(element));
    }
  }
  if (!Array.isArray(order)) return result;
  const rank = new Map(order.map((e, i) => [keyOf(e), i]));
  return result
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (rank.get(keyOf(a.e)) ?? order.length + a.i) - (rank.get(keyOf(b.e)) ?? order.length + b.i))
    .map(({ e }) => e);
}

/** Server-side apply reduced to an upsert: the applied configuration merged over what is stored. */
export function applyPatch(target: unknown, applied: unknown): unknown {
  return mergePatch(target, stripNulls(applied));
}

function stripNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripNulls);
  if (!isObject(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, stripNulls(x)]));
}

// values.yaml, values.schema.json and the chart README describe the same set of values.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { chartDir, validateValues } from './render.ts';

const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as Record<string, unknown>;
const readme = readFileSync(join(chartDir, 'README.md'), 'utf8');

/** Dotted paths of every value, down to scalars, lists and empty maps. */
function valuePaths(value: unknown, prefix = ''): string[] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([k, v]) => [`${prefix}${k}`, ...valuePaths(v, `${prefix}${k}.`)]);
  }
  return [];
}

/** The first cell of every row in the README's values table. */
function documentedKeys(): string[] {
  const section = readme.slice(readme.indexOf('## Values'));
  return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1] as string);
}

function schemaObjects(node: unknown, path = '#'): { path: string; node: Record<string, unknown> }[] {
  if (node === null || typeof node !== 'object') return [];
  const out: { path: string; node: Record<string, unknown> }[] = [];
  const n = node as Record<string, unknown>;
  if (n.properties) out.push({ path, node: n });
  for (const [k, v] of Object.entries(n)) out.push(...schemaObjects(v, `${path}/${k}`));
  return out;
}

describe('chart values', () => {
  it('documents every value of values.yaml in the README (itself or its parent row)', () => {
    const documented = new Set(documentedKeys());
    const leaves = valuePaths(values).filter((p) => !valuePaths(values).some((q) => q.startsWith(`${p}.`)));
    const missing = leaves.filter((p) => {
      const parts = p.split('.');
      return !parts.some((_, i) => documented.has(parts.slice(0, i + 1).join('.')));
    });
    assert.deepEqual(missing, []);
  });

  it('documents no value that does not exist', () => {
    const all = new Set(valuePaths(values));
    assert.deepEqual(documentedKeys().filter((k) => !all.has(k)), []);
  });

  it('refuses unknown keys at every level of the schema', () => {
    const open = schemaObjects(schema).filter(({ node }) => node.additionalProperties !== false);
    assert.deepEqual(open.map((o) => o.path), []);
  });

  it('types every key of values.yaml in the schema', () => {
    const missing = valuePaths(values).filter((p) => {
      let node: Record<string, unknown> | undefined = schema;
      for (const part of p.split('.')) {
        const props = node?.properties as Record<string, Record<string, unknown>> | undefined;
        if (!props) return false; // a free-form Kubernetes type (affinity, resources' maps…) below a typed key
        node = props[part];
        if (!node) return true;
      }
      return false;
    });
    assert.deepEqual(missing, []);
  });

  it('accepts its own defaults', () => {
    validateValues(values);
  });
});

// Validates Kubernetes objects offline: built-in kinds against the API's OpenAPI schemas compiled
// into `kubernetes-models`, the Prometheus Operator kinds against the fields of their CRDs that
// the chart uses. Unknown fields are refused too, as `kubectl apply` (strict field validation)
// refuses them; the OpenAPI schemas alone would let a misspelled field through.
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { prometheusOperatorSchemas } from './prometheus-operator-schemas.ts';

interface SchemaError { instancePath: string; message?: string }
interface ModelClass { new (data: unknown): { validate(): void } }

const require = createRequire(import.meta.url);
const crdValidators = new Map<string, ReturnType<Ajv['compile']>>();

function builtinModel(apiVersion: string, kind: string): ModelClass | undefined {
  try {
    const module = require(`kubernetes-models/${apiVersion}`) as Record<string, ModelClass | undefined>;
    return module[kind];
  } catch {
    return undefined;
  }
}

function crdValidator(apiVersion: string, kind: string): ReturnType<Ajv['compile']> | undefined {
  const key = `${apiVersion}/${kind}`;
  const schema = prometheusOperatorSchemas[key];
  if (!schema) return undefined;
  let validator = crdValidators.get(key);
  if (!validator) {
    validator = new Ajv({ allErrors: true, strict: false }).compile(schema);
    crdValidators.set(key, validator);
  }
  return validator;
}

/** Returns the schema errors of one object, as `path: message` lines (empty when valid). */
function schemaErrors(object: Record<string, unknown>): SchemaError[] | 'unknown-kind' {
  const { apiVersion, kind } = object as { apiVersion?: string; kind?: string };
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return [{ instancePath: '', message: 'apiVersion and kind are required' }];
  const Model = builtinModel(apiVersion, kind);
  if (Model) {
    try {
      new Model(object).validate();
      return [];
    } catch (err) {
      const errors = (err as { errors?: SchemaError[] }).errors;
      if (!errors) throw err;
      return errors;
    }
  }
  const validate = crdValidator(apiVersion, kind);
  if (!validate) return 'unknown-kind';
  return validate(object) ? [] : ((validate.errors ?? []) as SchemaError[]);
}

type Container = Record<string, unknown> | unknown[];

/** Every leaf (scalar, empty map, empty list) of a JSON value, as its JSON pointer and parent. */
function leaves(value: unknown, pointer = '', out: { pointer: string; parent: Container; key: string | number }[] = [], parent?: Container, key?: string | number) {
  const isContainer = value !== null && typeof value === 'object';
  const empty = isContainer && Object.keys(value).length === 0;
  if (isContainer && !empty) {
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
    for (const [k, v] of entries) leaves(v, `${pointer}/${String(k).replaceAll('~', '~0').replaceAll('/', '~1')}`, out, value as Container, k);
  } else if (parent !== undefined && key !== undefined) {
    out.push({ pointer, parent, key });
  }
  return out;
}

/**
 * Fields the schema does not know. The compiled validators accept unknown properties, so each
 * leaf is replaced in turn by a value no schema type accepts: a field the schema knows then
 * fails at (or under) that path, and one it does not know passes silently.
 */
function unknownFields(object: Record<string, unknown>): string[] {
  const probe = [[]];
  const unknown: string[] = [];
  for (const { pointer, parent, key } of leaves(object)) {
    // apiVersion and kind choose the schema itself; an unknown pair is reported as such.
    if (pointer === '/apiVersion' || pointer === '/kind') continue;
    const original = (parent as Record<string | number, unknown>)[key];
    (parent as Record<string | number, unknown>)[key] = probe;
    try {
      const errors = schemaErrors(object);
      const caught = errors !== 'unknown-kind' && errors.some((e) => e.instancePath === pointer || e.instancePath.startsWith(`${pointer}/`));
      if (!caught) unknown.push(pointer);
    } finally {
      (parent as Record<string | number, unknown>)[key] = original;
    }
  }
  return unknown;
}

/** Problems with one Kubernetes object: schema errors, then unknown fields. Empty when valid. */
export function kubeObjectProblems(object: unknown): string[] {
  const copy = structuredClone(object) as Record<string, unknown>;
  const where = `${String(copy.kind)} ${String((copy.metadata as { name?: string } | undefined)?.name)}`;
  const errors = schemaErrors(copy);
  if (errors === 'unknown-kind') return [`${where}: no schema for ${String(copy.apiVersion)} ${String(copy.kind)}`];
  if (errors.length > 0) return errors.map((e) => `${where}: ${e.instancePath || '(root)'} ${e.message ?? ''}`);
  return unknownFields(copy).map((p) => `${where}: unknown field ${p}`);
}

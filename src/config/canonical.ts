// The snapshot's identity: canonical JSON (equal data, equal text) and its hash, the snapshot's
// version (equal hashes skip a reload).
import { createHash } from 'node:crypto';
import type { Snapshot } from './snapshot.ts';
import { InvalidArgumentError } from '../common/errors.ts';

/** JSON with object keys sorted at every level and no whitespace: equal data, equal text. */
export function canonicalJson(value: unknown): string {
  // A copy with its keys inserted in sorted order, then the native stringify: about twice as fast
  // as building the text piece by piece in JavaScript, and the same text (undefined, functions
  // and symbols dropped from objects and null in arrays, toJSON honoured, as JSON.stringify does).
  const text = JSON.stringify(sortedCopy(value)) as string | undefined;
  if (text === undefined) throw new InvalidArgumentError('canonicalJson', `${typeof value} has no JSON form`);
  return text;
}

/** A copy of `value` with every object's keys inserted in sorted order (what canonical text is made from). */
export function sortedCopy(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(): unknown }).toJSON();
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortedCopy);
  const keys = Object.keys(value).sort();
  // No prototype: a `__proto__` key in the data is then an ordinary key, not a prototype change.
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of keys) out[key] = sortedCopy((value as Record<string, unknown>)[key]);
  return out;
}

/**
 * sha256 of canonicalJson(value), where `known` may already hold the canonical text of some
 * objects inside it (a snapshot's unchanged pools and routes): those are taken as given, not walked
 * again, and the text is fed to the hash piece by piece rather than built whole (megabytes at
 * thousands of routes). Equal to textHash(canonicalJson(value)).
 */
export function canonicalHashReusing(value: unknown, known: (object: object) => string | undefined): string {
  const hash = createHash('sha256');
  if (!feed(value, known, (text) => hash.update(text))) throw new InvalidArgumentError('canonicalJson', `${typeof value} has no JSON form`);
  return hash.digest('hex');
}

/** Feeds the canonical text of `value` to `out`; false (and nothing fed) when it has no JSON form. */
function feed(value: unknown, known: (object: object) => string | undefined, out: (text: string) => void): boolean {
  if (value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    const text = JSON.stringify(sortedCopy(value)) as string | undefined;
    if (text === undefined) return false;
    out(text);
    return true;
  }
  const given = known(value);
  if (given !== undefined) {
    out(given);
    return true;
  }
  if (Array.isArray(value)) {
    out('[');
    value.forEach((item, i) => {
      if (i > 0) out(',');
      if (!feed(item, known, out)) out('null');
    });
    out(']');
    return true;
  }
  out('{');
  let first = true;
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    out(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
    first = false;
    feed(item, known, out);
  }
  out('}');
  return true;
}

/** sha256 (hex) of canonical JSON text. */
export function textHash(canonicalText: string): string {
  return createHash('sha256').update(canonicalText).digest('hex');
}

/** sha256 (hex) of the canonical JSON: the snapshot's version. */
export function snapshotHash(snapshot: Snapshot): string {
  return textHash(canonicalJson(snapshot));
}

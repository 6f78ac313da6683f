// The snapshot's identity: canonical JSON (equal data, equal text) and its hash, the snapshot's
// version (equal hashes skip a reload).
import { createHash } from 'node:crypto';
import type { Snapshot } from './snapshot.ts';
import { InvalidArgumentError } from '../common/errors.ts';

/** JSON with object keys sorted at every level and no whitespace: equal data, equal text. */
export function canonicalJson(value: unknown): string {
  const text = canonical(value);
  if (text === undefined) throw new InvalidArgumentError('canonicalJson', `${typeof value} has no JSON form`);
  return text;
}

function canonical(value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(): unknown }).toJSON();
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonical(item) ?? 'null').join(',')}]`;
  const parts: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const item = canonical((value as Record<string, unknown>)[key]);
    if (item !== undefined) parts.push(`${JSON.stringify(key)}:${item}`);
  }
  return `{${parts.join(',')}}`;
}

/** sha256 (hex) of the canonical JSON: the snapshot's version. */
export function snapshotHash(snapshot: Snapshot): string {
  return createHash('sha256').update(canonicalJson(snapshot)).digest('hex');
}

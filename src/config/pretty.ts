// The snapshot as the controller writes it (--output) and prints it (--once): canonical key order,
// indented for people, one trailing newline. Equal snapshots give equal bytes.
import { canonicalJson } from './canonical.ts';

export function prettyCanonicalJson(value: unknown): string {
  // JSON.parse keeps the canonical key order; stringify only adds the indentation.
  return `${JSON.stringify(JSON.parse(canonicalJson(value)), null, 2)}\n`;
}

// The snapshot as the controller writes it (--output) and prints it (--once): canonical key order,
// indented for people, one trailing newline. Equal snapshots give equal bytes.
import { sortedCopy } from './canonical.ts';

export function prettyCanonicalJson(value: unknown): string {
  // The sorted copy indented directly: the same text as canonicalJson re-parsed and indented, at
  // a third of the work (the controller writes megabytes of it on every change at scale).
  return `${JSON.stringify(sortedCopy(value), null, 2)}\n`;
}

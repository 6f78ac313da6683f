// The one entry point from "a document someone produced" to "a snapshot the data plane may
// serve": every provider and the runtime go through it, so validation and the version hash can
// never be skipped or computed two ways.
import { snapshotHash } from './canonical.ts';
import type { Issue } from './schema.ts';
import type { Snapshot } from './snapshot.ts';
import { validateSnapshotIssues } from './validate.ts';

export type Accepted = { ok: true; snapshot: Snapshot; hash: string } | { ok: false; issues: Issue[] };

export function acceptSnapshot(doc: unknown): Accepted {
  const issues = validateSnapshotIssues(doc);
  if (issues.length > 0) return { ok: false, issues };
  const snapshot = doc as Snapshot;
  return { ok: true, snapshot, hash: snapshotHash(snapshot) };
}

// The one hand-off between a snapshot source (the Kubernetes controller, a snapshot file, the
// demo) and whatever serves or stores what it produces (the data plane, a file, stdout).
import type { Issue } from '../config/schema.ts';
import type { Snapshot } from '../config/snapshot.ts';

export interface SnapshotSink {
  /** A snapshot that passed validation; `hash` is its content hash (the snapshot's version). */
  accept(snapshot: Snapshot, hash: string): void | Promise<void>;
  /** A snapshot that did not: the running one stays in effect. Issues stay structured to here. */
  refuse(issues: readonly Issue[]): void;
}

// What every command that serves traffic holds: the one process or the cluster primary, each a
// SnapshotSink, so a snapshot source is handed to either without an adapter.
import type { SnapshotSink } from '../providers/provider.ts';
import { formatIssue, type Issue } from '../config/schema.ts';
import { logger } from '../common/log.ts';
import type { WsgateMetrics } from '../metrics/metrics.ts';

const log = logger('runtime');

export interface ServingPorts {
  httpPort: number;
  httpsPort: number;
  /** 0 when this process serves no admin port. */
  adminPort: number;
}

export interface Serving extends SnapshotSink {
  ports: ServingPorts;
  ready(): boolean;
  /** Where a snapshot source that runs in this process counts its own series (the controller's). */
  metrics: WsgateMetrics;
  /** What /readyz?verbose lists besides the answer: set by the snapshot source (the controller's kinds). */
  showConditions(source: () => string[]): void;
  /** SPEC §8: the one shutdown sequence (runtime/shutdown.ts). */
  shutdown(): Promise<'idle' | 'timeout'>;
}

/** An issue with no place in the document (a file that cannot be read, a compile failure). */
export function placelessIssue(message: string): Issue {
  return { path: [], message };
}

/** One line per issue, as logs and commands print them. */
export function issueLines(issues: readonly Issue[]): string[] {
  return issues.map((issue) => (issue.path.length === 0 ? issue.message : formatIssue(issue)));
}

/** The one refusal: counted as a failed reload, logged, and the running snapshot stays. */
export function reportFailure(metrics: WsgateMetrics, issues: readonly Issue[]): void {
  metrics.configReload(false);
  log.error({ errors: issueLines(issues) }, 'snapshot refused: the running one stays in effect');
}

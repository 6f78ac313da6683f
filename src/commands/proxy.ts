// `wsgate proxy --config FILE` (SPEC §3): the data plane serving a snapshot file, hot-reloaded.
import type { Options } from './options.ts';
import { watchSnapshotFile } from '../providers/file/watch.ts';
import { placelessIssue } from '../runtime/serving.ts';
import { startServing } from './serve.ts';

/** Keeps running: returns -1. */
export async function proxyCommand(options: Options): Promise<number> {
  const serving = await startServing(options);
  watchSnapshotFile(options.config!, {
    onSnapshot: (snapshot, hash) => void serving.accept(snapshot, hash),
    // The file provider's lines already carry FILE:LINE:COL and the path.
    onError: (error) => serving.refuse(error.errors.map(placelessIssue)),
  });
  return -1;
}

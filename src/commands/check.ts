// `wsgate check --config FILE` (SPEC §3): everything the proxy would refuse about a file, one line
// per error, `FILE:LINE:COL: path: message`, in the order they appear in the file.
import { loadSnapshotSource } from '../config/load.ts';

/** [] when the file would be served as it is; otherwise one readable line per error. */
export async function checkConfigFile(path: string): Promise<string[]> {
  return (await loadSnapshotSource(path)).errors;
}

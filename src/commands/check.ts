// `wsgate check --config FILE` (SPEC §3): everything the proxy would refuse about a file, one line
// per error, `FILE:LINE:COL: path: message`, in the order they appear in the file.
import { loadSnapshotSource } from '../config/load.ts';
import type { Options } from './options.ts';

/** [] when the file would be served as it is; otherwise one readable line per error. */
export async function checkConfigFile(path: string): Promise<string[]> {
  return (await loadSnapshotSource(path)).errors;
}

/** Errors on stderr, one per line, exit 1; `FILE: valid` on stdout, exit 0. */
export async function checkCommand(options: Options): Promise<number> {
  const errors = await checkConfigFile(options.config!);
  for (const line of errors) process.stderr.write(`${line}\n`);
  if (errors.length === 0) process.stdout.write(`${options.config}: valid\n`);
  return errors.length === 0 ? 0 : 1;
}

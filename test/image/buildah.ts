// Thin wrappers over the buildah CLI: there is no container engine daemon on these machines, and
// `podman run` cannot start containers in this sandbox (crun's setrlimit on hard limits is refused),
// so images are built with `buildah bud` and run with `buildah run --isolation chroot`.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

/** Runs buildah, returns its trimmed stdout; its stderr goes to ours so failures explain themselves. */
export function buildah(args: string[], options: { quiet?: boolean } = {}): string {
  return execFileSync('buildah', args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', options.quiet ? 'ignore' : 'inherit'],
  }).trim();
}

export interface ImageConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  User?: string;
  WorkingDir?: string;
  Env?: string[];
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, unknown> | null;
}

export interface ImageFacts {
  id: string;
  config: ImageConfig;
}

/** The image's OCI config, or undefined when no image has that name. */
export function inspectImage(name: string): ImageFacts | undefined {
  let raw: string;
  try {
    raw = buildah(['inspect', '--type', 'image', name], { quiet: true });
  } catch {
    return undefined;
  }
  const doc = JSON.parse(raw) as { FromImageID: string; OCIv1: { config?: ImageConfig } };
  return { id: doc.FromImageID, config: doc.OCIv1.config ?? {} };
}

/**
 * Uncompressed size of each layer in bytes, base layers first: podman reads the same
 * containers-storage; history entries that made no layer (LABEL, ENV, ...) are left out.
 */
export function layerSizes(image: string): number[] {
  const history = JSON.parse(execFileSync('podman', ['history', '--format', 'json', image], { encoding: 'utf8' })) as { size: number }[];
  return history.map((h) => h.size).filter((size) => size > 0).reverse();
}

/** Starts `buildah run` on a working container; the caller owns the child process. */
export function buildahRun(container: string, user: string, argv: string[]): ChildProcess {
  return spawn('buildah', ['run', '--isolation', 'chroot', '--network', 'host', '--user', user, container, '--', ...argv], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

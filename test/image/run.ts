// `npm run test:image`: stand-in base images (cached), the project's Dockerfile built with
// buildah, then test/image/image.check.ts run against the result. Needs root, buildah, podman
// and mmdebstrap (Debian packages; .ci/run installs them).
//   WSGATE_IMAGE_REUSE=1  keep an image already built under the chart's name (for iterating on the check)
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildah, inspectImage, layerSizes } from './buildah.ts';
import { expectedImageName, repoRoot } from './names.ts';
import { ensureStandIns } from './standins.ts';

function revision(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

const image = expectedImageName();
const rev = revision();
const started = Date.now();
ensureStandIns();
const previous = inspectImage(image);
if (process.env.WSGATE_IMAGE_REUSE === '1' && previous) {
  process.stderr.write(`reusing ${image} (${previous.id.slice(0, 12)})\n`);
} else {
  const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  process.stderr.write(`building ${image} from Dockerfile\n`);
  const built = spawnSync('buildah', ['bud', '--isolation', 'chroot', '--pull=never', '--layers=false', '--quiet', '-f', join(repoRoot, 'Dockerfile'), '-t', image, '--build-arg', `VERSION=${version}`, '--build-arg', `REVISION=${rev}`, repoRoot], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) {
    process.stderr.write(`buildah bud failed (exit ${built.status})\n`);
    process.exit(1);
  }
  // The previous build under this name is now untagged: drop it rather than pile them up.
  const now = inspectImage(image);
  if (previous && now && previous.id !== now.id) {
    try {
      buildah(['rmi', previous.id], { quiet: true });
    } catch {
      // still used by a container someone else holds; harmless
    }
  }
}
const sizes = layerSizes(image);
process.stderr.write(`${image}: ${sizes.length} layers, ${sizes.map(megabytes).join(' + ')} = ${megabytes(sizes.reduce((a, b) => a + b, 0))} uncompressed; ready in ${Math.round((Date.now() - started) / 1000)} s\n`);

const check = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=300000', join(repoRoot, 'test/image/image.check.ts')], {
  cwd: repoRoot,
  stdio: 'inherit',
  env: { ...process.env, WSGATE_IMAGE: image, WSGATE_IMAGE_REVISION: rev },
});
process.exit(check.status ?? 1);

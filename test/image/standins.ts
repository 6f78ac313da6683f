// Stand-ins for the two base images the Dockerfile names, which cannot be pulled here (no
// internet, only the Debian mirror and the npm registry). Each is assembled from Debian bookworm
// packages with mmdebstrap plus the Node 24 binary the project already pins (the `node` npm
// package), and stored under the exact name the Dockerfile uses, so the Dockerfile is built as is.
//
// Cached by content: the rootfs tarball is kept under test/image/.cache/ named by a hash of
// everything that goes into it, and the imported image carries that hash as a label; a second run
// with the same inputs skips mmdebstrap and the import.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildah, inspectImage } from './buildah.ts';
import { repoRoot } from './names.ts';

export const cacheDir = join(repoRoot, 'test', 'image', '.cache');

const SUITE = 'bookworm';
const MIRROR = process.env.WSGATE_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
/** npm for the build stand-in; node:24 images ship an npm 11. */
const NPM_VERSION = '11.21.2';
const HASH_LABEL = 'io.wsgate.standin.hash';

/** The names the Dockerfile's FROM lines resolve to (short names resolve to docker.io/library). */
export const BUILD_BASE = 'docker.io/library/node:24-bookworm-slim';
export const RUNTIME_BASE = 'gcr.io/distroless/nodejs24-debian12:nonroot';

/** The Node 24 binary of the `node` devDependency (its preinstall script links it into bin/). */
export function nodeBinary(): string {
  const path = join(repoRoot, 'node_modules', 'node', 'bin', 'node');
  const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  if (!version.startsWith('v24.')) throw new Error(`${path} is ${version}, not Node 24`);
  return path;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function fileHash(path: string): string {
  return sha256(readFileSync(path));
}

function sh(command: string, args: string[], cwd?: string): string {
  return execFileSync(command, args, { encoding: 'utf8', cwd, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 }).trim();
}

/** npm's own tarball from the registry, fetched once into the cache. */
function npmTarball(): string {
  const path = join(cacheDir, `npm-${NPM_VERSION}.tgz`);
  if (!existsSync(path)) {
    const dir = join(cacheDir, 'npm-download');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    sh('npm', ['pack', `npm@${NPM_VERSION}`, '--pack-destination', dir, '--silent']);
    renameSync(join(dir, `npm-${NPM_VERSION}.tgz`), path);
    rmSync(dir, { recursive: true, force: true });
  }
  return path;
}

function mmdebstrap(variant: string, packages: string[], target: string): void {
  rmSync(target, { recursive: true, force: true });
  const include = packages.length > 0 ? [`--include=${packages.join(',')}`] : [];
  sh('mmdebstrap', ['--quiet', `--variant=${variant}`, ...include, SUITE, target, MIRROR]);
}

/**
 * The CA bundle this host trusts beyond Node's own (NODE_EXTRA_CA_CERTS): where the npm registry
 * is reached through an intercepting proxy, the build stage's `npm ci` needs it too. It goes into
 * the build stand-in only; the final image's stage never sees it.
 */
function hostExtraCa(): string | undefined {
  const path = process.env.NODE_EXTRA_CA_CERTS;
  return path && existsSync(path) ? path : undefined;
}
const HOST_CA_IN_IMAGE = '/usr/local/share/wsgate-host-extra-ca.pem';

/** Emulates `node:24-bookworm-slim`: debian:bookworm-slim + Node in /usr/local + npm, user node (1000). */
function assembleBuildBase(root: string, node: string, npm: string): void {
  mmdebstrap('minbase', [], root);
  const extraCa = hostExtraCa();
  if (extraCa) copyFileSync(extraCa, join(root, HOST_CA_IN_IMAGE));
  copyFileSync(node, join(root, 'usr/local/bin/node'));
  chmodSync(join(root, 'usr/local/bin/node'), 0o755);
  const npmDir = join(root, 'usr/local/lib/node_modules/npm');
  mkdirSync(npmDir, { recursive: true });
  sh('tar', ['-xzf', npm, '--strip-components=1', '--no-same-owner', '-C', npmDir]);
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));
  sh('chroot', [root, 'groupadd', '--gid', '1000', 'node']);
  sh('chroot', [root, 'useradd', '--uid', '1000', '--gid', 'node', '--shell', '/bin/bash', '--create-home', 'node']);
}

/**
 * Emulates distroless `nodejs24-debian12:nonroot`: the libraries Node links against, CA
 * certificates, tzdata and netbase, Node at /nodejs/bin/node, users root/nonroot(65532)/nobody,
 * and no shell, no package manager, no other executable. mmdebstrap's `extract` variant unpacks
 * the packages without running their scripts (so no Essential set, no dpkg, no shell); what
 * ca-certificates drags in (openssl, debconf, mawk) is removed again, and the CA bundle
 * update-ca-certificates would write is assembled from the Mozilla certificates directly.
 */
function assembleRuntimeBase(root: string, node: string): void {
  mmdebstrap('extract', ['base-files', 'netbase', 'tzdata', 'libc6', 'libgcc-s1', 'libstdc++6', 'libssl3', 'ca-certificates'], root);
  const mozilla = join(root, 'usr/share/ca-certificates/mozilla');
  const pems = readdirSync(mozilla).filter((f) => f.endsWith('.crt')).sort().map((f) => readFileSync(join(mozilla, f), 'utf8').trimEnd() + '\n');
  if (pems.length < 100) throw new Error(`only ${pems.length} CA certificates in ca-certificates`);
  mkdirSync(join(root, 'etc/ssl/certs'), { recursive: true });
  writeFileSync(join(root, 'etc/ssl/certs/ca-certificates.crt'), pems.join(''));
  // Every executable goes: the only program of a distroless Node image is node itself.
  for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'usr/local/bin', 'usr/local/sbin']) {
    const path = join(root, dir);
    if (existsSync(path) && !isSymlink(path)) for (const f of readdirSync(path)) rmSync(join(path, f), { recursive: true, force: true });
  }
  for (const leftover of ['usr/share/perl5', 'usr/share/debconf', 'var/cache/debconf', 'etc/debconf.conf', 'etc/apt', 'var/lib/apt', 'var/cache/apt', 'var/lib/dpkg', 'var/log/apt', 'usr/share/ca-certificates']) {
    rmSync(join(root, leftover), { recursive: true, force: true });
  }
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n');
  mkdirSync(join(root, 'home/nonroot'), { recursive: true });
  chownSync(join(root, 'home/nonroot'), 65532, 65532);
  chmodSync(join(root, 'home/nonroot'), 0o700);
  mkdirSync(join(root, 'tmp'), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  mkdirSync(join(root, 'nodejs/bin'), { recursive: true });
  copyFileSync(node, join(root, 'nodejs/bin/node'));
  chmodSync(join(root, 'nodejs/bin/node'), 0o755);
}

function isSymlink(path: string): boolean {
  try {
    return sh('stat', ['-c', '%F', path]) === 'symbolic link';
  } catch {
    return false;
  }
}

interface StandIn {
  name: string;
  /** buildah config flags applied to the imported rootfs. */
  config: string[];
  /** What the rootfs is made of, for the cache key (besides this file and the binaries). */
  inputs: string[];
  assemble: (root: string) => void;
}

/** Imports ROOTFS (a tarball) as image NAME with CONFIG, labelled with the content hash. */
function importImage(name: string, tarball: string, config: string[], hash: string): void {
  const container = buildah(['from', '--pull=never', 'scratch']);
  try {
    buildah(['add', '--quiet', container, tarball, '/']);
    buildah(['config', ...config, '--label', `${HASH_LABEL}=${hash}`, container]);
    buildah(['commit', '--quiet', '--rm', container, name]);
  } catch (err) {
    buildah(['rm', container], { quiet: true });
    throw err;
  }
}

function ensure(standIn: StandIn, binariesHash: string): void {
  const hash = sha256([fileHash(new URL(import.meta.url).pathname), binariesHash, SUITE, MIRROR, ...standIn.inputs, ...standIn.config].join('\n')).slice(0, 16);
  const previous = inspectImage(standIn.name);
  if (previous?.config.Labels?.[HASH_LABEL] === hash) return;
  if (previous && previous.config.Labels?.[HASH_LABEL] === undefined) {
    // The real image is here (pulled or loaded by someone): build on it, and never replace it.
    process.stderr.write(`using the real ${standIn.name} (${previous.id.slice(0, 12)}), not a stand-in\n`);
    return;
  }
  const slug = standIn.name.replace(/[^a-z0-9]+/gi, '_');
  const tarball = join(cacheDir, `${slug}-${hash}.tar`);
  if (!existsSync(tarball)) {
    const root = join(cacheDir, `${slug}-rootfs`);
    process.stderr.write(`assembling stand-in ${standIn.name} (mmdebstrap ${SUITE})\n`);
    standIn.assemble(root);
    sh('tar', ['--numeric-owner', '-cf', `${tarball}.part`, '-C', root, '.']);
    renameSync(`${tarball}.part`, tarball);
    rmSync(root, { recursive: true, force: true });
    // Older inputs' tarballs of this stand-in are of no further use.
    for (const f of readdirSync(cacheDir)) if (f.startsWith(`${slug}-`) && f.endsWith('.tar') && join(cacheDir, f) !== tarball) rmSync(join(cacheDir, f));
  }
  process.stderr.write(`importing stand-in ${standIn.name}\n`);
  importImage(standIn.name, tarball, standIn.config, hash);
  if (previous) buildah(['rmi', previous.id], { quiet: true });
}

/** Makes sure both stand-in base images exist under the Dockerfile's names. */
export function ensureStandIns(): void {
  mkdirSync(cacheDir, { recursive: true });
  const node = nodeBinary();
  const npm = npmTarball();
  const binariesHash = sha256(fileHash(node) + fileHash(npm));
  const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim().slice(1);
  const path = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  const extraCa = hostExtraCa();
  ensure({
    name: BUILD_BASE,
    config: ['--env', path, '--env', `NODE_VERSION=${nodeVersion}`, ...(extraCa ? ['--env', `NODE_EXTRA_CA_CERTS=${HOST_CA_IN_IMAGE}`] : []), '--workingdir', '/', '--cmd', '["node"]', '--label', 'io.wsgate.standin=node:24-bookworm-slim'],
    inputs: ['minbase', NPM_VERSION, extraCa ? fileHash(extraCa) : 'no extra CA'],
    assemble: (root) => assembleBuildBase(root, node, npm),
  }, binariesHash);
  ensure({
    name: RUNTIME_BASE,
    config: ['--env', path, '--env', 'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt', '--user', '65532', '--workingdir', '/home/nonroot', '--entrypoint', '["/nodejs/bin/node"]', '--cmd', '[]', '--label', 'io.wsgate.standin=distroless/nodejs24-debian12:nonroot'],
    inputs: ['extract'],
    assemble: (root) => assembleRuntimeBase(root, node),
  }, binariesHash);
}

// There is no Docker engine on these machines, so the image is checked by its recipe: what a
// `docker build .` would produce, and what it would need from the build context.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helm/render.ts';
import { DATA_PLANE_V8_FLAGS } from '../../src/runtime/v8-flags.ts';

interface Instruction { keyword: string; args: string; line: number }
interface Stage { from: string; name?: string; instructions: Instruction[] }

/** Dockerfile instructions, with `\` continuations joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending !== '' && line.startsWith('#')) return;
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = pending + line;
    pending = '';
    const m = /^(\S+)\s*(.*)$/.exec(full);
    if (m) out.push({ keyword: (m[1] as string).toUpperCase(), args: m[2] as string, line: start });
  });
  return out;
}

function stages(instructions: Instruction[]): Stage[] {
  const out: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      assert.ok(m, `FROM ${ins.args}`);
      out.push({ from: m[1] as string, name: m[2], instructions: [] });
    } else {
      out.at(-1)?.instructions.push(ins);
    }
  }
  return out;
}

/** The `.dockerignore` patterns that exclude a top-level path (enough for this repo's flat rules). */
function ignored(path: string, patterns: string[]): boolean {
  let result = false;
  for (const p of patterns) {
    const negate = p.startsWith('!');
    const pattern = negate ? p.slice(1) : p;
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/.*)?$`);
    if (re.test(path)) result = !negate;
  }
  return result;
}

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const all = stages(parseDockerfile(dockerfile));
const final = all.at(-1) as Stage;
const dockerignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };

function only(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

describe('Dockerfile', () => {
  it('builds on Node 24 and runs on a distroless Node 24 base', () => {
    assert.ok(all.length >= 2, 'multi-stage');
    for (const s of all.slice(0, -1)) assert.match(s.from, /^node:24(\.\d+)*-bookworm-slim(@sha256:[a-f0-9]{64})?$/, s.from);
    assert.match(final.from, /^gcr\.io\/distroless\/nodejs24-debian12:nonroot(@sha256:[a-f0-9]{64})?$/);
    assert.ok(all.every((s) => !/:latest\b/.test(s.from)), 'no floating :latest');
  });

  it('runs nothing in the final stage, which has no shell to run it with', () => {
    assert.deepEqual(only(final, 'RUN'), []);
    for (const ins of [...only(final, 'ENTRYPOINT'), ...only(final, 'CMD')]) {
      assert.ok(ins.args.startsWith('['), `${ins.keyword} at line ${ins.line} must use the exec (JSON) form`);
      JSON.parse(ins.args);
    }
  });

  it('starts the package\'s bin with Node as PID 1', () => {
    const entrypoints = only(final, 'ENTRYPOINT');
    assert.equal(entrypoints.length, 1);
    const argv = JSON.parse((entrypoints[0] as Instruction).args) as string[];
    // Between node and the bin: the data plane's V8 flags (src/runtime/v8-flags.ts), which only work on node's command line.
    assert.deepEqual(argv, ['/nodejs/bin/node', ...DATA_PLANE_V8_FLAGS, `/app/${pkg.bin.wsgate}`]);
    assert.equal(only(final, 'WORKDIR').at(-1)?.args, '/app');
  });

  it('switches to the non-root user', () => {
    const users = only(final, 'USER');
    assert.ok(users.length > 0);
    assert.match((users.at(-1) as Instruction).args, /^(nonroot|65532)(:(nonroot|65532))?$/);
  });

  it('installs production dependencies only, from the lock file, into what the final stage copies', () => {
    const runs = all.slice(0, -1).flatMap((s) => only(s, 'RUN')).map((r) => r.args);
    assert.ok(runs.some((r) => /npm ci\b[^&]*--omit=dev/.test(r)), 'npm ci --omit=dev');
    assert.ok(runs.some((r) => r.includes('npm run build')), 'npm run build');
    assert.equal(pkg.scripts.build?.startsWith('tsc'), true);
    const copies = only(final, 'COPY');
    assert.ok(copies.length > 0 && copies.every((c) => /--from=\S+/.test(c.args)), 'the final stage takes only built output');
  });

  it('carries the OCI labels', () => {
    const labels = only(final, 'LABEL').map((l) => l.args).join(' ');
    for (const key of ['title', 'description', 'licenses', 'source', 'version', 'revision']) {
      assert.match(labels, new RegExp(`org\\.opencontainers\\.image\\.${key}=`), key);
    }
  });

  it('exposes the ports of SPEC §3', () => {
    assert.deepEqual(only(final, 'EXPOSE').flatMap((e) => e.args.split(/\s+/)).sort(), ['8080', '8443', '9090']);
  });
});

describe('.dockerignore', () => {
  it('keeps local installs, builds and secrets out of the build context', () => {
    for (const path of ['node_modules', 'dist', '.git', '.env', 'wsgate-0.1.0.tgz']) assert.ok(ignored(path, dockerignore), path);
  });

  it('keeps in everything the build stage copies or reads', () => {
    const copied = all.slice(0, -1).flatMap((s) => only(s, 'COPY')).filter((c) => !c.args.includes('--from='));
    const sources = copied.flatMap((c) => c.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1)).filter((s) => s !== '.');
    for (const path of [...sources, 'src', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json']) {
      assert.ok(existsSync(join(repoRoot, path)), `${path} exists`);
      assert.ok(!ignored(path, dockerignore), `${path} is not ignored`);
    }
  });
});

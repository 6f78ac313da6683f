// The README documents the contract (SPEC.md): its annotation table is generated from the
// registry, and every flag, metric and failure reason the code knows is in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { annotationDocsMarkdown } from '../../src/annotations/registry.ts';
import { FAILURE_REASONS } from '../../src/metrics/metrics.ts';
import { FLAGS } from '../../src/commands/options.ts';

const README = new URL('../../README.md', import.meta.url);
const START = /<!-- annotations:start[^>]*-->\n/;
const END = '<!-- annotations:end -->';

test('the annotation table is the one the registry generates', async () => {
  const text = await readFile(README, 'utf8');
  const start = text.match(START);
  assert.ok(start && start.index !== undefined, 'README has the annotations:start marker');
  const from = start.index + start[0].length;
  const to = text.indexOf(END, from);
  assert.ok(to > 0, 'README has the annotations:end marker');
  const generated = `${annotationDocsMarkdown().trim()}\n`;
  if (process.env.UPDATE_DOCS === '1') {
    await writeFile(README, text.slice(0, from) + generated + text.slice(to));
    return;
  }
  assert.equal(text.slice(from, to), generated, 'run UPDATE_DOCS=1 npm test to regenerate');
});

test('every flag is documented', async () => {
  const text = await readFile(README, 'utf8');
  for (const flag of Object.keys(FLAGS)) {
    if (flag === 'help') continue;
    assert.ok(text.includes(`\`--${flag}\``), `--${flag} missing from README`);
  }
});

// The SPEC names metrics that open issues have yet to add; what the code registers must be both
// documented here and named by the SPEC, so neither side can drift.
test('every metric the code registers and every failure reason is documented, and the SPEC names each metric', async () => {
  const text = await readFile(README, 'utf8');
  const spec = await readFile(new URL('../../../shared/SPEC.md', import.meta.url), 'utf8').catch(() => undefined);
  const registered = new Set<string>();
  for (const file of await readdir(new URL('../../src/', import.meta.url), { recursive: true })) {
    if (!file.endsWith('.ts')) continue;
    const source = await readFile(new URL(`../../src/${file}`, import.meta.url), 'utf8');
    for (const [name] of source.matchAll(/'(wsgate_[a-z_]+)'/g)) registered.add(name.slice(1, -1));
  }
  assert.ok(registered.size >= 12, `only ${registered.size} metrics found in src/`);
  for (const name of registered) {
    assert.ok(text.includes(name), `${name} missing from README`);
    if (spec !== undefined) assert.ok(spec.includes(name), `${name} is not a SPEC §9 metric`);
  }
  for (const reason of FAILURE_REASONS) assert.ok(text.includes(`\`${reason}\``), `reason ${reason} missing from README`);
});

// The README documents the contract (SPEC.md): its annotation table is generated from the
// registry, and every flag, metric and failure reason the code knows is in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { annotationDocsMarkdown } from '../../src/annotations/registry.ts';
import { FAILURE_REASONS } from '../../src/metrics/metrics.ts';
import { FLAGS } from '../../src/options.ts';

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

test('every metric of SPEC §9 and every failure reason is documented', async () => {
  const text = await readFile(README, 'utf8');
  const spec = await readFile(new URL('../../../shared/SPEC.md', import.meta.url), 'utf8').catch(() => '');
  const names = new Set(spec.match(/wsgate_[a-z_]+/g) ?? []);
  for (const name of names) assert.ok(text.includes(name), `${name} missing from README`);
  for (const reason of FAILURE_REASONS) assert.ok(text.includes(`\`${reason}\``), `reason ${reason} missing from README`);
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/config/atomic-write.ts';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsgate-atomic-'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('writeFileAtomic replaces the file and leaves no temporary file behind', async () => {
  const folder = mkdtempSync(join(dir, 'atomic-'));
  const target = join(folder, 'snapshot.json');
  await writeFileAtomic(target, 'one');
  await writeFileAtomic(target, 'two');
  assert.equal(readFileSync(target, 'utf8'), 'two');
  assert.deepEqual(readdirSync(folder), ['snapshot.json']);
  // Private keys inside: not readable by other users.
  assert.equal(statSync(target).mode & 0o007, 0);
});

test('writeFileAtomic into a missing folder fails and creates nothing', async () => {
  await assert.rejects(writeFileAtomic(join(dir, 'no-such-folder', 'x.json'), 'x'), { code: 'ENOENT' });
});

test('a reader never sees a partial file while writes are going on', async () => {
  const folder = mkdtempSync(join(dir, 'race-'));
  const target = join(folder, 'snapshot.json');
  // Large enough that a non-atomic write would be seen half done.
  const versions = ['a', 'b', 'c'].map((letter) => JSON.stringify({ v: letter.repeat(1 << 20) }));
  await writeFileAtomic(target, versions[0]!);
  let writing = true;
  const writer = (async () => {
    for (let i = 1; i <= 30; i++) await writeFileAtomic(target, versions[i % versions.length]!);
    writing = false;
  })();
  let reads = 0;
  while (writing) {
    const seen = await readFile(target, 'utf8');
    assert.ok(versions.includes(seen), `read ${seen.length} characters that are no whole version`);
    reads++;
  }
  await writer;
  assert.ok(reads > 0);
  assert.deepEqual(readdirSync(folder), ['snapshot.json']);
});

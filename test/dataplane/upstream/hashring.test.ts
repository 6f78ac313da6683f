import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashRing, hash32 } from '../../../src/dataplane/upstream/hashring.ts';

const endpoints = (count: number, from = 1) => Array.from({ length: count }, (_, i) => `10.0.0.${from + i}:8080`);
const KEYS = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

function owners(members: string[], ring = new HashRing(members)): string[] {
  return KEYS.map((key) => members[ring.lookup(hash32(key))!]!);
}

function movedFraction(before: string[], after: string[]): number {
  let moved = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) moved += 1;
  return moved / before.length;
}

test('hash32 is deterministic, 32-bit and spreads near-identical inputs', () => {
  assert.equal(hash32('abc'), hash32('abc'));
  assert.notEqual(hash32('abc'), hash32('abd'));
  assert.equal(hash32(''), hash32(''));
  const buckets = new Array<number>(16).fill(0);
  for (let i = 0; i < 16_000; i++) {
    const h = hash32(`10.0.0.1:80#${i}`);
    assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32);
    buckets[h >>> 28]! += 1;
  }
  // 1000 expected per bucket; a weak hash over sequential suffixes piles them into a few.
  for (const count of buckets) assert.ok(count > 800 && count < 1200, `bucket ${count}`);
});

test('keys spread evenly over the members', () => {
  const members = endpoints(10);
  const counts = new Map<string, number>();
  for (const owner of owners(members)) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  assert.equal(counts.size, 10);
  for (const [member, count] of counts) assert.ok(count > 600 && count < 1400, `${member} has ${count} of 10000`);
});

test('adding one member to ten moves about a tenth of the keys, all to the new member', () => {
  const before = owners(endpoints(10));
  const grown = endpoints(11);
  const after = owners(grown);
  const fraction = movedFraction(before, after);
  assert.ok(fraction >= 0.05 && fraction <= 0.15, `moved ${fraction}`);
  for (let i = 0; i < KEYS.length; i++) if (before[i] !== after[i]) assert.equal(after[i], grown[10]);
});

test('removing one member moves only the keys it owned', () => {
  const members = endpoints(10);
  const before = owners(members);
  const removed = members[3]!;
  const after = owners(members.filter((m) => m !== removed));
  let moved = 0;
  for (let i = 0; i < KEYS.length; i++) {
    if (before[i] === removed) {
      assert.notEqual(after[i], removed);
      moved += 1;
    } else {
      assert.equal(after[i], before[i], `key ${KEYS[i]} moved though its owner stayed`);
    }
  }
  assert.ok(moved / KEYS.length >= 0.05 && moved / KEYS.length <= 0.15, `moved ${moved}`);
});

test('the order members are listed in does not change the ring', () => {
  const members = endpoints(8);
  const shuffled = [members[5]!, members[2]!, members[7]!, members[0]!, members[4]!, members[1]!, members[6]!, members[3]!];
  assert.deepEqual(owners(members), owners(shuffled));
});

test('a refused owner hands the key to the next distinct member clockwise, consistently', () => {
  const members = endpoints(5);
  const ring = new HashRing(members);
  for (const key of KEYS.slice(0, 500)) {
    const hash = hash32(key);
    const first = ring.lookup(hash)!;
    const second = ring.lookup(hash, (owner) => owner !== first)!;
    assert.notEqual(second, first);
    assert.equal(ring.lookup(hash, (owner) => owner !== first), second);
    const third = ring.lookup(hash, (owner) => owner !== first && owner !== second)!;
    assert.ok(third !== first && third !== second);
  }
});

test('an empty ring or one that refuses everything has no owner', () => {
  assert.equal(new HashRing([]).lookup(123), undefined);
  assert.equal(new HashRing(endpoints(3)).lookup(123, () => false), undefined);
  assert.equal(new HashRing(['only:1']).lookup(0xffffffff), 0);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { certificateBlocks, keyMatchesLeaf, parseCertificate, parsePrivateKey } from '../../src/grammar/pem-pair.ts';
import { makeCa, makeCert } from '../support/certs.ts';

test('a chain: every block parses, the leaf first; the key must serve the leaf', async () => {
  const ca = await makeCa();
  const leaf = await makeCert({ hosts: ['a.test'], ca, keySlot: 'leaf' });
  const other = await makeCert({ hosts: ['b.test'], keyType: 'rsa', keySlot: 'other' });
  const blocks = certificateBlocks(`${leaf.cert}\n${ca.cert}`);
  assert.equal(blocks.length, 2);
  const parsed = blocks.map(parseCertificate);
  assert.ok(parsed.every((p) => p.ok));
  const key = parsePrivateKey(leaf.key);
  const otherKey = parsePrivateKey(other.key);
  const first = parsed[0]!;
  assert.ok(key.ok && otherKey.ok && first.ok);
  assert.equal(keyMatchesLeaf(first.value, key.value), true);
  assert.equal(keyMatchesLeaf(first.value, otherKey.value), false);
  assert.deepEqual(certificateBlocks('not pem'), []);
});

test('what does not parse says why', () => {
  const broken = parseCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----');
  assert.equal(broken.ok, false);
  assert.equal(parsePrivateKey('garbage').ok, false);
  const encrypted = parsePrivateKey('-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----');
  assert.deepEqual(encrypted, { ok: false, reason: 'encrypted keys are not supported' });
});

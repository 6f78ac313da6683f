// SPEC §6 affinity key from --affinity-secret (providers/kubernetes/affinity-key.ts): the key goes
// into the snapshot normalised; a missing or short one leaves it out, with one warning per stretch
// without a key, not one at every translation (a cluster whose EndpointSlices change every
// second would otherwise log it every second).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { withAffinityKey } from '../../../src/providers/kubernetes/affinity-key.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const secret = (data?: Record<string, string>) => ({ metadata: { namespace: 'wsgate', name: 'wsgate-affinity' }, type: 'Opaque', ...(data ? { data } : {}) });

test('the Secret\'s affinity.key goes into the snapshot; without one of 16 bytes, none', () => {
  const snapshot = { version: 1 as const, routes: [], pools: [] };
  const key = Buffer.alloc(32, 7).toString('base64');
  assert.equal(withAffinityKey(snapshot, [secret({ 'affinity.key': key })], 'wsgate/wsgate-affinity').affinityKey, key);
  assert.equal(withAffinityKey(snapshot, [secret({ 'affinity.key': Buffer.alloc(8).toString('base64') })], 'wsgate/wsgate-affinity').affinityKey, undefined);
  assert.equal(withAffinityKey(snapshot, [], 'wsgate/wsgate-affinity').affinityKey, undefined);
  assert.equal(withAffinityKey(snapshot, [secret({ 'affinity.key': key })], undefined).affinityKey, undefined);
});

test('a missing key is warned about once, again only after it was found and lost', () => {
  const script = `
    import { withAffinityKey } from './src/providers/kubernetes/affinity-key.ts';
    const s = { version: 1, routes: [], pools: [] };
    const found = [{ metadata: { namespace: 'wsgate', name: 'k' }, data: { 'affinity.key': Buffer.alloc(32, 1).toString('base64') } }];
    for (const secrets of [[], [], [], found, found, [], []]) withAffinityKey(s, secrets, 'wsgate/k');
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, WSGATE_LOG_LEVEL: 'warn' } });
  const warnings = out.split('\n').filter((line) => line.includes('--affinity-secret has no affinity.key'));
  assert.equal(warnings.length, 2, out);
});

// The leader releases its Lease when it stops (SIGTERM in a roll): another replica takes over at
// its next retry, not after a whole lease duration with nobody writing status or Events. Against
// the test API server, with a lease duration long enough that an expiry could never pass for it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { systemClock } from '../../../../src/common/clock.ts';
import { setLogLevel } from '../../../../src/common/log.ts';
import { LeaderElector } from '../../../../src/providers/kubernetes/writers/leader.ts';
import { startApiServer, type ApiServer } from '../../../support/apiserver.ts';
import { writeKubeconfig } from '../../../support/kubeconfig.ts';
import { eventually } from '../../../support/proxy.ts';

setLogLevel('silent');

/** Ten minutes: a takeover within the test's bounds can only come from a release. */
const LEASE_MS = 600_000;

describe('LeaderElector.stop() releases the Lease', () => {
  let api: ApiServer;
  let dir: string;
  let kc: KubeConfig;

  before(async () => {
    api = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), 'wsgate-leader-'));
    kc = new KubeConfig();
    kc.loadFromFile(await writeKubeconfig(dir, api));
  });
  after(async () => {
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const lease = (name: string) => api.get('Lease', 'default', name)?.['spec'] as { holderIdentity?: string; leaseDurationSeconds?: number; leaseTransitions?: number } | undefined;
  const elector = (name: string, identity: string) =>
    new LeaderElector(kc, { namespace: 'default', name, identity, clock: systemClock, leaseDurationMs: LEASE_MS, renewIntervalMs: 100, retryIntervalMs: 100 });

  it('clears the holder on stop, and a waiting replica takes over at once', async () => {
    const a = elector('wsgate-release', 'pod-a');
    a.start();
    await eventually(() => a.leading, 'pod-a leads');
    const b = elector('wsgate-release', 'pod-b');
    b.start();
    await eventually(() => api.requests.filter((r) => r.resource === 'leases' && r.name === 'wsgate-release' && r.verb === 'get').length >= 6, 'pod-b tried a few rounds');
    assert.equal(b.leading, false, 'pod-a holds a ten-minute Lease');

    await a.stop();
    assert.equal(a.leading, false);
    const released = lease('wsgate-release');
    assert.ok(released?.holderIdentity === '' || b.leading, `holder cleared (was ${released?.holderIdentity})`);

    await eventually(() => b.leading, 'pod-b takes over the released Lease', 20_000);
    assert.equal(lease('wsgate-release')?.holderIdentity, 'pod-b');
    assert.equal(lease('wsgate-release')?.leaseDurationSeconds, LEASE_MS / 1000, 'the new holder writes its own duration');
    await b.stop();
    assert.equal(lease('wsgate-release')?.holderIdentity, '');
  });

  it('a follower that stops leaves the leader\'s Lease alone', async () => {
    const a = elector('wsgate-follower', 'pod-a');
    a.start();
    await eventually(() => a.leading, 'pod-a leads');
    const b = elector('wsgate-follower', 'pod-b');
    b.start();
    await eventually(() => api.requests.filter((r) => r.resource === 'leases' && r.name === 'wsgate-follower' && r.verb === 'get').length >= 4, 'pod-b tried');
    await b.stop();
    assert.equal(lease('wsgate-follower')?.holderIdentity, 'pod-a');
    assert.equal(a.leading, true);
    await a.stop();
  });
});
